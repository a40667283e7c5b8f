#!/usr/bin/env bash
# Installs what is missing, builds the app with the bundled models and serves it on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
PORT="${PORT:-8080}"
echo "[serve] building (first build compiles burn + leptos for wasm: several minutes)…"
trunk build
echo
echo "[serve] FairScreen is at http://127.0.0.1:$PORT/  (Ctrl-C stops it)"
exec trunk serve --port "$PORT" --no-autoreload
