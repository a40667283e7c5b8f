#!/usr/bin/env bash
# The peer benchmark: FairScreen against ONNX Runtime Web (pinned in tools/npm) on the same network
# and inputs, in one headless Chromium run (several minutes: WebGPU is SwiftShader here). Installs
# what is missing, builds the workspace (the trainer exports the ONNX model) and the site, then runs
# the ignored end-to-end test bench::peer_benchmark, which writes docs/results/peer-bench.{json,md}
# (FAIRSCREEN_BENCH_OUT=dir to write elsewhere; FAIRSCREEN_BENCH_RUNS=n timed single-photo runs,
# default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$HOME/.cargo/bin:$PATH"
cargo test --release --locked --workspace --all-targets --no-run
trunk build
cargo test --release --locked --workspace --test e2e -- --ignored --exact bench::peer_benchmark \
  --nocapture
