#!/bin/bash
# One command on a fresh Debian 12 machine (as root): install, build, and run peapod.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
if ! command -v cargo >/dev/null; then
  apt-get install -y -qq curl build-essential
  curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
cargo build --release -p peapod
# Install a stripped binary; its debug info goes where gdb and perf look for it
# (/usr/lib/debug/<path>.debug, found through the binary's .gnu_debuglink).
command -v objcopy >/dev/null || apt-get install -y -qq binutils
objcopy --only-keep-debug target/release/peapod target/release/peapod.debug
objcopy --strip-debug --strip-unneeded --add-gnu-debuglink=target/release/peapod.debug \
  target/release/peapod target/release/peapod.stripped
install -m 0755 target/release/peapod.stripped /usr/local/bin/peapod
install -D -m 0644 target/release/peapod.debug /usr/lib/debug/usr/local/bin/peapod.debug
DATA=${PEAPOD_DATA_DIR:-/var/lib/peapod}
mkdir -p "$DATA/images"
if [ -x scripts/build-busybox-image.sh ] && [ ! -e "$DATA/images/busybox-docker.tar" ]; then
  bash scripts/build-busybox-image.sh "$DATA/images"
  rm -f "$DATA/images/busybox-oci.tar"
fi
exec /usr/local/bin/peapod server --data-dir "$DATA"
