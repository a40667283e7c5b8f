//! What training is given: the data in model-input form, the objective (the fair multi-exit
//! paper's methods, papers.md §2.2), the backend, the augmentation and the hyper-parameters.

use burn::prelude::Device;
use fairscreen_core::peft::PeftMask;
use fairscreen_core::{ConvLayer, MultiExitCnn};

use anyhow::{bail, Result};

/// A labelled image set already in model-input form (`[3, S, S]` per image).
pub struct Dataset {
    /// Normalised CHW inputs.
    pub inputs: Vec<Vec<f32>>,
    /// Class labels.
    pub labels: Vec<usize>,
    /// Sensitive-group id per image (e.g. 0 = Fitzpatrick I–III, 1 = IV–VI).
    pub groups: Vec<usize>,
}

/// The training objective (papers.md §2.2).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Method {
    /// Cross-entropy at the final head only (internal exits untrained).
    Baseline,
    /// Cross-entropy at every exit.
    Me,
    /// Final-head CE + λ·Σ_class HSIC(final features, group).
    Hsic,
    /// At every exit: CE + λ·Σ_class HSIC(exit features, group).
    MeHsic,
    /// Final-head CE + α·MMD(final features, teacher's) (needs a teacher).
    Mfd,
    /// At every exit: w·(CE + α·MMD(exit features, teacher's)) (needs a teacher).
    MeMfd,
}

impl Method {
    /// Whether every exit is trained (else only the final head).
    pub fn all_exits(self) -> bool {
        matches!(self, Method::Me | Method::MeHsic | Method::MeMfd)
    }

    /// Whether a teacher model is needed.
    pub fn needs_teacher(self) -> bool {
        matches!(self, Method::Mfd | Method::MeMfd)
    }

    /// Human-readable description for the model card.
    pub fn describe(self, o: &TrainOptions) -> String {
        let w = if o.exit_weights.iter().all(|w| *w == 1.0) {
            "equal weights".to_string()
        } else {
            let w: Vec<String> = o.exit_weights.iter().map(|w| format!("{w:.2}")).collect();
            format!("exit weights [{}]", w.join(", "))
        };
        let probes = if o.probe_exits && !self.all_exits() {
            "; internal exits trained as probes on detached features"
        } else {
            ""
        };
        let text: String = match self {
            Method::Baseline => "baseline (cross-entropy at the final head only)".into(),
            Method::Me => format!("me (cross-entropy at every exit, {w})"),
            Method::Hsic => format!("hsic (final-head CE + λ={} · class-conditional HSIC with the sensitive group)", o.lambda),
            Method::MeHsic => format!("me-hsic (at every exit: CE + λ={} · class-conditional HSIC with the sensitive group)", o.lambda),
            Method::Mfd => format!("mfd (final-head CE + α={} · MMD to a CE-trained teacher, w_m={}, σ={})", o.alpha, o.mmd_w_m, o.mmd_sigma),
            Method::MeMfd => format!("me-mfd (at every exit: CE + α={} · MMD to a CE-trained teacher, {w})", o.alpha),
        };
        text + probes
    }
}

/// Training hyper-parameters.
pub struct TrainOptions {
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Epochs between ×0.1 learning-rate steps.
    pub lr_step: usize,
    /// Random seed (init, shuffling, augmentation).
    pub seed: u64,
    /// Objective.
    pub method: Method,
    /// Weight of each exit's loss, shallow to deep (ME methods).
    pub exit_weights: Vec<f32>,
    /// HSIC weight λ (0.5 in the FME code).
    pub lambda: f64,
    /// MMD weight α (0.02 in the FME code).
    pub alpha: f64,
    /// MMD's w_m (5 in the FME code).
    pub mmd_w_m: f64,
    /// MMD's σ_base (0.5 in the FME code).
    pub mmd_sigma: f64,
    /// Draw batches with probability ∝ 1/class count (the FME code's WeightedRandomSampler).
    pub class_balanced: bool,
    /// Training augmentation.
    pub augment: Augment,
    /// Methods that train the final head only also train the internal exits as probes: CE on
    /// detached stage maps, so the backbone is trained exactly as the method says and every
    /// exit can still be evaluated.
    pub probe_exits: bool,
    /// Progress display shared by models trained concurrently (else a bar of its own).
    pub progress: Option<indicatif::MultiProgress>,
    /// Prefix of the progress bar and log lines (e.g. the method).
    pub label: String,
    /// Backend that trains (the returned model is always on the CPU backend).
    pub backend: Backend,
    /// Start from this model (trainable or BN-folded) instead of a fresh initialisation:
    /// fine-tuning.
    pub init: Option<MultiExitCnn>,
    /// Output filters held at zero throughout (mask-mode pruning, as the SCP code's
    /// `custom_from_mask`): re-zeroed after every step, biases left free.
    pub masks: Vec<(ConvLayer, Vec<usize>)>,
    /// Masked fine-tuning (FairTune): only the groups this mask trains (and the final head) are
    /// updated, and only their exits' losses count.
    pub peft: Option<PeftMask>,
}

/// The backend that trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// burn's flex CPU backend.
    Cpu,
    /// wgpu on the default GPU adapter (needs the crate's `wgpu` feature).
    Wgpu,
}

impl Backend {
    /// The (non-autodiff) device, or why it is unavailable.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(Default::default())),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => bail!(
                "this fairscreen-train was built without the `wgpu` feature: \
                 cargo build --release -p fairscreen-train --features wgpu"
            ),
        }
    }
}

/// Training augmentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Augment {
    /// None.
    None,
    /// Random horizontal and vertical flips.
    Flips,
    /// Flips, a random 90° rotation, brightness and saturation jitter.
    Full,
}

impl TrainOptions {
    /// Defaults of the FME code where they apply, scaled to our small data (see README).
    pub fn new(method: Method, epochs: usize, seed: u64, exits: usize) -> Self {
        Self {
            epochs,
            batch_size: 64,
            lr: 0.05,
            lr_step: 7,
            seed,
            method,
            exit_weights: vec![1.0; exits],
            lambda: 0.5,
            alpha: 0.02,
            mmd_w_m: 5.0,
            mmd_sigma: 0.5,
            class_balanced: true,
            augment: Augment::Full,
            probe_exits: true,
            progress: None,
            label: String::new(),
            backend: Backend::Cpu,
            init: None,
            masks: Vec::new(),
            peft: None,
        }
    }
}

/// Per-epoch mean loss of each exit's full term (CE plus any fairness term), for the log and tests.
pub type EpochLosses = Vec<Vec<f64>>;
