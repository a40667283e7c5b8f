//! Area under the ROC curve: binary (Mann–Whitney) and one-vs-rest macro.

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
