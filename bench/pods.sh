#!/bin/bash
# Pod start-up benchmark (release build, as root): starts a peapod server with its agent on a
# private bridge and data dir, runs bench/api's pod-startup, reports the server's RSS with 100
# pods running, then removes everything (peapod reset). The disk threshold is absolute: this
# machine's disk is shared, and 10% of it may be in use by others.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p peapod -p peapod-bench-api
d=$(mktemp -d); mkdir -p "$d/data/images"
bash scripts/build-busybox-image.sh "$d/img" >/dev/null
cp "$d/img/busybox-docker.tar" "$d/data/images/"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
kport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
./target/release/peapod server --data-dir "$d/data" --port "$port" --bridge-name ppbench \
  --cluster-cidr 10.250.0.0/16 --kubelet-port "$kport" \
  --eviction-hard='memory.available<100Mi,nodefs.available<1Gi,pid.available<10%' \
  >"$d/server.log" 2>&1 & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; ./target/release/peapod reset --data-dir "$d/data" --bridge-name ppbench; rm -rf "$d"' EXIT
export KUBECONFIG="$d/data/admin.kubeconfig"
until kubectl get nodes 2>/dev/null | grep -q ' Ready'; do sleep 0.2; done
./target/release/pod-startup "$KUBECONFIG" --server-pid "$pid" --data-dir "$d/data" "$@"
