#!/usr/bin/env bash
# Trunk post-build hook (before scripts/manifest.sh): builds the app's WebGPU module into the build
# directory's gpu/ folder. Trunk's own build is the page's module with burn's CPU backend only
# (1.3 MB gzipped); this one is the same crate with the `webgpu` feature (burn-wgpu and cubecl's
# WGSL generator, 3.6 MB gzipped), which the page fetches only when it runs a model on WebGPU
# (src/state/backend_choice.rs). Same Cargo profile (`web`), so every dependency whose features do
# not change is shared with Trunk's build; runs after it, so the two never write the same file at
# once. Also usable by hand: scripts/gpu-module.sh <site dir>.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:-${1:?usage: scripts/gpu-module.sh <site dir>}}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="$(cargo metadata --format-version 1 --no-deps --offline | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
wasm="$target/wasm32-unknown-unknown/web/fairscreen.wasm"
# Both builds uplift their module to the same path: keep Trunk's (the CPU one) as it was.
saved="$(mktemp)"
[ -f "$wasm" ] && cp "$wasm" "$saved"
restore() { [ -s "$saved" ] && cp "$saved" "$wasm"; rm -f "$saved"; }
trap restore EXIT
echo "[gpu-module] cargo build --profile web --features webgpu (wasm32)"
cargo build --offline --target wasm32-unknown-unknown --profile web --lib --features webgpu
mkdir -p "$dir/gpu"
wasm-bindgen --target web --no-typescript --out-dir "$dir/gpu" --out-name fairscreen-gpu "$wasm"
echo "[gpu-module] $(stat -c %s "$dir/gpu/fairscreen-gpu_bg.wasm") bytes in $dir/gpu/fairscreen-gpu_bg.wasm"
