#!/usr/bin/env bash
# Where the CPU backend's time goes, by function: builds scripts/cpu-profile (the default model's
# single-photo forward pass on burn-flex with its SIMD kernels, natively: perf cannot see inside
# the browser's wasm), samples it with `perf record`, and writes docs/results/cpu-profile.md with
# the self time of each function and by kind (convolution layout work, gemm, element-wise, memory).
# Needs perf (linux-perf). A few minutes the first time (it compiles burn).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/scripts/cpu-profile"
cargo build --release --offline
bin=target/release/fairscreen-cpu-profile
timing="$("$bin" 4000)"
data="$(mktemp)"
perf record -q -F 2000 -o "$data" "$bin" 4000 >/dev/null 2>&1
# Inside burn-flex's convolution: its samples by source line (percent of that function's own).
lines="$(mktemp)"
perf annotate -i "$data" --stdio -l burn_flex::ops::conv::conv3d_f32 2>/dev/null \
  | grep -E '^ +[0-9.]+ [A-Za-z_]+\.rs:[0-9]+$' > "$lines" || true
conv_rs="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -path '*/burn-flex-0.22.1/src/ops/conv.rs' | head -1)"
perf report -i "$data" --no-children --sort symbol --stdio 2>/dev/null \
  | python3 "$root/scripts/cpu_profile_report.py" "$timing" "$lines" "$conv_rs" \
  > "$root/docs/results/cpu-profile.md"
rm -f "$data" "$lines"
cat "$root/docs/results/cpu-profile.md"
