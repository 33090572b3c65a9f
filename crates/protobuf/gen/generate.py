#!/usr/bin/env python3
"""Generate the protobuf -> JSON converters for peapod-protobuf.

Inputs:
  * the k8s-pb crate sources (prost structs: field kinds, tags, Rust names, Resource impls),
  * gen/go_fields.json (extracted from Kubernetes' Go types by extract_go_fields.py:
    JSON names, omitempty, pointer-ness and inlining, keyed by protobuf tag),
  * the k8s-openapi crate sources (serde names), used to cross-check every JSON name.

Outputs (never edit by hand, rerun this script instead):
  src/generated/to_json.rs   `impl ToJson` for every message reachable from the root kinds
  src/generated/dispatch.rs  (apiVersion, kind) -> decoder
  src/generated/samples.rs   test-only `Sample` impls filling every field, plus the list of
                             root kinds with their k8s-openapi type for round-trip tests

Usage: python3 gen/generate.py [--k8s-pb DIR] [--k8s-openapi DIR]
(defaults: the crates in ~/.cargo/registry/src/*/)
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRATE = os.path.dirname(HERE)
OUT_DIR = os.path.join(CRATE, "src", "generated")

# The Kubernetes minor the k8s-openapi feature of this workspace selects. Samples only fill
# fields this version knows, so a round trip through k8s-openapi is lossless.
OPENAPI_VERSION = "v1_33"

# Messages with a custom JSON form; their ToJson/Sample impls are hand-written (src/special.rs).
SPECIAL = {
    "apimachinery::pkg::api::resource::Quantity",
    "apimachinery::pkg::util::intstr::IntOrString",
    "apimachinery::pkg::apis::meta::v1::Time",
    "apimachinery::pkg::apis::meta::v1::MicroTime",
    "apimachinery::pkg::apis::meta::v1::Duration",
    "apimachinery::pkg::apis::meta::v1::FieldsV1",
    "apimachinery::pkg::runtime::RawExtension",
}

# Kinds (subresources, options) that have no k8s-pb Resource impl but clients may send.
EXTRA_ROOTS = [
    ("autoscaling/v1", "Scale", "api::autoscaling::v1::Scale"),
    ("policy/v1", "Eviction", "api::policy::v1::Eviction"),
    ("authentication.k8s.io/v1", "TokenRequest", "api::authentication::v1::TokenRequest"),
    ("v1", "DeleteOptions", "apimachinery::pkg::apis::meta::v1::DeleteOptions"),
    ("meta.k8s.io/v1", "DeleteOptions", "apimachinery::pkg::apis::meta::v1::DeleteOptions"),
]

SCALAR_KINDS = {"string", "bool", "int32", "int64", "double"}


def die(msg):
    sys.stderr.write(f"generate.py: {msg}\n")
    sys.exit(1)


def find_crate(pattern):
    hits = sorted(glob.glob(os.path.expanduser(f"~/.cargo/registry/src/*/{pattern}")))
    if not hits:
        die(f"cannot find {pattern} in ~/.cargo/registry/src; pass its path explicitly")
    return hits[-1]


# ---------------------------------------------------------------------------------------
# k8s-pb parsing


class Field:
    def __init__(self, rust, kind, label, tag, type_text, map_spec):
        self.rust = rust  # Rust field name as written (may be r#type)
        self.kind = kind  # string/bool/int32/int64/double/bytes/message/map
        self.label = label  # optional/repeated/map
        self.tag = tag
        self.type_text = type_text
        self.map_spec = map_spec  # (key kind, value kind) for maps
        self.msg_type = None  # canonical path of the message (value) type
        # filled from Go metadata
        self.json = None
        self.omitempty = False
        self.pointer = False
        self.inline = False


class Struct:
    def __init__(self, module, name, fields):
        self.module = module
        self.name = name
        self.fields = fields

    @property
    def path(self):
        return f"{self.module}::{self.name}"


STRUCT_RE = re.compile(r"^pub struct (\w+) \{\n(.*?)^\}", re.S | re.M)
FIELD_RE = re.compile(
    r"#\[prost\(([^\]]*)\)\]\s*pub\s+((?:r#)?\w+)\s*:\s*(.*?),\s*(?=#\[|$)", re.S
)
RESOURCE_RE = re.compile(
    r"impl crate::Resource for (\w+) \{\s*const API_VERSION: &'static str = \"([^\"]*)\";"
    r".*?const KIND: &'static str = \"([^\"]*)\";",
    re.S,
)
TYPE_PATH_RE = re.compile(r"((?:super::)*(?:\w+::)*[A-Z]\w*)")


def strip_comments(text):
    lines = [ln for ln in text.split("\n") if not ln.strip().startswith("///")]
    return "\n".join(lines)


def resolve_type(module, path):
    parts = path.split("::")
    mod = module.split("::")
    while parts and parts[0] == "super":
        parts.pop(0)
        mod.pop()
    return "::".join(mod + parts)


def message_type_of(module, type_text):
    """Canonical path of the message type inside Option<..>/Vec<..>/Box<..>/BTreeMap<_, ..>."""
    cleaned = type_text
    for wrapper in (
        "::core::option::Option<",
        "::prost::alloc::vec::Vec<",
        "::prost::alloc::boxed::Box<",
        "::prost::alloc::collections::BTreeMap<",
        "::prost::alloc::string::String",
    ):
        cleaned = cleaned.replace(wrapper, " ")
    candidates = [c for c in TYPE_PATH_RE.findall(cleaned)]
    if not candidates:
        die(f"cannot find message type in {type_text!r} ({module})")
    return resolve_type(module, candidates[-1])


def parse_prost_attr(attr):
    items = [a.strip() for a in attr.split(",")]
    tag = int(re.search(r'tag\s*=\s*"(\d+)"', attr).group(1))
    m = re.search(r'btree_map\s*=\s*"([^"]*)"', attr)
    if m:
        key, value = [x.strip() for x in m.group(1).split(",")]
        return "map", "map", tag, (key, value)
    kind = items[0].split("=")[0].strip()
    label = "repeated" if "repeated" in items else "optional"
    return kind, label, tag, None


def parse_k8s_pb(src):
    structs = {}
    resources = []
    for path in sorted(glob.glob(os.path.join(src, "**", "mod.rs"), recursive=True)):
        rel = os.path.relpath(os.path.dirname(path), src)
        module = rel.replace(os.sep, "::")
        text = strip_comments(open(path, encoding="utf-8").read())
        for m in STRUCT_RE.finditer(text):
            name, body = m.group(1), m.group(2)
            fields = []
            for fm in FIELD_RE.finditer(body):
                kind, label, tag, map_spec = parse_prost_attr(fm.group(1))
                f = Field(fm.group(2), kind, label, tag, " ".join(fm.group(3).split()), map_spec)
                if kind == "message" or (kind == "map" and map_spec[1] == "message"):
                    f.msg_type = message_type_of(module, f.type_text)
                fields.append(f)
            structs[f"{module}::{name}"] = Struct(module, name, fields)
        for rm in RESOURCE_RE.finditer(text):
            resources.append((rm.group(2), rm.group(3), f"{module}::{rm.group(1)}"))
    return structs, resources


# ---------------------------------------------------------------------------------------
# Go metadata


def go_package_of(module):
    parts = module.split("::")
    if parts[0] == "api":
        return "api", "/".join(parts[1:])
    if parts[0] == "apimachinery":
        return "apimachinery", "/".join(parts[1:])
    return None, None


def is_list_wrapper(struct):
    """Go named slices (e.g. `type ExtraValue []string`) become a message with one
    repeated `items` field in protobuf, but stay a plain array in JSON."""
    return (
        len(struct.fields) == 1
        and struct.fields[0].rust == "items"
        and struct.fields[0].label == "repeated"
        and struct.fields[0].kind == "string"
    )


def attach_go_metadata(struct, go):
    repo, pkg = go_package_of(struct.module)
    pkg_structs = go.get(repo, {}).get(pkg)
    if pkg_structs is None:
        die(f"no Go package {repo}/{pkg} for {struct.path}")
    matches = [n for n in pkg_structs if n.lower() == struct.name.lower()]
    if not matches and is_list_wrapper(struct):
        return
    if len(matches) != 1:
        die(f"Go struct for {struct.path}: candidates {matches}")
    go_fields = pkg_structs[matches[0]]
    for f in struct.fields:
        meta = go_fields.get(str(f.tag))
        if meta is None:
            die(f"{struct.path}.{f.rust}: tag {f.tag} not in Go struct {matches[0]}")
        f.json, f.omitempty, f.pointer, f.inline = meta
        if f.inline and f.kind != "message":
            die(f"{struct.path}.{f.rust}: inline non-message field")


# ---------------------------------------------------------------------------------------
# k8s-openapi names


OPENAPI_STRUCT_RE = re.compile(r"^pub struct (\w+)", re.M)
OPENAPI_FIELD_RE = re.compile(r'serialize_field\(&mut state, "([^"]+)"')


class OpenApi:
    def __init__(self, root):
        self.root = root
        self.versions = sorted(
            d for d in os.listdir(root) if re.fullmatch(r"v1_\d+", d)
        )
        self.cache = {}

    def names(self, version, module, name):
        """JSON names the k8s-openapi struct serializes, or None if it has no such struct."""
        key = (version, module)
        if key not in self.cache:
            table = {}
            directory = os.path.join(self.root, version, *module.split("::"))
            if os.path.isdir(directory):
                for fname in os.listdir(directory):
                    if not fname.endswith(".rs") or fname == "mod.rs":
                        continue
                    text = open(os.path.join(directory, fname), encoding="utf-8").read()
                    sm = OPENAPI_STRUCT_RE.search(text)
                    if sm:
                        table[sm.group(1).lower()] = (sm.group(1), set(OPENAPI_FIELD_RE.findall(text)))
            self.cache[key] = table
        return self.cache[key].get(name.lower())


# ---------------------------------------------------------------------------------------
# closure and checks


def closure(structs, roots):
    seen = []
    seen_set = set()
    stack = list(roots)
    while stack:
        path = stack.pop()
        if path in seen_set or path in SPECIAL:
            continue
        if path not in structs:
            die(f"unknown message {path}")
        seen_set.add(path)
        seen.append(path)
        for f in structs[path].fields:
            if f.msg_type:
                stack.append(f.msg_type)
    return sorted(seen)


def find_cycles(structs, paths):
    """Recursive messages would make Sample::sample() recurse forever."""
    state = {}

    def visit(p, trail):
        if p in SPECIAL:
            return
        if state.get(p) == 1:
            die(f"recursive message types are not supported: {' -> '.join(trail + [p])}")
        if state.get(p) == 2:
            return
        state[p] = 1
        for f in structs[p].fields:
            if f.msg_type:
                visit(f.msg_type, trail + [p])
        state[p] = 2

    for p in paths:
        visit(p, [])


def inline_parents(structs, paths):
    parents = {}
    for p in paths:
        for f in structs[p].fields:
            if f.inline:
                parents.setdefault(f.msg_type, []).append(p)
    return parents


def json_names(structs, openapi, parents, version, path):
    """Names k8s-openapi (given version) accepts for the fields of `path`; None if unknown."""
    s = structs[path]
    found = openapi.names(version, s.module, s.name)
    if found is not None:
        return found[1]
    if path in parents:
        union = set()
        for parent in parents[path]:
            names = json_names(structs, openapi, parents, version, parent)
            if names is None:
                return None
            union |= names
        return union
    return None


def check_names(structs, openapi, parents, paths):
    problems = []
    for p in paths:
        if structs[p].fields and structs[p].fields[0].json is None:
            continue  # list wrapper, JSON is a bare array
        for f in structs[p].fields:
            if f.inline:
                continue
            known = [
                json_names(structs, openapi, parents, v, p) for v in openapi.versions
            ]
            known = [k for k in known if k is not None]
            if not known:
                problems.append(f"{p}: no k8s-openapi struct in any version")
                break
            if not any(f.json in k for k in known):
                problems.append(f"{p}.{f.rust}: JSON name {f.json!r} unknown to k8s-openapi")
    if problems:
        die("JSON name check failed:\n  " + "\n  ".join(problems))


# ---------------------------------------------------------------------------------------
# emission


def rust_field(f):
    return f.rust


def type_ref(path):
    return f"k8s_pb::{path}"


def emit_field(f):
    name = json.dumps(f.json)
    field = f"self.{rust_field(f)}"
    if f.kind == "map":
        value_kind = f.map_spec[1]
        if value_kind == "message":
            return f"put_map_message(&mut out, {name}, &{field})?;"
        if value_kind == "bytes":
            return f"put_map_bytes(&mut out, {name}, &{field});"
        return f"put_map_scalar(&mut out, {name}, &{field})?;"
    if f.label == "repeated":
        if f.kind == "message":
            return f"put_repeated_message(&mut out, {name}, &{field})?;"
        if f.kind == "bytes":
            die(f"repeated bytes field {f.rust} is not supported")
        return f"put_repeated_scalar(&mut out, {name}, &{field})?;"
    if f.kind == "message":
        if f.inline:
            return f"put_inline(&mut out, {field}.as_deref())?;" if "Box<" in f.type_text else f"put_inline(&mut out, {field}.as_ref())?;"
        if "Box<" in f.type_text:
            return f"put_message(&mut out, {name}, {field}.as_deref())?;"
        return f"put_message(&mut out, {name}, {field}.as_ref())?;"
    # Scalars and bytes: Go always sends non-pointer fields, so their zero value means
    # "unset" exactly when Go's JSON encoder would drop it (omitempty).
    if not f.pointer and f.omitempty:
        presence = "Presence::OmitZero"
    elif not f.pointer:
        presence = "Presence::AlwaysEmit"
    else:
        presence = "Presence::IfSet"
    if f.kind == "bytes":
        return f"put_bytes(&mut out, {name}, {field}.as_deref(), {presence});"
    if f.kind not in SCALAR_KINDS:
        die(f"unsupported field kind {f.kind}")
    return f"put_scalar(&mut out, {name}, {field}.as_ref(), {presence})?;"


HEADER = "// @generated by crates/protobuf/gen/generate.py. Do not edit by hand; rerun the script.\n"


def emit_to_json(structs, paths):
    out = [HEADER]
    out.append("use serde_json::{Map, Value};\n")
    out.append("use crate::error::DecodeError;")
    out.append("use crate::json_fields::*;")
    out.append("use crate::to_json::ToJson;\n")
    for p in paths:
        s = structs[p]
        out.append(f"impl ToJson for {type_ref(p)} {{")
        out.append("    fn to_json(&self) -> Result<Value, DecodeError> {")
        if s.fields and s.fields[0].json is None:
            out.append("        list_wrapper_json(&self.items)")
            out.append("    }")
            out.append("}\n")
            continue
        mut = "mut " if s.fields else ""
        out.append(f"        let {mut}out = Map::new();")
        for f in s.fields:
            out.append("        " + emit_field(f))
        out.append("        Ok(Value::Object(out))")
        out.append("    }")
        out.append("}\n")
    return "\n".join(out)


def emit_dispatch(roots):
    out = [HEADER]
    out.append("use serde_json::Value;\n")
    out.append("use crate::error::DecodeError;")
    out.append("use crate::to_json::decode_message;\n")
    out.append("/// Every (apiVersion, kind) this crate decodes.")
    out.append("pub const SUPPORTED_KINDS: &[(&str, &str)] = &[")
    for api_version, kind, _ in roots:
        out.append(f"    ({json.dumps(api_version)}, {json.dumps(kind)}),")
    out.append("];\n")
    out.append("/// Decodes `raw` as the message for (apiVersion, kind); None for kinds not supported.")
    out.append(
        "pub(crate) fn decode_kind(api_version: &str, kind: &str, raw: &[u8]) -> Option<Result<Value, DecodeError>> {"
    )
    out.append("    let decoded = match (api_version, kind) {")
    for api_version, kind, path in roots:
        out.append(
            f"        ({json.dumps(api_version)}, {json.dumps(kind)}) => decode_message::<{type_ref(path)}>(raw),"
        )
    out.append("        _ => return None,")
    out.append("    };")
    out.append("    Some(decoded)")
    out.append("}")
    return "\n".join(out) + "\n"


def sample_value(f, depth_note=""):
    if f.kind == "map":
        key = '"key".to_string()'
        value_kind = f.map_spec[1]
        if value_kind == "message":
            value = "Sample::sample()"
        elif value_kind == "bytes":
            value = 'b"map-bytes".to_vec()'
        else:
            value = f'"{f.json}-value".to_string()'
        return f"[({key}, {value})].into_iter().collect()"
    scalar = {
        "string": f'"{f.json or "item"}-sample".to_string()',
        "bool": "true",
        "int32": "3",
        "int64": "5",
        "double": "1.5",
        "bytes": 'b"sample-bytes".to_vec()',
        "message": "Sample::sample()",
    }[f.kind]
    if f.kind == "message" and "Box<" in f.type_text:
        scalar = "Box::new(Sample::sample())"
    if f.label == "repeated":
        return f"vec![{scalar}]"
    return f"Some({scalar})"


def sampled_fields(structs, openapi, parents, path):
    """Fields the sample fills: those the compiled k8s-openapi version can round-trip."""
    s = structs[path]
    names = json_names(structs, openapi, parents, OPENAPI_VERSION, path)
    chosen = []
    for f in s.fields:
        if f.json is None:  # list wrapper
            chosen.append(f)
            continue
        known = names is not None and (f.inline or f.json in names)
        if f.msg_type and not f.inline and f.msg_type not in SPECIAL:
            child = structs[f.msg_type]
            known = known and (
                openapi.names(OPENAPI_VERSION, child.module, child.name) is not None
                or f.msg_type in parents
            )
        if known:
            chosen.append(f)
    return chosen


# JSON leaves (scalars) of the hand-written samples in src/test_support.rs.
SPECIAL_LEAVES = {
    "apimachinery::pkg::runtime::RawExtension": 3,
    "apimachinery::pkg::apis::meta::v1::FieldsV1": 0,
}


def sample_leaves(structs, openapi, parents, path, memo):
    """Number of JSON scalars the sample of `path` must decode to; computed independently of
    the Rust emitters so a field the converter forgets shows up as a count mismatch."""
    if path in SPECIAL:
        return SPECIAL_LEAVES.get(path, 1)
    if path not in memo:
        total = 0
        for f in sampled_fields(structs, openapi, parents, path):
            if f.msg_type:
                total += sample_leaves(structs, openapi, parents, f.msg_type, memo)
            else:
                total += 1
        memo[path] = total
    return memo[path]


def emit_samples(structs, openapi, parents, paths, roots):
    out = [HEADER]
    out.append("use crate::test_support::{RootCase, Sample};\n")
    for p in paths:
        s = structs[p]
        out.append(f"impl Sample for {type_ref(p)} {{")
        out.append("    fn sample() -> Self {")
        out.append("        Self {")
        chosen = sampled_fields(structs, openapi, parents, p)
        for f in chosen:
            out.append(f"            {rust_field(f)}: {sample_value(f)},")
        if len(chosen) < len(s.fields):
            out.append("            ..Default::default()")
        out.append("        }")
        out.append("    }")
        out.append("}\n")
    out.append("/// Root kinds that exist in the k8s-openapi version this workspace compiles.")
    out.append("pub(crate) fn root_cases() -> Vec<RootCase> {")
    out.append("    vec![")
    for api_version, kind, path in roots:
        s = structs[path]
        found = openapi.names(OPENAPI_VERSION, s.module, s.name)
        if found is None:
            continue
        openapi_type = f"k8s_openapi::{s.module}::{found[0]}"
        leaves = sample_leaves(structs, openapi, parents, path, {})
        out.append(
            f"        RootCase::new::<{type_ref(path)}, {openapi_type}>({json.dumps(api_version)}, {json.dumps(kind)}, {leaves}),"
        )
    out.append("    ]")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k8s-pb", default=None)
    ap.add_argument("--k8s-openapi", default=None)
    args = ap.parse_args()
    pb_src = os.path.join(args.k8s_pb or find_crate("k8s-pb-0.9.*"), "src")
    openapi_src = os.path.join(args.k8s_openapi or find_crate("k8s-openapi-0.29.*"), "src")

    structs, resources = parse_k8s_pb(pb_src)
    go = json.load(open(os.path.join(HERE, "go_fields.json"), encoding="utf-8"))

    # Stable built-in kinds: what kubectl create/apply-style clients send.
    roots = [
        r
        for r in resources
        if r[2].startswith("api::") and re.fullmatch(r"v\d+", r[2].split("::")[-2])
    ]
    roots += EXTRA_ROOTS
    roots.sort()
    paths = closure(structs, [r[2] for r in roots])
    find_cycles(structs, paths)
    for p in paths:
        attach_go_metadata(structs[p], go)
    openapi = OpenApi(openapi_src)
    parents = inline_parents(structs, paths)
    check_names(structs, openapi, parents, paths)

    os.makedirs(OUT_DIR, exist_ok=True)
    files = {
        "to_json.rs": emit_to_json(structs, paths),
        "dispatch.rs": emit_dispatch(roots),
        "samples.rs": emit_samples(structs, openapi, parents, paths, roots),
    }
    written = []
    for name, text in files.items():
        path = os.path.join(OUT_DIR, name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(path)
    # Keep `cargo fmt --check` clean for the workspace.
    subprocess.run(["rustfmt", "--edition", "2021", *written], check=True)
    print(f"{len(roots)} root kinds, {len(paths)} messages -> {OUT_DIR}")


if __name__ == "__main__":
    main()
