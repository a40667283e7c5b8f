//! A FairTune model's fine-tuning mask as a picture of the network: per stage, each conv unit's
//! BatchNorm and convolution, the stage's exit head, then the final head — each marked trained or
//! frozen (in words, not only in colour).

use fairscreen_core::format::FineTuningInfo;
use fairscreen_core::peft::PeftGroup;
use fairscreen_core::ModelConfig;
use leptos::prelude::*;

/// One cell of the picture: its label and whether it trained.
fn cell(label: String, trains: bool) -> impl IntoView {
    let (class, word) = if trains {
        ("mask-cell trains", "trained")
    } else {
        ("mask-cell frozen", "frozen")
    };
    view! {
        <td class=class data-trains=trains.to_string()>
            {label}
            <br />
            <small>{word}</small>
        </td>
    }
}

/// The sentence above the picture: what was searched, on what, and what won.
pub fn fine_tuning_summary(f: &FineTuningInfo, config: &ModelConfig) -> String {
    let trained = f.mask.trainable(config).len();
    format!(
        "starts from {}; {trained} of {} parameter groups trainable (and the final head), lr {:.5}; \
         validation {} {:.4}. {}",
        f.pretrained,
        f.mask.bits.len(),
        f.lr,
        f.objective,
        f.validation_value,
        f.selection
    )
}

/// The mask picture (`#card-mask`): one row per stage.
#[component]
pub fn PeftMaskPicture(fine_tuning: FineTuningInfo, config: ModelConfig) -> impl IntoView {
    let rows = (0..config.widths.len())
        .map(|stage| {
            let units = (0..config.convs_per_stage)
                .map(|unit| {
                    let norm = fine_tuning
                        .mask
                        .trains(&config, PeftGroup::Norm { stage, unit });
                    let conv = fine_tuning
                        .mask
                        .trains(&config, PeftGroup::Conv { stage, unit });
                    view! {
                        {cell(format!("unit {} BN", unit + 1), norm)}
                        {cell(format!("unit {} conv", unit + 1), conv)}
                    }
                })
                .collect::<Vec<_>>();
            let exit = match config.exit_stages.iter().position(|s| *s == stage) {
                Some(e) => cell(
                    format!("exit {}", e + 1),
                    fine_tuning
                        .mask
                        .trains(&config, PeftGroup::Exit { exit: e }),
                )
                .into_any(),
                None if stage + 1 == config.widths.len() => {
                    cell("final head".into(), true).into_any()
                }
                None => view! { <td class="mask-cell">"no exit"</td> }.into_any(),
            };
            view! {
                <tr>
                    <th scope="row">{format!("stage {}", stage + 1)}</th>
                    {units}
                    {exit}
                </tr>
            }
        })
        .collect::<Vec<_>>();
    view! {
        <table id="card-mask" class="peft-mask">
            <caption>"Which parts of the network were fine-tuned"</caption>
            {rows}
        </table>
    }
}
