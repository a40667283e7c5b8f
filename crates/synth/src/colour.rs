//! Colour science: CIELab (D65) ↔ sRGB and the individual typology angle, all through `libm` so
//! every machine (and wasm) gets the same bits.

/// The D65 reference white in XYZ.
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

/// CIELab (D65) → sRGB in 0–255 (unclamped).
pub fn lab_to_srgb(lab: [f32; 3]) -> [f32; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let finv = |t: f32| {
        let d = 6.0 / 29.0;
        if t > d {
            t * t * t
        } else {
            3.0 * d * d * (t - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (
        WHITE[0] * finv(fx),
        WHITE[1] * finv(fy),
        WHITE[2] * finv(fz),
    );
    let lin = [
        3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z,
        -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z,
        0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z,
    ];
    lin.map(|c| {
        let c = c.max(0.0);
        let g = if c <= 0.003_130_8 {
            12.92 * c
        } else {
            1.055 * libm::powf(c, 1.0 / 2.4) - 0.055
        };
        g * 255.0
    })
}

/// sRGB (0–255) → CIELab (D65).
pub fn srgb_to_lab(rgb: [u8; 3]) -> [f32; 3] {
    let lin = rgb.map(|v| {
        let c = v as f32 / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            libm::powf((c + 0.055) / 1.055, 2.4)
        }
    });
    let x = 0.412_456_4 * lin[0] + 0.357_576_1 * lin[1] + 0.180_437_5 * lin[2];
    let y = 0.212_672_9 * lin[0] + 0.715_152_2 * lin[1] + 0.072_175 * lin[2];
    let z = 0.019_333_9 * lin[0] + 0.119_192 * lin[1] + 0.950_304_1 * lin[2];
    let f = |t: f32| {
        let d = 6.0f32 / 29.0;
        if t > d * d * d {
            libm::cbrtf(t)
        } else {
            t / (3.0 * d * d) + 4.0 / 29.0
        }
    };
    let (fx, fy, fz) = (f(x / WHITE[0]), f(y / WHITE[1]), f(z / WHITE[2]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Individual typology angle (degrees) of a CIELab colour: atan((L* − 50)/b*).
pub fn ita_degrees(lab: [f32; 3]) -> f32 {
    libm::atan2f(lab[0] - 50.0, lab[2]).to_degrees()
}
