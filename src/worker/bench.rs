//! The peer benchmark's measurements of FairScreen, inside the worker (driven by
//! `tests/bench/peer.html`, never by the app's page): one model on one backend over prepared
//! input tensors the benchmark sends, timed with `performance.now()`.

use fairscreen_core::exit::exit_policy;
use fairscreen_core::infer::LoadedModel;

use super::screen::now_ms;
use super::{assets, backend};
use crate::protocol::{BenchRequest, BenchResult};

/// The f32 values of little-endian bytes, as images of `per` values each.
fn images(bytes: &[u8], per: usize) -> Result<Vec<Vec<f32>>, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(4 * per) {
        return Err(format!(
            "the inputs are {} bytes, not a whole number of 3×S×S f32 images ({} bytes each)",
            bytes.len(),
            4 * per
        ));
    }
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(values.chunks_exact(per).map(<[f32]>::to_vec).collect())
}

/// Times `f` once, in milliseconds.
async fn timed<T, F: std::future::Future<Output = Result<T, String>>>(
    f: F,
) -> Result<(f64, T), String> {
    let start = now_ms();
    let out = f.await?;
    Ok((now_ms() - start, out))
}

/// Every exit's logits of one input (one pass, one read-back): what ORT's session returns.
async fn all_logits(model: &LoadedModel, input: &[f32]) -> Result<Vec<Vec<f32>>, String> {
    Ok(model
        .logits_async(&[input.to_vec()])
        .await
        .map_err(|e| e.to_string())?
        .sample(0))
}

/// Runs the benchmark of `request` over `inputs` (f32, little-endian, `[N, 3, S, S]`).
pub async fn run(request: BenchRequest, inputs: &[u8]) -> Result<BenchResult, String> {
    let cpu = request
        .cpu
        .then(|| "the benchmark asked for the CPU backend".to_string());
    let (device, info) = backend::pick_backend(cpu, |what| {
        log::error!("the benchmark's WebGPU device was {what}")
    })
    .await;
    if request.cpu != (info.kind == "cpu") {
        return Err(format!(
            "asked for {} but got {}",
            if request.cpu { "cpu" } else { "webgpu" },
            info.kind
        ));
    }
    let index = assets::asset_index("models").await?;
    let entry = index
        .assets
        .iter()
        .find(|e| e.name == request.model)
        .ok_or_else(|| format!("{} is not in models/index.json", request.model))?
        .clone();
    let (load_ms, model) = timed(assets::load_model(&device, info.shader_f16, &entry)).await?;
    let side = model.card.config.input_size;
    let images = images(inputs, 3 * side * side)?;
    let n = images.len();
    // The outputs to compare with native logits and with ORT's.
    let mut check_logits = Vec::new();
    for input in images.iter().take(request.check) {
        check_logits.push(all_logits(&model, input).await?);
    }
    for i in 0..request.warmup {
        all_logits(&model, &images[i % n]).await?;
    }
    let mut single_ms = Vec::with_capacity(request.runs);
    for i in 0..request.runs {
        single_ms.push(timed(all_logits(&model, &images[i % n])).await?.0);
    }
    // Early exit, as the page screens a photo (logits and maps of the exits computed): stage by
    // stage at θ against every exit in one pass, alternating which runs first.
    let theta = request.theta.unwrap_or(model.card.default_theta);
    let mut staged_ms = Vec::new();
    let mut every_exit_ms = Vec::new();
    let mut exits_computed = Vec::new();
    let mut policy_exits = Vec::new();
    for (i, input) in images.iter().take(request.early_exit_images).enumerate() {
        let staged = async {
            model
                .logits_and_maps_until_async(input, theta)
                .await
                .map_err(|e| e.to_string())
        };
        let every = async {
            model
                .logits_and_maps_async(input)
                .await
                .map_err(|e| e.to_string())
        };
        let ((t_staged, (logits, _)), (t_every, (all, _))) = if i % 2 == 0 {
            let s = timed(staged).await?;
            (s, timed(every).await?)
        } else {
            let e = timed(every).await?;
            (timed(staged).await?, e)
        };
        staged_ms.push(t_staged);
        every_exit_ms.push(t_every);
        exits_computed.push(logits.len());
        policy_exits.push(exit_policy(&all.sample(0), theta).exit);
    }
    // Throughput: every image, in batches of the app's audit size, logits of every exit.
    let start = now_ms();
    for chunk in images.chunks(request.batch.max(1)) {
        model.logits_async(chunk).await.map_err(|e| e.to_string())?;
    }
    let throughput_ms = now_ms() - start;
    Ok(BenchResult {
        backend: info,
        model: request.model,
        load_ms,
        images: n,
        check_logits,
        single_ms,
        theta,
        staged_ms,
        every_exit_ms,
        exits_computed,
        policy_exits,
        batch: request.batch,
        throughput_ms,
    })
}
