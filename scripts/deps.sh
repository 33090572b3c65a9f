#!/bin/bash
# Debian 12 packages peapod needs at run time and for its tests (idempotent).
set -euo pipefail
# busybox-static: the image tests and the README use; nftables/iptables: egress masquerade,
# hostPort DNAT, CNI portmap; containernetworking-plugins: CNI mode; iproute2/util-linux/curl:
# test tooling; docker-registry/skopeo: image pull tests; crun: benchmark comparison;
# python3-kubernetes: the official Python client's scenarios (tests/python_client.rs).
PKGS=(busybox-static nftables iptables containernetworking-plugins iproute2 util-linux curl
  docker-registry skopeo crun python3-kubernetes)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
