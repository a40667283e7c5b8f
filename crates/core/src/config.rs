//! The architecture description: [`ModelConfig`] (stored in every model card: everything needed
//! to rebuild the network, with the names and shapes of its tensors) and [`ConvLayer`], the
//! address of one conv unit of it. Each check fails with its own error.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Architecture description stored in the model card; everything needed to rebuild the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Architecture family name (`tiny`).
    pub arch: String,
    /// Square input side in pixels.
    pub input_size: usize,
    /// Output channels of each stage.
    pub widths: Vec<usize>,
    /// Conv units per stage (the first one has stride 2).
    pub convs_per_stage: usize,
    /// Stages (0-based) followed by an internal exit; the final head always follows the last stage.
    pub exit_stages: Vec<usize>,
    /// Channels of each internal exit's conv unit.
    pub exit_width: usize,
    /// Stride of each internal exit's conv unit (2 halves its cost and its CAM resolution).
    pub exit_stride: usize,
    /// Class names; their count is the number of logits of every exit.
    pub class_names: Vec<String>,
    /// Per-channel mean subtracted from inputs in [0, 1].
    pub mean: [f32; 3],
    /// Per-channel std dividing inputs after mean subtraction.
    pub std: [f32; 3],
    /// Output channels of every conv unit, per stage, once channels were physically removed
    /// (pruned models); absent: every unit of stage `s` has `widths[s]` channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_widths: Option<Vec<Vec<usize>>>,
}

impl ModelConfig {
    /// The `tiny` browser model: widths 16/32/64/128, exits after stages 1–3, 64 px input.
    pub fn tiny(class_names: Vec<String>) -> Self {
        Self {
            arch: "tiny".into(),
            input_size: 64,
            widths: vec![16, 32, 64, 128],
            convs_per_stage: 2,
            exit_stages: vec![0, 1, 2],
            exit_width: 32,
            exit_stride: 2,
            class_names,
            mean: [0.5, 0.5, 0.5],
            std: [0.25, 0.25, 0.25],
            unit_widths: None,
        }
    }

    /// Output channels of conv unit `u` of stage `s`.
    pub fn unit_width(&self, s: usize, u: usize) -> usize {
        match &self.unit_widths {
            Some(w) => w[s][u],
            None => self.widths[s],
        }
    }

    /// Input channels of conv unit `u` of stage `s` (3 for the very first).
    pub fn unit_inputs(&self, s: usize, u: usize) -> usize {
        match (s, u) {
            (0, 0) => 3,
            (s, 0) => self.stage_output(s - 1),
            (s, u) => self.unit_width(s, u - 1),
        }
    }

    /// Channels leaving stage `s` (its last unit's width): what its exit and the next stage see.
    pub fn stage_output(&self, s: usize) -> usize {
        self.unit_width(s, self.convs_per_stage - 1)
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Number of exits including the final head.
    pub fn num_exits(&self) -> usize {
        self.exit_stages.len() + 1
    }

    /// Checks that the config describes a buildable network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.arch != "tiny" {
            return Err(ConfigError::UnknownArch(self.arch.clone()));
        }
        if self.widths.is_empty() || self.widths.contains(&0) {
            return Err(ConfigError::BadWidths);
        }
        if !(1..=2).contains(&self.exit_stride) {
            return Err(ConfigError::BadExitStride(self.exit_stride));
        }
        if self.convs_per_stage == 0 {
            return Err(ConfigError::NoConvUnits);
        }
        if self.class_names.len() < 2 {
            return Err(ConfigError::TooFewClasses);
        }
        let last = self.widths.len() - 1;
        let mut prev = None;
        for &s in &self.exit_stages {
            if s >= last {
                return Err(ConfigError::ExitAfterLastStage { stage: s, last });
            }
            if prev.is_some_and(|p| s <= p) {
                return Err(ConfigError::ExitsNotIncreasing);
            }
            prev = Some(s);
        }
        let min_side = 1usize << self.widths.len();
        if self.input_size < min_side || !self.input_size.is_multiple_of(min_side) {
            return Err(ConfigError::BadInputSize {
                input_size: self.input_size,
                multiple: min_side,
            });
        }
        if self.std.iter().any(|&s| s.is_nan() || s <= 0.0) {
            return Err(ConfigError::BadStd);
        }
        if let Some(units) = &self.unit_widths {
            let ok = units.len() == self.widths.len()
                && units
                    .iter()
                    .all(|st| st.len() == self.convs_per_stage && !st.contains(&0));
            if !ok {
                return Err(ConfigError::BadUnitWidths {
                    units: self.convs_per_stage,
                    stages: self.widths.len(),
                });
            }
        }
        Ok(())
    }

    /// Spatial side of the feature map after stage `s`.
    pub fn side_after_stage(&self, s: usize) -> usize {
        self.input_size >> (s + 1)
    }

    /// Spatial side of internal exit `e`'s conv maps (its CAM resolution).
    pub fn exit_side(&self, e: usize) -> usize {
        self.side_after_stage(self.exit_stages[e])
            .div_ceil(self.exit_stride)
    }

    /// Shapes of every named tensor of the inference (BN-folded) model, in canonical order.
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let conv = |out: &mut Vec<(String, Vec<usize>)>, name: String, cin: usize, cout: usize| {
            out.push((format!("{name}.weight"), vec![cout, cin, 3, 3]));
            out.push((format!("{name}.bias"), vec![cout]));
        };
        for s in 0..self.widths.len() {
            for u in 0..self.convs_per_stage {
                conv(
                    &mut out,
                    format!("stages.{s}.{u}"),
                    self.unit_inputs(s, u),
                    self.unit_width(s, u),
                );
            }
        }
        let k = self.num_classes();
        for (e, &s) in self.exit_stages.iter().enumerate() {
            conv(
                &mut out,
                format!("exits.{e}.conv"),
                self.stage_output(s),
                self.exit_width,
            );
            out.push((format!("exits.{e}.fc.weight"), vec![self.exit_width, k]));
            out.push((format!("exits.{e}.fc.bias"), vec![k]));
        }
        let last = self.stage_output(self.widths.len() - 1);
        out.push(("head.fc.weight".into(), vec![last, k]));
        out.push(("head.fc.bias".into(), vec![k]));
        out
    }
}

/// A prunable conv layer: conv unit `unit` of backbone stage `stage` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvLayer {
    /// Backbone stage.
    pub stage: usize,
    /// Conv unit within the stage.
    pub unit: usize,
}

impl ConvLayer {
    /// The last conv of the final stage: the SCP paper's "last convolutional layer" (default).
    pub fn last(config: &ModelConfig) -> Self {
        Self::stage_last(config, config.widths.len() - 1)
    }

    /// The last conv of stage `stage` (the layer whose channels leave the stage).
    pub fn stage_last(config: &ModelConfig, stage: usize) -> Self {
        Self {
            stage,
            unit: config.convs_per_stage - 1,
        }
    }

    /// Tensor name prefix, e.g. `stages.3.1`.
    pub fn name(&self) -> String {
        format!("stages.{}.{}", self.stage, self.unit)
    }

    /// Parses `stages.S.U` (or `S.U`) and checks it exists in `config`.
    pub fn parse(text: &str, config: &ModelConfig) -> Result<Self, LayerError> {
        let body = text.strip_prefix("stages.").unwrap_or(text);
        let parts: Vec<&str> = body.split('.').collect();
        let parsed = match parts.as_slice() {
            [s, u] => s.parse().ok().zip(u.parse().ok()),
            _ => None,
        };
        let Some((stage, unit)) = parsed else {
            return Err(LayerError::NotALayerName(text.to_string()));
        };
        let layer = Self { stage, unit };
        layer.check(config)?;
        Ok(layer)
    }

    /// Whether the layer exists in `config`.
    pub fn check(&self, config: &ModelConfig) -> Result<(), LayerError> {
        if self.stage >= config.widths.len() || self.unit >= config.convs_per_stage {
            return Err(LayerError::Missing {
                layer: *self,
                stages: config.widths.len(),
                units: config.convs_per_stage,
            });
        }
        Ok(())
    }

    /// Output channels of the layer in `config`.
    pub fn width(&self, config: &ModelConfig) -> usize {
        config.unit_width(self.stage, self.unit)
    }

    /// Whether the layer's channels leave its stage (read by the next stage, an exit or the head).
    pub fn is_stage_output(&self, config: &ModelConfig) -> bool {
        self.unit + 1 == config.convs_per_stage
    }
}

/// Why a [`ModelConfig`] describes no buildable network.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// An architecture family other than `tiny`.
    UnknownArch(String),
    /// No stage widths, or a zero width.
    BadWidths,
    /// An exit stride other than 1 or 2.
    BadExitStride(usize),
    /// Stages without conv units.
    NoConvUnits,
    /// Fewer than two class names.
    TooFewClasses,
    /// An internal exit at or after the last stage.
    ExitAfterLastStage {
        /// Stage the exit follows.
        stage: usize,
        /// The last stage.
        last: usize,
    },
    /// Exit stages not strictly increasing.
    ExitsNotIncreasing,
    /// An input size that the stages cannot halve down to a whole side.
    BadInputSize {
        /// The config's input size.
        input_size: usize,
        /// The multiple it must be.
        multiple: usize,
    },
    /// A non-positive (or NaN) normalisation std.
    BadStd,
    /// Per-unit widths of the wrong shape or with a zero width.
    BadUnitWidths {
        /// Conv units per stage.
        units: usize,
        /// Stages.
        stages: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownArch(a) => write!(f, "unknown architecture '{a}' (expected 'tiny')"),
            Self::BadWidths => write!(f, "widths must be non-empty and positive"),
            Self::BadExitStride(s) => write!(f, "exit_stride {s} must be 1 or 2"),
            Self::NoConvUnits => write!(f, "convs_per_stage must be at least 1"),
            Self::TooFewClasses => write!(f, "at least two classes are needed"),
            Self::ExitAfterLastStage { stage, last } => {
                write!(
                    f,
                    "exit after stage {stage} must precede the last stage {last}"
                )
            }
            Self::ExitsNotIncreasing => write!(f, "exit_stages must be strictly increasing"),
            Self::BadInputSize {
                input_size,
                multiple,
            } => write!(
                f,
                "input_size {input_size} must be a positive multiple of {multiple}"
            ),
            Self::BadStd => write!(f, "std must be positive"),
            Self::BadUnitWidths { units, stages } => write!(
                f,
                "unit_widths must list {units} positive widths for each of the {stages} stages"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a conv layer name or address does not name a conv unit of a model.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerError {
    /// The text is not of the form `stages.S.U` or `S.U`.
    NotALayerName(String),
    /// The model has no such conv unit.
    Missing {
        /// The address asked for.
        layer: ConvLayer,
        /// Stages of the model.
        stages: usize,
        /// Conv units per stage.
        units: usize,
    },
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotALayerName(text) => write!(
                f,
                "'{text}' is not a conv layer name like stages.3.1 (stage.unit)"
            ),
            Self::Missing {
                layer,
                stages,
                units,
            } => write!(
                f,
                "conv layer {} does not exist: the model has {stages} stages of {units} conv units",
                layer.name()
            ),
        }
    }
}

impl std::error::Error for LayerError {}
