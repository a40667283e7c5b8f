//! The generated predictions CSV of the bootstrap benchmark, shared with the page's end-to-end
//! timing of the same file (`tests/e2e/hostile.rs`).

use std::fmt::Write as _;

/// A deterministic CSV of `n` rows: label, prediction, three probabilities, skin and (when
/// `with_sex`) sex.
pub fn csv(n: usize, with_sex: bool) -> String {
    let mut x = 0x1234_5678_u64;
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    let mut out = String::from(if with_sex {
        "label,prediction,prob_0,prob_1,prob_2,skin,sex\n"
    } else {
        "label,prediction,prob_0,prob_1,prob_2,skin\n"
    });
    for _ in 0..n {
        let y = next() % 3;
        let skin = ["I-III", "IV-VI"][next() % 2];
        let sex = ["female", "male"][next() % 2];
        let yhat = if next() % 10 < 7 { y } else { next() % 3 };
        let mut p = [0.0f64; 3];
        for v in &mut p {
            *v = (next() % 1000) as f64 / 1000.0 + 0.001;
        }
        p[yhat] += 1.5;
        let sum: f64 = p.iter().sum();
        let _ = write!(
            out,
            "{y},{yhat},{:.4},{:.4},{:.4},{skin}",
            p[0] / sum,
            p[1] / sum,
            1.0 - (p[0] / sum * 1e4).round() / 1e4 - (p[1] / sum * 1e4).round() / 1e4
        );
        let _ = if with_sex {
            writeln!(out, ",{sex}")
        } else {
            writeln!(out)
        };
    }
    out
}
