//! The heatmap of the exit that fired, over the photo as the model saw it.

use fairscreen_core::cam::ClassMap;
use fairscreen_core::exit::{exit_name_as, ExitDecision, ExitNaming};
use leptos::prelude::*;

use crate::state::{ModelState, PhotoState};

/// The caption: what the map shows and how exact it is.
fn caption(exit: String, class: &str, cam: &ClassMap) -> String {
    format!(
        "Where {exit} found evidence for “{class}”: the class activation map of its {}×{} maps, \
         upsampled. Red is the strongest positive evidence; only positive evidence is shown, \
         scaled to its maximum. This head pools its maps and applies a linear layer, so the map \
         is exact: its mean plus the class bias is the logit. A heatmap explains the model, not \
         the lesion.",
        cam.height, cam.width
    )
}

/// The heatmap (`#heatmap`): the class activation map of the exit that fired, for the class it
/// predicted, over the photo as the model saw it; follows θ like the prediction.
#[component]
pub fn Heatmap(photo: PhotoState, models: ModelState) -> impl IntoView {
    let cam = Memo::new(move |_| {
        let r = photo.result.get()?;
        let d = r.decision(photo.theta.get())?;
        let cam: ClassMap = r.cams.get(d.exit)?.clone().into();
        let image = r.overlays.get(d.exit)?.clone();
        Some((d, cam, image, r.exits))
    });
    let data_url = move || cam.with(|c| c.as_ref().map(|(_, _, url, _)| url.clone()));
    let text = move || {
        cam.with(|c| {
            let (d, cam, _, exits) = c.as_ref()?;
            let class = models
                .card
                .get()
                .and_then(|c| c.config.class_names.get(d.class).cloned())
                .unwrap_or_else(|| format!("class {}", d.class));
            Some(caption(
                exit_name_as(ExitNaming::Sentence, d.exit, *exits),
                &class,
                cam,
            ))
        })
    };
    let attr = move |f: fn(&(ExitDecision, ClassMap, String, usize)) -> String| {
        cam.with(|c| c.as_ref().map(f).unwrap_or_default())
    };
    view! {
        <section
            id="heatmap"
            class="panel"
            class:hidden=move || cam.with(|c| c.is_none())
            data-exit=move || attr(|(d, _, _, _)| d.exit.to_string())
            data-class=move || attr(|(d, _, _, _)| d.class.to_string())
            data-cam=move || attr(|(_, c, _, _)| serde_json::to_string(&c.values).unwrap_or_default())
        >
            <h2>"Heatmap"</h2>
            <img class="heatmap" alt="Class activation map over the photo" src=data_url />
            <p class="hint">{text}</p>
        </section>
    }
}
