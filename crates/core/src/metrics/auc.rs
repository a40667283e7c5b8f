//! Area under the ROC curve: binary (Mann–Whitney) and one-vs-rest macro.

use super::weighted::AucOrder;

/// Area under the ROC curve of `scores` for `positive` labels (Mann–Whitney with average ranks
/// for ties); None when either class is empty.
pub fn binary_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            if positive[o] {
                rank_sum += avg_rank;
            }
        }
        i = j + 1;
    }
    let np = n_pos as f64;
    Some((rank_sum - np * (np + 1.0) / 2.0) / (np * n_neg as f64))
}

/// AUC: binary (score = probability of class 1) for two classes, else one-vs-rest macro over the
/// classes present in `y` (sklearn's `multi_class='ovr'`); None when fewer than two classes are
/// present.
pub fn auc(y: &[usize], probs: &[Vec<f64>], k: usize) -> Option<f64> {
    if k == 2 {
        let scores: Vec<f64> = probs.iter().map(|p| p[1]).collect();
        let pos: Vec<bool> = y.iter().map(|t| *t == 1).collect();
        return binary_auc(&scores, &pos);
    }
    let present: Vec<usize> = (0..k).filter(|c| y.contains(c)).collect();
    if present.len() < 2 {
        return None;
    }
    let mut sum = 0.0;
    for &c in &present {
        let scores: Vec<f64> = probs.iter().map(|p| p[c]).collect();
        let pos: Vec<bool> = y.iter().map(|t| *t == c).collect();
        sum += binary_auc(&scores, &pos)?;
    }
    Some(sum / present.len() as f64)
}

/// [`binary_auc`] of a sample in which sample `i` appears `weight(i)` times, over an order of
/// the samples by ascending score prepared once and reused for every weighting. The
/// Mann–Whitney sum (each positive counts the weight of the negatives below it and half of
/// those tied with it) is exact in f64 for integer weights, so it equals `binary_auc` of the
/// repeated samples bit for bit.
pub(super) fn weighted_binary_auc(order: &AucOrder, weight: &impl Fn(usize) -> u64) -> Option<f64> {
    let (mut neg_below, mut pos_total, mut sum) = (0u64, 0u64, 0.0f64);
    let mut start = 0;
    for &end in &order.runs {
        let end = end as usize;
        let (mut pos, mut neg) = (0u64, 0u64);
        for j in start..end {
            let w = weight(order.samples[j] as usize);
            if order.positive[j] {
                pos += w;
            } else {
                neg += w;
            }
        }
        sum += pos as f64 * (neg_below as f64 + 0.5 * neg as f64);
        neg_below += neg;
        pos_total += pos;
        start = end;
    }
    if pos_total == 0 || neg_below == 0 {
        return None;
    }
    Some(sum / (pos_total as f64 * neg_below as f64))
}
