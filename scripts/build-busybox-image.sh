#!/bin/sh
# Build a minimal busybox image offline from Debian's busybox-static package.
#
#   scripts/build-busybox-image.sh OUT_DIR
#
# Writes OUT_DIR/busybox-docker.tar (docker-archive, tagged docker.io/library/busybox:latest,
# uncompressed layer) and OUT_DIR/busybox-oci.tar (oci-archive, gzip layer, ref.name
# docker.io/library/busybox:latest). Both hold the same single layer and default Cmd ["sh"].
# Output is deterministic (fixed mtimes, sorted entries, numeric root ownership).
#
# Needs: busybox-static (/bin/busybox, installed or fetched with `apt-get download`),
# chroot (coreutils), python3. Must run as root (chroot).
# Optional: BUSYBOX=/path/to/static/busybox overrides the binary.
set -eu

OUT_DIR=${1:?usage: $0 OUT_DIR}
# Any fixed timestamp keeps the archives reproducible.
EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

find_busybox() {
    if [ -n "${BUSYBOX:-}" ]; then
        echo "$BUSYBOX"
        return
    fi
    # The installed package's binary is static; a dynamic one would not run in the rootfs.
    if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed"; then
        echo /bin/busybox
        return
    fi
    (cd "$WORK" && apt-get download busybox-static >/dev/null)
    dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/pkg"
    echo "$WORK/pkg/bin/busybox"
}

BB=$(find_busybox)
[ -x "$BB" ] || { echo "busybox binary not found: $BB" >&2; exit 1; }

ROOT="$WORK/rootfs"
mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/root" "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" \
    "$ROOT/dev" "$ROOT/var" "$ROOT/home"
cp "$BB" "$ROOT/bin/busybox"
chmod 0755 "$ROOT/bin/busybox"
# Links must point at /bin/busybox inside the image, hence chroot (not --install rootfs/bin).
chroot "$ROOT" /bin/busybox --install -s /bin
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF

mkdir -p "$OUT_DIR"
python3 - "$ROOT" "$OUT_DIR" "$EPOCH" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile

root, out_dir, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
REF = "docker.io/library/busybox:latest"

def tar_bytes(files):
    """files: list of (name, bytes) -> deterministic uncompressed tar."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), epoch, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def layer_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        paths = []
        for dirpath, dirnames, filenames in os.walk(root):
            for n in dirnames + filenames:
                paths.append(os.path.join(dirpath, n))
        for p in sorted(paths):
            info = t.gettarinfo(p, arcname=os.path.relpath(p, root))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = epoch
            if info.isreg():
                with open(p, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
    return buf.getvalue()

def sha(b):
    return hashlib.sha256(b).hexdigest()

layer = layer_tar()
diff_id = sha(layer)
created = "2023-11-14T22:13:20Z"
config = json.dumps({
    "architecture": "amd64",
    "os": "linux",
    "created": created,
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["sh"],
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created": created, "created_by": "scripts/build-busybox-image.sh"}],
}, sort_keys=True, separators=(",", ":")).encode()
config_hex = sha(config)

# docker-archive (the `docker save` layout: manifest.json + <id>.json + <dir>/layer.tar)
docker_manifest = json.dumps([{
    "Config": config_hex + ".json",
    "RepoTags": [REF],
    "Layers": [diff_id + "/layer.tar"],
}]).encode()
repositories = json.dumps({"docker.io/library/busybox": {"latest": diff_id}}).encode()
with open(os.path.join(out_dir, "busybox-docker.tar"), "wb") as f:
    f.write(tar_bytes([
        (config_hex + ".json", config),
        (diff_id + "/layer.tar", layer),
        ("manifest.json", docker_manifest),
        ("repositories", repositories),
    ]))

# oci-archive (an OCI image layout in a tar), layer gzip-compressed
gz = io.BytesIO()
with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
    g.write(layer)
layer_gz = gz.getvalue()
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + config_hex, "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + sha(layer_gz), "size": len(layer_gz)}],
}, separators=(",", ":")).encode()
index = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + sha(manifest), "size": len(manifest),
        "platform": {"architecture": "amd64", "os": "linux"},
        "annotations": {"org.opencontainers.image.ref.name": REF},
    }],
}, separators=(",", ":")).encode()
blobs = [config, layer_gz, manifest]
with open(os.path.join(out_dir, "busybox-oci.tar"), "wb") as f:
    f.write(tar_bytes(
        [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
        + [("blobs/sha256/" + sha(b), b) for b in blobs]))
print("image id sha256:" + config_hex)
PY
echo "wrote $OUT_DIR/busybox-docker.tar $OUT_DIR/busybox-oci.tar"
