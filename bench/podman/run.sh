#!/bin/bash
# Podman baseline for bench/pods.sh: `podman kube play` on the same busybox pods (1 and 2
# containers, `sleep 3600`, image already in local storage), timed from the start of the
# command until it returns with every container running (checked with `podman ps` after each
# run, untimed); then a burst of N pods started in parallel. Run as root on an idle machine.
#
#   bench/podman/run.sh [--runs 50] [--burst 100] [--parallel BURST] [--subnet 10.252.0.0/16]
#
# Everything it creates (pods, containers, its bridge network, the images it loaded, the
# iptables chains netavark adds on first use) is removed on exit. See README.md.
set -euo pipefail
export LC_ALL=C # $EPOCHREALTIME must use '.' as decimal separator
cd "$(dirname "$0")/../.."

runs=50 burst=100 parallel=0 subnet=10.252.0.0/16
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=${2:?}; shift 2 ;;
    --burst) burst=${2:?}; shift 2 ;;
    --parallel) parallel=${2:?}; shift 2 ;;
    --subnet) subnet=${2:?}; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--burst N] [--parallel N] [--subnet CIDR]" >&2; exit 2 ;;
    esac
done
for n in "$runs" "$burst" "$parallel"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; exit 2; }
done
[ "$parallel" -gt 0 ] || parallel=$burst # peapod's burst creates all pods at once
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }

# runc, not crun: Debian's crun 1.8 refuses this host's hybrid cgroup layout
# ("cgroups in hybrid mode not supported").
for pkg in podman runc; do
    command -v "$pkg" >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null
done

prefix="ppb-podman-$$"
net="$prefix"
work=$(mktemp -d)
image=docker.io/library/busybox:latest
pause=localhost/podman-pause:$(podman version --format '{{.Client.Version}}')-0
had_image=0 had_pause=0 had_chains=0
podman image exists "$image" && had_image=1
podman image exists "$pause" && had_pause=1
iptables -S NETAVARK_FORWARD >/dev/null 2>&1 && had_chains=1
had_cgroups=0 # podman's pods go under libpod_parent (one per cgroup v1 hierarchy), never removed
compgen -G '/sys/fs/cgroup/*/libpod_parent' >/dev/null && had_cgroups=1

remove_netavark_chains() {
    # netavark adds these on first use and never removes them; drop them if we caused them.
    iptables -D FORWARD -m comment --comment "netavark firewall plugin rules" -j NETAVARK_FORWARD 2>/dev/null || true
    iptables -X NETAVARK_FORWARD 2>/dev/null || true
    iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null || true
    iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j NETAVARK-HOSTPORT-DNAT 2>/dev/null || true
    iptables -t nat -D POSTROUTING -j NETAVARK-HOSTPORT-MASQ 2>/dev/null || true
    for c in NETAVARK-HOSTPORT-DNAT NETAVARK-HOSTPORT-MASQ NETAVARK-HOSTPORT-SETMARK; do
        iptables -t nat -F "$c" 2>/dev/null || true
        iptables -t nat -X "$c" 2>/dev/null || true
    done
}

# `podman pod rm -f -t 0` takes ~3.5 s per pod in 4.3; stopping with -t 0 first takes ~0.5 s.
remove_pods() { # POD...
    [ $# -gt 0 ] || return 0
    podman pod stop -t 0 "$@" >/dev/null 2>&1 || true
    podman pod rm -f "$@" >/dev/null 2>&1 || true
}

cleanup() {
    # Let running burst jobs finish (seconds) so that no pod appears after the removal below.
    wait 2>/dev/null || true
    local pods
    pods=$(podman pod ps -q --filter "name=^$prefix-" 2>/dev/null || true)
    remove_pods $pods
    podman network rm -f "$net" >/dev/null 2>&1 || true
    [ $had_image = 1 ] || podman rmi -f "$image" >/dev/null 2>&1 || true
    [ $had_pause = 1 ] || podman rmi -f "$pause" >/dev/null 2>&1 || true
    [ $had_chains = 1 ] || remove_netavark_chains
    if [ $had_cgroups = 0 ]; then
        for d in /sys/fs/cgroup/*/libpod_parent; do
            [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Podman asks for nofile=1048576/nproc=4194304 by default; this host's hard limits are lower
# and root lacks CAP_SYS_RESOURCE, so the runtime's setrlimit fails. conmon runs with
# nproc 32768 here, hence the cap. The containers only `sleep`, so the limits do not matter.
nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
sed -e "s/^\[containers\]\$/[containers]\ndefault_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]/" \
    -e 's/^\[engine\]$/[engine]\nruntime = "runc"/' \
    /usr/share/containers/containers.conf >"$work/containers.conf"
export CONTAINERS_CONF="$work/containers.conf"

bash scripts/build-busybox-image.sh "$work/img" >/dev/null
podman load -q -i "$work/img/busybox-docker.tar" >/dev/null
# A bridge of our own, like peapod's ppbench bridge: one netns + veth + IP per pod, no DNS.
podman network create --disable-dns --subnet "$subnet" "$net" >/dev/null

# Same pod as bench/api/src/bin/pod-startup.rs.
pod_yaml() { # NAME CONTAINERS
    printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels:\n    bench: startup\n' "$1"
    printf 'spec:\n  terminationGracePeriodSeconds: 0\n  containers:\n'
    for ((c = 0; c < $2; c++)); do
        printf '  - name: c%d\n    image: busybox\n    imagePullPolicy: IfNotPresent\n' "$c"
        printf '    command: ["sleep", "3600"]\n'
    done
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# Prints the elapsed µs of one `podman kube play`.
play() { # NAME CONTAINERS
    pod_yaml "$1" "$2" >"$work/$1.yaml"
    local t0 t1
    t0=$(now_us)
    podman kube play --quiet --network "$net" "$work/$1.yaml" >/dev/null 2>"$work/$1.err" ||
        { echo "kube play $1 failed: $(cat "$work/$1.err")" >&2; return 1; }
    t1=$(now_us)
    echo $((t1 - t0))
}

# Fails unless each named pod has exactly CONTAINERS+1 (infra) containers, all running.
# JSON because podman 4.3's `{{.State}}` template renders the human status ("Up 2 seconds").
check_running() { # CONTAINERS POD...
    podman ps -a --pod --format json >"$work/ps.json"
    python3 - "$work/ps.json" "$@" <<'PY'
import collections, json, sys
want, pods = int(sys.argv[2]) + 1, sys.argv[3:]
total, up = collections.Counter(), collections.Counter()
for c in json.load(open(sys.argv[1])):
    total[c["PodName"]] += 1
    up[c["PodName"]] += c["State"] == "running"
bad = [p for p in pods if total[p] != want or up[p] != want]
if bad:
    sys.exit(f"not all {want} containers running in {len(bad)} pod(s), e.g. {bad[0]}: "
             f"{up[bad[0]]} of {total[bad[0]]} running")
PY
}

# Same output as pod-startup: "<what>: n=N p50 X p99 Y max Z" (plus min), from µs on stdin.
report() { # WHAT
    sort -n | awk -v what="$1" '
        function ms(us) { return sprintf("%.3fms", us / 1000) }
        function q(x) { i = int((NR - 1) * x + 0.5) + 1; return v[i] }
        { v[NR] = $1 }
        END { if (NR == 0) { printf "%s: n=0\n", what; exit }
              printf "%s: n=%d p50 %s p99 %s max %s min %s\n", what, NR, ms(q(0.5)), ms(q(0.99)), ms(v[NR]), ms(v[1]) }'
}

echo "podman $(podman version --format '{{.Client.Version}}'), runtime runc, network $net ($subnet)"
echo "load before:$(uptime)"

# Untimed warm-up: the first kube play builds podman's local pause (infra) image.
play "$prefix-warmup" 1 >/dev/null
check_running 1 "$prefix-warmup"
remove_pods "$prefix-warmup"

for containers in 1 2; do
    : >"$work/lat-$containers"
    for ((i = 0; i < runs; i++)); do
        name="$prefix-s$containers-$i"
        play "$name" "$containers" >>"$work/lat-$containers"
        check_running "$containers" "$name"
        remove_pods "$name"
    done
    report "$containers-container pod, kube play→Running" <"$work/lat-$containers"
done

# Burst: BURST kube plays, at most PARALLEL at a time; each job records its own start/end.
burst_one() { # INDEX
    local name="$prefix-burst-$1" t0 t1
    pod_yaml "$name" 1 >"$work/$name.yaml"
    t0=$(now_us)
    if podman kube play --quiet --network "$net" "$work/$name.yaml" >/dev/null 2>"$work/$name.err"; then
        t1=$(now_us)
        echo "$t0 $t1" >"$work/$name.t"
    fi
}
[ "$burst" -gt 0 ] || { echo "load after:$(uptime)"; exit 0; }
names=()
start=$(now_us)
for ((i = 0; i < burst; i++)); do
    [ "$i" -lt "$parallel" ] || wait -n || true # keeps at most PARALLEL jobs running
    burst_one "$i" &
    names+=("$prefix-burst-$i")
done
wait
for n in "${names[@]}"; do
    [ -s "$work/$n.t" ] || { echo "kube play $n failed: $(cat "$work/$n.err")" >&2; exit 1; }
done
last=$(cat "$work/$prefix"-burst-*.t | awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }')
check_running 1 "${names[@]}"
awk -v s="$start" -v e="$last" -v n="$burst" -v p="$parallel" \
    'BEGIN { printf "burst of %d pods (%d parallel kube plays): all Running after %.3fs\n", n, p, (e - s) / 1e6 }'
cat "$work/$prefix"-burst-*.t | awk '{ print $2 - $1 }' | report "burst, per pod (own kube play)"
echo "load after:$(uptime)"
