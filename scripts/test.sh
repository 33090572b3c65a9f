#!/bin/bash
# Runs every check and test of the workspace (what CI runs, through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# One-shot builds gain nothing from incremental state; it only costs disk.
export CARGO_INCREMENTAL=0
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
