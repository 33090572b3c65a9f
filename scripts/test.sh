#!/bin/bash
# Runs every check and test of the workspace (what CI runs, through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
