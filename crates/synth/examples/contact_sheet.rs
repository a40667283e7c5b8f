//! Writes a SynthDerm contact sheet (rows = class, columns = Fitzpatrick I–VI) as PNG:
//! `cargo run --release -p fairscreen-synth --example contact_sheet -- out.png [seed] [per-cell] [cell-side]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "contact-sheet.png".into());
    let num = |a: Option<String>, d: u64| a.and_then(|s| s.parse().ok()).unwrap_or(d);
    let seed = num(args.next(), 123);
    let per_cell = num(args.next(), 2) as u32;
    let side = num(args.next(), 96) as u32;
    let sheet = fairscreen_synth::contact_sheet(
        &fairscreen_synth::SynthConfig::test(),
        seed,
        per_cell,
        side,
    );
    sheet.save(&out).expect("writing the contact sheet");
    println!("wrote {out} ({}x{})", sheet.width(), sheet.height());
}
