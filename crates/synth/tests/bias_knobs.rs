//! Each SynthDerm bias knob measurably does what its documentation says, on a few hundred samples.

use fairscreen_synth::{
    generate, generate_with, generate_with_mask, ita_degrees, srgb_to_lab, stratified_spec,
    Artefact, BiasKnobs, SampleSpec, SynthConfig, ITA_RANGES,
};

/// A config without the nuisance layers (hair, vignette, artefacts, halos) that would blur a
/// contrast measurement.
fn clean(contrast_drop: f64) -> SynthConfig {
    let mut c = SynthConfig::test();
    c.hair_probs = [0.0, 0.0];
    c.vignette_prob = 0.0;
    c.knobs.artefact_base = 0.0;
    c.knobs.artefact_malignant_light = 0.0;
    c.knobs.halo_base = 0.0;
    c.knobs.halo_malignant_male = 0.0;
    c.knobs.contrast_drop = contrast_drop;
    c
}

/// Mean Weber contrast in L* between lesion-core pixels and skin pixels, measured on the image,
/// per Fitzpatrick type (60 images per type, all classes; the same 60 scenes for every type, so
/// the comparison is paired).
fn measured_contrast_by_type(config: &SynthConfig) -> [f64; 6] {
    let mut out = [0.0; 6];
    for t in 1..=6u8 {
        let mut sum = 0.0;
        let n = 60;
        for i in 0..n {
            let spec = SampleSpec {
                class: (i % 3) as u8,
                skin_type: t,
                sex: (i % 2) as u8,
            };
            let (s, mask) = generate_with_mask(config, 31, i as u64, spec);
            // Lesion core: the pixels within 90 % of the image's peak coverage (soft
            // non-neoplastic patches never reach full coverage).
            let core = (*mask.iter().max().unwrap() as f64 * 0.9) as u8;
            let (mut lesion, mut nl, mut skin, mut ns) = (0.0f64, 0usize, 0.0f64, 0usize);
            for (p, m) in s.image.pixels().zip(&mask) {
                let l = srgb_to_lab(p.0)[0] as f64;
                if *m >= core && core > 100 {
                    lesion += l;
                    nl += 1;
                } else if *m <= 2 {
                    skin += l;
                    ns += 1;
                }
            }
            assert!(
                nl > 0 && ns > 0,
                "image {i} of type {t} has no lesion core or no skin"
            );
            let (lesion, skin) = (lesion / nl as f64, skin / ns as f64);
            sum += (skin - lesion) / skin;
        }
        out[t as usize - 1] = sum / n as f64;
    }
    out
}

#[test]
fn lesion_contrast_falls_with_darker_skin_only_when_the_knob_is_on() {
    let on = measured_contrast_by_type(&clean(0.5));
    for t in 1..6 {
        assert!(
            on[t] < on[t - 1],
            "contrast on: {on:?} is not falling at type {}",
            t + 1
        );
    }
    let ratio_on = on[5] / on[0];
    assert!(
        (0.4..0.65).contains(&ratio_on),
        "type VI / type I contrast {ratio_on} (knob 0.5): {on:?}"
    );

    let off = measured_contrast_by_type(&clean(0.0));
    let ratio_off = off[5] / off[0];
    assert!(
        (0.9..1.1).contains(&ratio_off),
        "type VI / type I contrast {ratio_off} (knob off): {off:?}"
    );
    let (lo, hi) = off
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    assert!(
        hi / lo < 1.15,
        "contrast varies with type although the knob is off: {off:?}"
    );
}

#[test]
fn skin_tone_follows_the_fitzpatrick_ita_ranges() {
    let c = clean(0.5);
    let mut measured = [0.0f64; 6];
    for t in 1..=6u8 {
        for i in 0..20u64 {
            let spec = SampleSpec {
                class: 0,
                skin_type: t,
                sex: 0,
            };
            let (s, mask) = generate_with_mask(&c, 8, i + 100 * t as u64, spec);
            let (lo, hi) = ITA_RANGES[t as usize - 1];
            assert!((lo..hi).contains(&s.meta.ita));
            // Median skin ITA measured on the image.
            let mut itas: Vec<f32> = s
                .image
                .pixels()
                .zip(&mask)
                .filter(|(_, m)| **m == 0)
                .map(|(p, _)| ita_degrees(srgb_to_lab(p.0)))
                .collect();
            itas.sort_by(|a, b| a.partial_cmp(b).unwrap());
            measured[t as usize - 1] += itas[itas.len() / 2] as f64 / 20.0;
        }
        let (lo, hi) = ITA_RANGES[t as usize - 1];
        let m = measured[t as usize - 1];
        assert!(
            m > lo as f64 - 6.0 && m < hi as f64 + 6.0,
            "type {t}: measured ITA {m} outside {lo}..{hi}"
        );
    }
    for t in 1..6 {
        assert!(
            measured[t] < measured[t - 1],
            "ITA not falling with type: {measured:?}"
        );
    }
}

/// Rates per cell from 900 draws per cell: standard error at p = 0.5 is 0.017, at p = 0.05 it is
/// 0.007; tolerances 0.06 and 0.025 are above 3.5 standard errors.
fn rate(
    config: &SynthConfig,
    spec: SampleSpec,
    n: u64,
    f: impl Fn(&fairscreen_synth::SynthMeta) -> bool,
) -> f64 {
    let mut small = config.clone();
    small.side = 16; // the flags do not depend on the side; small images keep the test quick
    (0..n)
        .filter(|i| f(&generate_with(&small, 4, *i, spec).meta))
        .count() as f64
        / n as f64
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() < if want > 0.2 { 0.06 } else { 0.025 }
}

#[test]
fn the_artefact_follows_malignancy_in_light_skin_only() {
    for knobs in [BiasKnobs::default(), BiasKnobs::off()] {
        let mut c = SynthConfig::test();
        c.knobs = knobs.clone();
        for class in 0..3u8 {
            for (group, t) in [(0, 2u8), (1, 5u8)] {
                let spec = SampleSpec {
                    class,
                    skin_type: t,
                    sex: 0,
                };
                let got = rate(&c, spec, 900, |m| m.artefact != Artefact::None);
                let want = if class == 1 && group == 0 {
                    knobs.artefact_malignant_light
                } else {
                    knobs.artefact_base
                };
                assert!(
                    close(got, want),
                    "artefact rate {got} for class {class}, group {group}, want {want}"
                );
            }
        }
    }
}

#[test]
fn the_halo_follows_malignancy_in_men_only() {
    let c = SynthConfig::test();
    for class in 0..3u8 {
        for sex in 0..2u8 {
            let spec = SampleSpec {
                class,
                skin_type: 3,
                sex,
            };
            let got = rate(&c, spec, 900, |m| m.halo);
            let want = if class == 1 && sex == 1 {
                c.knobs.halo_malignant_male
            } else {
                c.knobs.halo_base
            };
            assert!(
                close(got, want),
                "halo rate {got} for class {class}, sex {sex}, want {want}"
            );
        }
    }
}

#[test]
fn label_noise_flips_the_configured_share_of_labels() {
    let mut c = SynthConfig::train();
    c.side = 16;
    let n = 3000u64;
    let flipped = (0..n).filter(|i| {
        let m = generate(&c, 9, *i).meta;
        m.label != m.true_class
    });
    let f = flipped.count() as f64 / n as f64;
    // Standard error sqrt(0.05·0.95/3000) = 0.004.
    assert!((f - 0.05).abs() < 0.015, "label noise {f}");
    c.knobs.label_noise = 0.0;
    assert!((0..500u64).all(|i| {
        let m = generate(&c, 9, i).meta;
        m.label == m.true_class
    }));
}

/// The flags in the metadata are what is drawn: ink images contain gentian-violet pixels, ruler
/// images contain the ruler's neutral white, and images without either contain neither.
#[test]
fn artefact_flags_match_the_pixels() {
    let mut c = SynthConfig::test();
    c.knobs.artefact_base = 0.3;
    c.knobs.artefact_malignant_light = 0.3;
    let mut seen = [0usize; 3];
    for i in 0..150u64 {
        let s = generate_with(&c, 12, i, stratified_spec(i));
        let labs: Vec<[f32; 3]> = s.image.pixels().map(|p| srgb_to_lab(p.0)).collect();
        let violet = labs.iter().filter(|l| l[1] > 20.0 && l[2] < -25.0).count();
        let ruler = labs
            .iter()
            .filter(|l| l[0] > 80.0 && l[1].abs() < 3.0 && l[2].abs() < 6.0)
            .count();
        let n = labs.len();
        match s.meta.artefact {
            Artefact::Ink => assert!(
                violet >= 4,
                "image {i}: ink flagged, {violet} violet pixels"
            ),
            Artefact::Ruler => assert!(
                ruler > n / 40,
                "image {i}: ruler flagged, {ruler} ruler pixels"
            ),
            Artefact::None => assert!(
                violet == 0 && ruler < n / 50,
                "image {i}: no artefact flagged, {violet} violet, {ruler} ruler pixels"
            ),
        }
        seen[s.meta.artefact as usize] += 1;
    }
    assert!(seen.iter().all(|k| *k > 10), "{seen:?}");
}
