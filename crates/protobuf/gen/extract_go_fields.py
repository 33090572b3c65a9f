#!/usr/bin/env python3
"""Extract, from Kubernetes' Go API types, what the protobuf->JSON converter needs
per struct field: protobuf tag number, JSON name, omitempty, pointer-ness, inline.

Why: the Go protobuf encoder always writes non-pointer scalar fields (even zero
values), while Go's JSON encoder drops zero values of `omitempty` fields. Only the
Go struct definitions tell the two cases apart.

Usage:
  extract_go_fields.py --api DIR --apimachinery DIR > go_fields.json
where DIR are checkouts of k8s.io/api and k8s.io/apimachinery at the release that
matches the k8s-pb crate (v0.34.x for k8s-pb 0.9).
"""
import argparse
import json
import os
import re
import sys

STRUCT_START = re.compile(r"^type (\w+) struct \{\s*$")
TAG_RE = re.compile(r"`([^`]*)`\s*(//.*)?$")
TAG_ITEM = re.compile(r'(\w+):"([^"]*)"')

# apimachinery packages whose messages are reachable from the built-in API types.
APIMACHINERY_PACKAGES = [
    "pkg/apis/meta/v1",
    "pkg/runtime",
    "pkg/util/intstr",
    "pkg/api/resource",
]


def parse_go_file(path):
    """Yield (struct_name, [field dict]) for every struct type in a Go file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = STRUCT_START.match(lines[i])
        i += 1
        if not m:
            continue
        name = m.group(1)
        fields = []
        depth = 1
        while i < len(lines) and depth > 0:
            line = lines[i]
            i += 1
            stripped = line.strip()
            if stripped == "}" and depth == 1:
                depth = 0
                break
            if stripped.startswith("//") or not stripped:
                continue
            field = parse_field(stripped)
            if field is not None:
                fields.append(field)
        yield name, fields


def parse_field(stripped):
    tag_match = TAG_RE.search(stripped)
    if not tag_match:
        return None
    tags = dict(TAG_ITEM.findall(tag_match.group(1)))
    if "protobuf" not in tags or tags["protobuf"] == "-":
        return None
    decl = stripped[: tag_match.start()].split()
    if len(decl) == 1:
        go_name, go_type = decl[0].split(".")[-1], decl[0]
    else:
        go_name, go_type = decl[0], " ".join(decl[1:])
    json_parts = tags.get("json", "").split(",")
    json_name = json_parts[0]
    opts = set(json_parts[1:])
    proto_parts = tags["protobuf"].split(",")
    number = int(proto_parts[1])
    return {
        "tag": number,
        "go": go_name,
        "json": json_name,
        "omitempty": "omitempty" in opts or "omitzero" in opts,
        "inline": "inline" in opts,
        "pointer": go_type.startswith("*"),
    }


def collect(root, package_dirs):
    out = {}
    for pkg in package_dirs:
        directory = os.path.join(root, pkg)
        structs = {}
        for fname in sorted(os.listdir(directory)):
            if not fname.endswith(".go") or fname.endswith("_test.go"):
                continue
            if fname.startswith("zz_generated") or fname.endswith(".pb.go"):
                continue
            for name, fields in parse_go_file(os.path.join(directory, fname)):
                if fields:
                    structs[name] = {
                        str(f["tag"]): [f["json"], f["omitempty"], f["pointer"], f["inline"]]
                        for f in fields
                    }
        if structs:
            out[pkg] = structs
    return out


def api_packages(api_root):
    pkgs = []
    for group in sorted(os.listdir(api_root)):
        gdir = os.path.join(api_root, group)
        if not os.path.isdir(gdir) or group.startswith("."):
            continue
        for version in sorted(os.listdir(gdir)):
            if re.fullmatch(r"v\d+((alpha|beta)\d+)?", version) and os.path.isdir(
                os.path.join(gdir, version)
            ):
                pkgs.append(f"{group}/{version}")
    return pkgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--apimachinery", required=True)
    args = ap.parse_args()
    result = {
        "format": "package -> struct -> proto tag -> [json, omitempty, pointer, inline]",
        "api": collect(args.api, api_packages(args.api)),
        "apimachinery": collect(args.apimachinery, APIMACHINERY_PACKAGES),
    }
    json.dump(result, sys.stdout, indent=None, sort_keys=True, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
