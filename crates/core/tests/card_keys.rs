//! The metric names of the model card and the exits' names are file format and page text: the
//! shipped models' cards and the app read them, so each is pinned here character for character.

use fairscreen_core::card_keys::{self, BASE, POINT};
use fairscreen_core::exit::{exit_name, exit_name_as, exit_names, ExitNaming};

#[test]
fn card_metric_keys_are_the_ones_in_the_shipped_cards() {
    assert_eq!(card_keys::VALIDATION, "val/");
    assert_eq!(card_keys::TRAIN_SECONDS, "train/seconds");
    assert_eq!(card_keys::THETA_ACCURACY, "val/theta/accuracy");
    assert_eq!(card_keys::FATE, "val/fate");
    assert_eq!(card_keys::exit_accuracy(0), "val/exit0/accuracy");
    assert_eq!(card_keys::exit_eodds_abs(3), "val/exit3/eodds_abs");
    assert_eq!(card_keys::theta_exit_share(2), "val/theta/exit2/share");
    assert_eq!(card_keys::sweep_accuracy(0.85), "val/theta0.850/accuracy");
    assert_eq!(
        card_keys::sweep_eodds_abs(0.999),
        "val/theta0.999/eodds_abs"
    );
    assert_eq!(
        card_keys::sweep_compute_saved(0.5),
        "val/theta0.500/compute_saved"
    );
    assert_eq!(POINT.accuracy(), "val/point/accuracy");
    assert_eq!(POINT.f1(), "val/point/f1");
    assert_eq!(POINT.eodds_abs(), "val/point/eodds_abs");
    assert_eq!(
        POINT.worst_group_accuracy(),
        "val/point/worst_group_accuracy"
    );
    assert_eq!(BASE.f1(), "val/base/f1");
    assert_eq!(BASE.eodds_abs(), "val/base/eodds_abs");
}

#[test]
fn the_shipped_cards_use_these_keys() {
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/models");
    let read = |name: &str| {
        let bytes = std::fs::read(models.join(format!("{name}.safetensors"))).unwrap();
        fairscreen_core::read_model(&bytes).unwrap().card
    };
    let fair = read("tiny-fair-me");
    for e in 0..4 {
        assert!(fair.metrics.contains_key(&card_keys::exit_accuracy(e)));
        assert!(fair.metrics.contains_key(&card_keys::exit_eodds_abs(e)));
    }
    assert!(fair.metrics.contains_key(card_keys::THETA_ACCURACY));
    assert!(fair.metrics.contains_key(card_keys::TRAIN_SECONDS));
    assert!(fair.metrics.contains_key(&card_keys::sweep_accuracy(0.7)));
    let pruned = read("tiny-fair-me-scp");
    for key in [
        POINT.accuracy(),
        POINT.f1(),
        POINT.eodds_abs(),
        POINT.worst_group_accuracy(),
        BASE.accuracy(),
        BASE.f1(),
        BASE.eodds_abs(),
        BASE.worst_group_accuracy(),
        card_keys::FATE.to_string(),
    ] {
        assert!(pruned.metrics.contains_key(&key), "{key}");
    }
}

#[test]
fn exits_are_named_the_same_everywhere() {
    assert_eq!(exit_name(0, 4), "exit 1");
    assert_eq!(exit_name(2, 4), "exit 3");
    assert_eq!(exit_name(3, 4), "final");
    assert_eq!(exit_name_as(ExitNaming::Title, 3, 4), "final head");
    assert_eq!(exit_name_as(ExitNaming::Title, 1, 4), "exit 2");
    assert_eq!(exit_name_as(ExitNaming::Sentence, 3, 4), "the final head");
    assert_eq!(exit_name_as(ExitNaming::Sentence, 0, 4), "exit 1");
    assert_eq!(
        exit_names(ExitNaming::OnnxOutput, 4),
        [
            "exit1_logits",
            "exit2_logits",
            "exit3_logits",
            "final_logits"
        ]
    );
    assert_eq!(exit_names(ExitNaming::Short, 1), ["final"]);
}
