//! Screening one photo and auditing the evaluation subset, inside the worker.

use fairscreen_core::cam::{
    class_activation_map, group_lesion_focus, group_mean_heat, heat_image, heatmap_overlay,
    positive_unit, upsample, ClassMap,
};
use fairscreen_core::exit::{argmax, softmax};
use fairscreen_core::exit_analysis::skin_groups;
use fairscreen_core::infer::LoadedModel;
use fairscreen_core::preprocess::{decode_image, encode_png, square_resize, to_input};
use fairscreen_core::EvalBundle;
use image::RgbImage;
use wasm_bindgen::JsCast;

use crate::protocol::{GroupHeat, PhotoResult, WireMap};

/// Display scale of a photo's heatmap over the model's input.
const HEATMAP_SCALE: u32 = 4;
/// Opacity of the hottest heatmap pixel over the photo.
const HEATMAP_ALPHA: f32 = 0.6;
/// Display side of a group's mean heatmap, in pixels (about).
const GROUP_HEAT_SIDE: usize = 96;

/// A PNG as a `data:` URL for an `<img>`.
pub fn png_data_url(png: &[u8]) -> String {
    use base64::Engine;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// `cam` over `image` (positive part, scaled to its maximum, upsampled) as a PNG data URL.
fn overlay_url(image: &RgbImage, cam: &ClassMap) -> String {
    let heat = positive_unit(&upsample(cam, image.width() as usize));
    png_data_url(&encode_png(&heatmap_overlay(
        image,
        &heat,
        HEATMAP_ALPHA,
        HEATMAP_SCALE,
    )))
}

/// Milliseconds since the worker started (`performance.now()`, sub-millisecond where the
/// browser allows).
pub fn now_ms() -> f64 {
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|scope| scope.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Decodes, prepares and classifies one photo: stage by stage, stopping at the exit that fires
/// at `stop_at` (the stages after it are never computed), or every exit in one pass when
/// `stop_at` is `None`; each exit computed gets its class activation map for the class it
/// predicts, also drawn over the photo as the model saw it. `full_network_ms` is left `None`
/// for the caller (it knows the model's history).
pub async fn screen(
    model: &LoadedModel,
    file: &str,
    bytes: &[u8],
    stop_at: Option<f32>,
) -> Result<PhotoResult, String> {
    let config = &model.card.config;
    let prepare_start = now_ms();
    let decoded = decode_image(bytes).map_err(|e| e.to_string())?;
    let image = square_resize(&decoded, config.input_size as u32);
    drop(decoded);
    let input = to_input(&image, config);
    let start = now_ms();
    let prepare_ms = start - prepare_start;
    let (logits, maps) = match stop_at {
        Some(theta) => model.logits_and_maps_until_async(&input, theta).await,
        None => model
            .logits_and_maps_async(&input)
            .await
            .map(|(l, m)| (l.sample(0), m)),
    }
    .map_err(|e| e.to_string())?;
    let model_ms = now_ms() - start;
    if logits.iter().flatten().any(|v| !v.is_finite()) {
        return Err("the model produced non-finite logits on this backend".into());
    }
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
            class_activation_map(&maps[e], weights, class).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let overlays = cams.iter().map(|c| overlay_url(&image, c)).collect();
    Ok(PhotoResult {
        file: file.to_string(),
        exits: config.num_exits(),
        logits,
        cams: cams.into_iter().map(WireMap::from).collect(),
        overlays,
        stopped_at: stop_at,
        model_ms,
        full_network_ms: None,
        prepare_ms,
        worker_memory_bytes: wasm_memory_bytes(),
    })
}

/// Size of this wasm instance's linear memory in bytes.
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
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
                let scale = (GROUP_HEAT_SIDE / mean.width.max(1)) as u32;
                out.push(GroupHeat {
                    image: png_data_url(&encode_png(&heat_image(&mean, scale))),
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
