//! Number and name formatting shared by the views.

/// `0.123` → `12.3 %`.
pub fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// Multiply–accumulates in millions.
pub fn mmac(macs: f64) -> String {
    format!("{:.2} MMAC", macs / 1e6)
}

/// Bytes in megabytes.
pub fn megabytes(bytes: usize) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Values for a data attribute: comma-separated, each printed exactly (shortest round trip).
pub fn csv(values: impl IntoIterator<Item = f64>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// What the compute saving means in words (negative: the exit heads cost more than they saved).
pub fn saved_text(saved: f64) -> String {
    if saved >= 0.0 {
        format!("{} less compute than the full network", pct(saved))
    } else {
        format!("{} more compute than the full network", pct(-saved))
    }
}

/// Fitzpatrick type in Roman numerals (`unknown` for 0).
pub fn roman(t: u8) -> &'static str {
    ["unknown", "I", "II", "III", "IV", "V", "VI"]
        .get(t as usize)
        .copied()
        .unwrap_or("?")
}
