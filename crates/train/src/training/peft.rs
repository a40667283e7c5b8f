//! Masked fine-tuning (FairTune, papers.md §4.2): the groups a [`PeftMask`] freezes stop
//! requiring gradients, so the optimiser never touches them (they stay bit-identical; BatchNorm
//! running statistics are buffers, not parameters, and follow the target data in training mode
//! as in the reference code's PyTorch).

use burn::module::Module;
use fairscreen_core::peft::{peft_groups, PeftGroup, PeftMask};
use fairscreen_core::{ModelConfig, MultiExitCnn};

/// `model` with every group that `mask` freezes set not to require gradients; the final head
/// always trains. Groups the model lacks (a BN-folded unit has no norm) are skipped.
pub fn freeze_masked(
    mut model: MultiExitCnn,
    config: &ModelConfig,
    mask: &PeftMask,
) -> MultiExitCnn {
    for (group, trains) in peft_groups(config).into_iter().zip(&mask.bits) {
        if *trains {
            continue;
        }
        match group {
            PeftGroup::Conv { stage, unit } => {
                let u = &mut model.stages[stage][unit];
                u.conv = u.conv.clone().no_grad();
            }
            PeftGroup::Norm { stage, unit } => {
                let u = &mut model.stages[stage][unit];
                u.bn = u.bn.take().map(|bn| bn.no_grad());
            }
            PeftGroup::Exit { exit } => {
                model.exits[exit] = model.exits[exit].clone().no_grad();
            }
        }
    }
    model
}

/// The internal exits whose heads train under `mask`, then the final head: the exits whose
/// cross-entropy enters the loss.
pub fn trained_exits(config: &ModelConfig, mask: &PeftMask) -> Vec<usize> {
    let mut exits: Vec<usize> = (0..config.exit_stages.len())
        .filter(|&e| mask.trains(config, PeftGroup::Exit { exit: e }))
        .collect();
    exits.push(config.num_exits() - 1);
    exits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::{train_model, Augment, Dataset, Method, TrainOptions};
    use burn::module::{ModuleVisitor, Param};
    use burn::prelude::*;
    use fairscreen_core::preprocess::to_input;
    use fairscreen_synth::SynthConfig;

    /// Every float parameter's values, in visiting order.
    struct Collect(Vec<Vec<f32>>);

    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(
                param
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .unwrap(),
            );
        }
    }

    fn values(module: &impl Module) -> Vec<Vec<f32>> {
        let mut c = Collect(Vec::new());
        module.visit(&mut c);
        c.0
    }

    /// γ and β of a BatchNorm (its running statistics are buffers, not parameters).
    fn affine(bn: &Option<burn::nn::BatchNorm>) -> Vec<Vec<f32>> {
        let bn = bn.as_ref().unwrap();
        [values(&bn.gamma), values(&bn.beta)].concat()
    }

    /// The parameters of one group (the final head when `group` is None).
    fn group_values(model: &MultiExitCnn, group: Option<PeftGroup>) -> Vec<Vec<f32>> {
        match group {
            Some(PeftGroup::Conv { stage, unit }) => values(&model.stages[stage][unit].conv),
            Some(PeftGroup::Norm { stage, unit }) => affine(&model.stages[stage][unit].bn),
            Some(PeftGroup::Exit { exit }) => {
                let head = &model.exits[exit];
                [
                    values(&head.conv.conv),
                    affine(&head.conv.bn),
                    values(&head.fc),
                ]
                .concat()
            }
            None => values(&model.head),
        }
    }

    fn setup() -> (ModelConfig, Dataset, MultiExitCnn) {
        let names = fairscreen_synth::CLASS_NAMES.map(String::from).to_vec();
        let config = ModelConfig::tiny(names);
        let mut cfg = SynthConfig::train();
        cfg.side = config.input_size as u32;
        let mut data = Dataset {
            inputs: vec![],
            labels: vec![],
            groups: vec![],
        };
        for i in 0..96 {
            let s = fairscreen_synth::generate(&cfg, 51, i);
            data.inputs.push(to_input(&s.image, &config));
            data.labels.push(s.meta.label as usize);
            data.groups.push(usize::from(s.meta.skin_type >= 4));
        }
        let pretrain = TrainOptions {
            augment: Augment::None,
            batch_size: 32,
            ..TrainOptions::new(Method::Me, 1, 5, config.num_exits())
        };
        let source = train_model(&config, &data, &pretrain, None).unwrap().0;
        (config, data, source)
    }

    fn fine_tune(
        config: &ModelConfig,
        data: &Dataset,
        source: &MultiExitCnn,
        mask: Option<PeftMask>,
    ) -> MultiExitCnn {
        let opts = TrainOptions {
            augment: Augment::None,
            batch_size: 32,
            init: Some(source.clone()),
            peft: mask,
            ..TrainOptions::new(Method::Me, 1, 6, config.num_exits())
        };
        train_model(config, data, &opts, None).unwrap().0
    }

    #[test]
    fn frozen_groups_stay_bit_identical_and_trainable_ones_change() {
        let (config, data, source) = setup();
        let groups = peft_groups(&config);
        // Alternate bits, so every kind of group is both frozen and trained somewhere.
        let bits: Vec<bool> = (0..groups.len()).map(|i| i % 3 != 1).collect();
        let mask = PeftMask::new(&config, bits.clone()).unwrap();
        let tuned = fine_tune(&config, &data, &source, Some(mask));
        for (group, trains) in groups.iter().zip(&bits) {
            let (before, after) = (
                group_values(&source, Some(*group)),
                group_values(&tuned, Some(*group)),
            );
            if *trains {
                assert_ne!(before, after, "{group} trains but did not change");
            } else {
                assert_eq!(before, after, "{group} is frozen but changed");
            }
        }
        assert_ne!(group_values(&source, None), group_values(&tuned, None));
    }

    #[test]
    fn the_all_ones_mask_is_full_fine_tuning_and_no_bits_is_linear_readout() {
        let (config, data, source) = setup();
        let full = fine_tune(&config, &data, &source, None);
        let ones = fine_tune(&config, &data, &source, Some(PeftMask::all(&config)));
        assert_eq!(values(&full), values(&ones), "all ones = full fine-tuning");
        let readout = fine_tune(&config, &data, &source, Some(PeftMask::head_only(&config)));
        for group in peft_groups(&config) {
            assert_eq!(
                group_values(&source, Some(group)),
                group_values(&readout, Some(group)),
                "{group} changed under linear readout"
            );
        }
        assert_ne!(group_values(&source, None), group_values(&readout, None));
        assert_eq!(trained_exits(&config, &PeftMask::head_only(&config)), [3]);
        assert_eq!(
            trained_exits(&config, &PeftMask::all(&config)),
            [0, 1, 2, 3]
        );
    }
}
