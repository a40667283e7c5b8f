#!/usr/bin/env bash
# Installs what is missing and runs every test: formatting and lints, native unit and CLI tests,
# the Trunk build, and the end-to-end tests in headless Chromium (WebGPU via SwiftShader, and the
# CPU fallback).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n[test] %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native crates and the wasm app)"
cargo clippy --release --workspace --all-targets --locked -- -D warnings
cargo clippy --release --target wasm32-unknown-unknown -p fairscreen --locked -- -D warnings

step "native tests (core, synth, datasets, trainer)"
cargo test --release --locked -p fairscreen-core -p fairscreen-synth -p fairscreen-datasets -p fairscreen-train

step "trunk build (wasm app into dist/)"
trunk build

step "end-to-end tests in headless Chromium"
cargo test --release --locked -p fairscreen --test e2e -- --test-threads=1

step "all tests passed"
