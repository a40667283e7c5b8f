//! Screening one photo and auditing the evaluation subset, inside the worker.

use fairscreen_core::cam::{class_activation_map, group_lesion_focus, group_mean_heat, ClassMap};
use fairscreen_core::exit::{argmax, softmax};
use fairscreen_core::exit_analysis::skin_groups;
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::preprocess::{decode_image, square_resize, to_input};
use fairscreen_core::EvalBundle;

use crate::protocol::{GroupHeat, PhotoResult, WireMap};

/// Decodes, prepares and classifies one photo: logits of every exit, each exit's class
/// activation map for the class it predicts, and the photo as the model saw it.
pub async fn screen(model: &LoadedModel, file: &str, bytes: &[u8]) -> Result<PhotoResult, String> {
    let config = &model.card.config;
    let decoded = decode_image(bytes).map_err(|e| e.to_string())?;
    let image = square_resize(&decoded, config.input_size as u32);
    let input = to_input(&image, config);
    let (logits, maps) = model
        .logits_and_maps_async(&input)
        .await
        .map_err(|e| e.to_string())?;
    if logits.exits.iter().flatten().any(|v| !v.is_finite()) {
        return Err("the model produced non-finite logits on this backend".into());
    }
    let logits = logits.sample(0);
    let cams = logits
        .iter()
        .enumerate()
        .map(|(e, l)| {
            // The class the early-exit policy would report at this exit (softmax argmax).
            let class = argmax(&softmax(l));
            let weights = model
                .exit_weights
                .get(e)
                .ok_or_else(|| format!("the model has no weights for exit {e}"))?;
            class_activation_map(&maps[e], weights, class)
                .map(WireMap::from)
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PhotoResult {
        file: file.to_string(),
        logits,
        cams,
        side: image.width(),
        rgb: image.into_raw(),
    })
}

/// Mean final-head heatmaps per skin group (I–III / IV–VI) and per Fitzpatrick type, with the
/// share of heat on the lesion when the subset has lesion masks.
pub fn group_heat(bundle: &EvalBundle, cams: &[ClassMap]) -> Result<Vec<GroupHeat>, String> {
    let skin = skin_groups(&bundle.skin_types);
    let types: Vec<usize> = bundle
        .skin_types
        .iter()
        .map(|t| usize::from(*t).wrapping_sub(1))
        .collect();
    let side = bundle.card.side as usize;
    let mut out = Vec::new();
    for (labels, names) in [
        (&skin, vec!["I–III".to_string(), "IV–VI".to_string()]),
        (&types, (1..=6).map(|t| format!("type {t}")).collect()),
    ] {
        let means = group_mean_heat(cams, labels, names.len()).map_err(|e| e.to_string())?;
        let focus = match &bundle.lesion_masks {
            Some(masks) => group_lesion_focus(cams, masks, side, labels, names.len())
                .map_err(|e| e.to_string())?,
            None => vec![None; names.len()],
        };
        for (g, ((mean, group), focus)) in means.into_iter().zip(names).zip(focus).enumerate() {
            if let Some(mean) = mean {
                out.push(GroupHeat {
                    group,
                    images: labels.iter().filter(|&&l| l == g).count(),
                    mean: mean.into(),
                    lesion_share: focus.as_ref().map(|f| f.share),
                    lesion_area: focus.as_ref().map(|f| f.area),
                });
            }
        }
    }
    Ok(out)
}
