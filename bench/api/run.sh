#!/bin/bash
# API server benchmark (release build): creates/s, list latency, watch fan-out, idle RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p peapod-bench-api -p peapod
ulimit -n 65536 || true
./target/release/api-bench "$@"
# Idle RSS of a fresh server process.
d=$(mktemp -d); port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
./target/release/peapod server --data-dir "$d" --port "$port" --disable-agent >/dev/null 2>&1 & pid=$!
sleep 3
echo "idle server RSS: $(awk '/VmRSS/{print $2" "$3}' /proc/$pid/status)"
kill $pid; wait $pid 2>/dev/null || true; rm -rf "$d"
