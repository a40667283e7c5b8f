//! `export-onnx`: a model file as ONNX (opset 13, every exit an output) for other runtimes.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// `fairscreen-train export-onnx`.
#[derive(clap::Args)]
pub struct ExportOnnxArgs {
    /// Model file (an int8 or f16 file exports its weights as f32).
    #[arg(long, default_value = "www/models/tiny-fair-me.safetensors")]
    model: PathBuf,
    /// ONNX file to write.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `export-onnx`.
pub fn run(a: ExportOnnxArgs) -> Result<()> {
    let file = fairscreen_core::read_model(
        &std::fs::read(&a.model).with_context(|| format!("reading {}", a.model.display()))?,
    )
    .with_context(|| a.model.display().to_string())?;
    if file.card.quantization != fairscreen_core::quant::F32 {
        eprintln!(
            "note: {} is {}; the ONNX file holds its weights as f32",
            a.model.display(),
            file.card.quantization
        );
    }
    let bytes = crate::onnx::export(&file.card, &file.tensors)?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&a.out, &bytes).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} ({} bytes; outputs {})",
        a.out.display(),
        bytes.len(),
        crate::onnx::output_names(file.card.config.num_exits()).join(", ")
    );
    Ok(())
}
