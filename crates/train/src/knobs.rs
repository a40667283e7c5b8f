//! SynthDerm's generator settings on the command line, shared by `synth`, `eval-bundle` and
//! `train`.

use anyhow::Result;
use fairscreen_synth::{BiasKnobs, SynthConfig};

/// Generator settings shared by `synth`, `eval-bundle` and `train`.
#[derive(clap::Args, Clone, Debug)]
pub struct KnobArgs {
    /// Image side in pixels (64 is the browser model's input).
    #[arg(long, default_value_t = fairscreen_synth::DEFAULT_SIDE)]
    pub side: u32,
    /// Turn every bias off (balanced groups, constant contrast, no class-linked cues, clean labels).
    #[arg(long)]
    pub no_bias: bool,
    /// Override: share of Fitzpatrick I–III (default 0.75 for train/val, 0.5 for test).
    #[arg(long)]
    pub light_share: Option<f64>,
    /// Override: relative lesion-contrast loss from type I to VI (default 0.5).
    #[arg(long)]
    pub contrast_drop: Option<f64>,
    /// Override: P(artefact | malignant, I–III) (default 0.5).
    #[arg(long)]
    pub artefact_malignant_light: Option<f64>,
    /// Override: P(artefact) elsewhere (default 0.05).
    #[arg(long)]
    pub artefact_base: Option<f64>,
    /// Override: P(erythema halo | malignant, male) (default 0.3).
    #[arg(long)]
    pub halo_malignant_male: Option<f64>,
    /// Override: P(erythema halo) elsewhere (default 0.05).
    #[arg(long)]
    pub halo_base: Option<f64>,
    /// Override: label-noise rate (default 0.05 for train/val, 0 for test).
    #[arg(long)]
    pub label_noise: Option<f64>,
}

impl KnobArgs {
    /// `base` with the side and every override applied, validated.
    pub fn apply(&self, mut base: SynthConfig) -> Result<SynthConfig> {
        base.side = self.side;
        if self.no_bias {
            base.knobs = BiasKnobs::off();
        }
        let k = &mut base.knobs;
        for (field, v) in [
            (&mut k.light_share, self.light_share),
            (&mut k.contrast_drop, self.contrast_drop),
            (
                &mut k.artefact_malignant_light,
                self.artefact_malignant_light,
            ),
            (&mut k.artefact_base, self.artefact_base),
            (&mut k.halo_malignant_male, self.halo_malignant_male),
            (&mut k.halo_base, self.halo_base),
            (&mut k.label_noise, self.label_noise),
        ] {
            if let Some(v) = v {
                *field = v;
            }
        }
        base.validate().map_err(anyhow::Error::msg)?;
        Ok(base)
    }
}
