//! Parameter-efficient fine-tuning masks for our multi-exit CNN (FairTune, papers.md §4.2): one
//! bit per parameter group — each conv unit's convolution (weights and bias) and, separately, its
//! BatchNorm affine parameters, and each internal exit head as a whole — with the final head
//! always trainable, as in the paper. Per unit [norm, conv] is the analogue of the reference
//! code's `auto_peft2` (per ViT block [norm1, attn, norm2, mlp]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ModelConfig;

/// One group of parameters that a mask bit trains or freezes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeftGroup {
    /// The convolution (weights and bias) of conv unit `unit` of stage `stage`.
    Conv {
        /// Stage (0-based).
        stage: usize,
        /// Unit within the stage (0-based).
        unit: usize,
    },
    /// The BatchNorm affine parameters (γ, β) of conv unit `unit` of stage `stage`.
    Norm {
        /// Stage (0-based).
        stage: usize,
        /// Unit within the stage (0-based).
        unit: usize,
    },
    /// Internal exit head `exit` (its conv unit, BatchNorm and linear layer), shallow to deep.
    Exit {
        /// Exit index (0-based, internal exits only).
        exit: usize,
    },
}

impl fmt::Display for PeftGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeftGroup::Conv { stage, unit } => write!(f, "stages.{stage}.{unit}.conv"),
            PeftGroup::Norm { stage, unit } => write!(f, "stages.{stage}.{unit}.bn"),
            PeftGroup::Exit { exit } => write!(f, "exits.{exit}"),
        }
    }
}

/// Every maskable group of `config`'s network in bit order: per stage, per unit, its norm then
/// its conv; then the internal exit heads, shallow to deep.
pub fn peft_groups(config: &ModelConfig) -> Vec<PeftGroup> {
    let mut groups = Vec::new();
    for stage in 0..config.widths.len() {
        for unit in 0..config.convs_per_stage {
            groups.push(PeftGroup::Norm { stage, unit });
            groups.push(PeftGroup::Conv { stage, unit });
        }
    }
    groups.extend((0..config.exit_stages.len()).map(|exit| PeftGroup::Exit { exit }));
    groups
}

/// A mask whose length does not match the network's groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskLengthError {
    /// Bits given.
    pub bits: usize,
    /// Groups of the network.
    pub groups: usize,
}

impl fmt::Display for MaskLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a fine-tuning mask of {} bits for a network of {} groups",
            self.bits, self.groups
        )
    }
}

impl std::error::Error for MaskLengthError {}

/// Which groups train (true) and which stay frozen, in [`peft_groups`] order; the final head
/// always trains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeftMask {
    /// One bit per group of [`peft_groups`].
    pub bits: Vec<bool>,
}

impl PeftMask {
    /// A mask over `config`'s groups from `bits` (checked against the group count).
    pub fn new(config: &ModelConfig, bits: Vec<bool>) -> Result<Self, MaskLengthError> {
        let groups = peft_groups(config).len();
        if bits.len() != groups {
            return Err(MaskLengthError {
                bits: bits.len(),
                groups,
            });
        }
        Ok(Self { bits })
    }

    /// Every group trains: full fine-tuning.
    pub fn all(config: &ModelConfig) -> Self {
        Self {
            bits: vec![true; peft_groups(config).len()],
        }
    }

    /// Only the final head trains: linear readout.
    pub fn head_only(config: &ModelConfig) -> Self {
        Self {
            bits: vec![false; peft_groups(config).len()],
        }
    }

    /// Whether `group` of `config`'s network trains under this mask (false for a group the
    /// network does not have).
    pub fn trains(&self, config: &ModelConfig, group: PeftGroup) -> bool {
        peft_groups(config)
            .iter()
            .position(|g| *g == group)
            .is_some_and(|i| self.bits.get(i).copied().unwrap_or(false))
    }

    /// The groups that train, in bit order.
    pub fn trainable(&self, config: &ModelConfig) -> Vec<PeftGroup> {
        peft_groups(config)
            .into_iter()
            .zip(&self.bits)
            .filter(|(_, b)| **b)
            .map(|(g, _)| g)
            .collect()
    }

    /// The bits as a string of `1` (trains) and `0` (frozen), in bit order.
    pub fn bit_string(&self) -> String {
        self.bits
            .iter()
            .map(|b| if *b { '1' } else { '0' })
            .collect()
    }
}
