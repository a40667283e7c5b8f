//! Shared helpers for the core tests.
#![allow(dead_code)]

pub mod intake;

use std::collections::BTreeMap;

use burn::prelude::*;
use fairscreen_core::format::{ModelCard, TrainingInfo};
use fairscreen_core::{ModelConfig, MultiExitCnn};

/// Three-class tiny config.
pub fn config() -> ModelConfig {
    ModelConfig::tiny(vec!["a".into(), "b".into(), "c".into()])
}

/// A complete card for `config`.
pub fn card(config: ModelConfig) -> ModelCard {
    ModelCard {
        format_version: 1,
        name: "test".into(),
        config,
        sensitive_attributes: vec!["skin_type".into()],
        default_theta: 0.8,
        theta_selection: None,
        pruning: None,
        fine_tuning: None,
        quantized_from: None,
        training: TrainingInfo {
            method: "me".into(),
            data: "unit test".into(),
            seed: 1,
            epochs: 0,
            train_images: 0,
            command: "none".into(),
        },
        metrics: BTreeMap::from([(fairscreen_core::card_keys::exit_accuracy(0), 0.5)]),
        quantization: "f32".into(),
        tensors_sha256: String::new(),
        disclaimer: "Not a diagnosis.".into(),
    }
}

/// A deterministic pseudo-random input batch `[b, 3, s, s]` as flat values.
pub fn inputs(b: usize, s: usize) -> Vec<Vec<f32>> {
    (0..b)
        .map(|i| {
            (0..3 * s * s)
                .map(|j| (((i * 7919 + j * 104729) % 1000) as f32 / 250.0) - 2.0)
                .collect()
        })
        .collect()
}

/// A folded model with seeded random weights on the CPU backend.
pub fn folded_model(seed: u64) -> MultiExitCnn {
    let device = Device::flex();
    device.seed(seed);
    MultiExitCnn::new(&config(), false, &device)
}

/// Rank-4 input tensor from flat inputs.
pub fn batch(inputs: &[Vec<f32>], s: usize) -> Tensor<4> {
    let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
    Tensor::from_data(
        TensorData::new(flat, [inputs.len(), 3, s, s]),
        &Device::flex(),
    )
}

/// Host values of a tensor.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .as_slice::<f32>()
        .unwrap()
        .to_vec()
}

/// Splits a file into (header JSON, data section).
pub fn split(bytes: &[u8]) -> (serde_json::Map<String, serde_json::Value>, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (
        serde_json::from_slice(&bytes[8..8 + n]).unwrap(),
        bytes[8 + n..].to_vec(),
    )
}

/// Rebuilds a file from a header and data, with a correct length prefix.
pub fn join(header: &serde_json::Map<String, serde_json::Value>, data: &[u8]) -> Vec<u8> {
    let h = serde_json::to_vec(header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out
}

/// SplitMix64 as the bootstrap draws with it (a copy: the old bootstrap's reference must draw the
/// same samples; the fuzz harness draws its mutations with it).
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64-bit draw.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A draw in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }
}
