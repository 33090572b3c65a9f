#!/bin/sh
# Usage: bench/network/run.sh [PODS] [CNI_BIN_DIR]
set -eu
cd "$(dirname "$0")/../.."
exec cargo run -q -p peapod-network --example pod_network_bench -- "${1:-200}" "${2:-/usr/lib/cni}"
