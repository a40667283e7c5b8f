//! What FairTune's run is about, shared by its steps: the sensitive attribute, the splits (selection
//! takes validation data only) and the run's settings.

use anyhow::{bail, Result};
use fairscreen_synth::SynthMeta;
use serde::{Deserialize, Serialize};

use super::fairtune_search::SearchSettings;
use crate::training::Dataset;

/// The sensitive attribute the objective and the report split on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Sensitive {
    /// Fitzpatrick I–III vs IV–VI.
    Skin,
    /// Female vs male.
    Sex,
    /// Fitzpatrick I to VI, six groups.
    Skin6,
}

impl Sensitive {
    /// The group id of a sample.
    pub fn group(self, m: &SynthMeta) -> usize {
        match self {
            Sensitive::Skin => usize::from(m.skin_type >= 4),
            Sensitive::Sex => m.sex as usize,
            Sensitive::Skin6 => m.skin_type as usize - 1,
        }
    }

    /// The groups' names, by id.
    pub fn group_names(self) -> Vec<String> {
        match self {
            Sensitive::Skin => vec!["Fitzpatrick I–III".into(), "Fitzpatrick IV–VI".into()],
            Sensitive::Sex => fairscreen_synth::SEX_NAMES.map(String::from).to_vec(),
            Sensitive::Skin6 => ["I", "II", "III", "IV", "V", "VI"]
                .map(|r| format!("Fitzpatrick {r}"))
                .to_vec(),
        }
    }

    /// The attribute in words.
    pub fn describe(self) -> &'static str {
        match self {
            Sensitive::Skin => "skin group: Fitzpatrick I–III vs IV–VI",
            Sensitive::Sex => "sex: female vs male",
            Sensitive::Skin6 => "skin type: Fitzpatrick I to VI",
        }
    }
}

/// Which split a dataset is: selection code takes validation data only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Fine-tuning data.
    Train,
    /// Selection data: masks, learning rates, θ.
    Validation,
    /// Reported once per model; never selects anything.
    Test,
}

/// A dataset with its split.
pub struct SplitData {
    /// Which split.
    pub split: Split,
    /// The images.
    pub data: Dataset,
}

impl SplitData {
    /// The data, when it is the validation split; selection code calls this.
    pub fn for_selection(&self) -> Result<&Dataset> {
        if self.split != Split::Validation {
            bail!(
                "selection was handed the {:?} split: masks, learning rates and θ are chosen on validation only",
                self.split
            );
        }
        Ok(&self.data)
    }
}

/// The run's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FairtuneSettings {
    /// Seed: target training data; validation seed + 1; source clinic seed + 10.
    pub seed: u64,
    /// Source-clinic images for pretraining.
    pub source_images: usize,
    /// Pretraining epochs.
    pub source_epochs: usize,
    /// Target training images.
    pub train_images: usize,
    /// Validation images.
    pub val_images: usize,
    /// Test images.
    pub test_images: usize,
    /// Stage-2 seeds per configuration.
    pub stage2_seeds: usize,
    /// Stage 2's fixed learning rate.
    pub stage2_lr: f64,
    /// The sensitive attribute.
    pub sensitive: Sensitive,
    /// Both searches' settings.
    pub search: SearchSettings,
    /// The source clinic's generator settings.
    pub source_distribution: serde_json::Value,
}
