//! Image reference normalisation, following Docker's rules (which Kubernetes and
//! containerd share): `busybox` → `docker.io/library/busybox:latest`.

use std::fmt;

use super::digest::Digest;
use super::error::{ImageError, Result};

pub const DEFAULT_REGISTRY: &str = "docker.io";
const DEFAULT_TAG: &str = "latest";

/// A fully qualified reference: registry, repository and a tag and/or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedRef {
    /// `docker.io`, `registry.k8s.io`, `127.0.0.1:5000`, `localhost`, ...
    pub registry: String,
    /// `library/busybox`, `pause`, ...
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>`
    pub digest: Option<Digest>,
}

impl NormalizedRef {
    /// `registry/repository`, the key tags and digests hang from.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// `registry/repository:tag`, if the reference has a tag.
    pub fn tagged(&self) -> Option<String> {
        self.tag.as_ref().map(|t| format!("{}:{}", self.name(), t))
    }

    /// `registry/repository@digest`, if the reference has a digest.
    pub fn digested(&self) -> Option<String> {
        self.digest
            .as_ref()
            .map(|d| format!("{}@{}", self.name(), d))
    }
}

impl fmt::Display for NormalizedRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Normalises a user-supplied reference. Errors name the offending part.
pub fn normalize_reference(reference: &str) -> Result<NormalizedRef> {
    let bad = |reason: &str| ImageError::InvalidReference {
        reference: reference.to_string(),
        reason: reason.to_string(),
    };
    if reference.is_empty() {
        return Err(bad("empty reference"));
    }
    if reference.len() > 4096 || reference.chars().any(|c| c.is_whitespace()) {
        return Err(bad("contains whitespace or is too long"));
    }

    let (rest, digest) = match reference.split_once('@') {
        Some((rest, d)) => (
            rest,
            Some(Digest::parse(d).map_err(|e| bad(&e.to_string()))?),
        ),
        None => (reference, None),
    };
    // A ':' after the last '/' separates the tag; earlier ones belong to a registry port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        if !valid_tag(tag) {
            return Err(bad("invalid tag (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"));
        }
    }

    let (registry, repository) = split_registry(name);
    if !valid_registry(registry) {
        return Err(bad("invalid registry host"));
    }
    let repository = if registry == DEFAULT_REGISTRY && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_string()
    };
    if repository.is_empty() || !repository.split('/').all(valid_path_component) {
        return Err(bad(
            "invalid repository name (lowercase letters, digits and separators . _ __ -)",
        ));
    }
    if name.len() > 255 {
        return Err(bad("repository name longer than 255 characters"));
    }

    let tag = match (tag, &digest) {
        (Some(t), _) => Some(t.to_string()),
        (None, None) => Some(DEFAULT_TAG.to_string()),
        (None, Some(_)) => None,
    };
    Ok(NormalizedRef {
        registry: registry.to_string(),
        repository,
        tag,
        digest,
    })
}

/// Docker's rule: the first component is a registry if it looks like a host
/// (has a '.' or ':', or is `localhost`, or has uppercase letters).
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            let registry = if first == "index.docker.io" {
                DEFAULT_REGISTRY
            } else {
                first
            };
            (registry, rest)
        }
        _ => (DEFAULT_REGISTRY, name),
    }
}

fn valid_registry(registry: &str) -> bool {
    let (host, port) = match registry.strip_prefix('[') {
        // IPv6 literal: [::1]:5000
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) => {
                if addr.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                return rest.is_empty()
                    || rest
                        .strip_prefix(':')
                        .is_some_and(|p| p.parse::<u16>().is_ok());
            }
            None => return false,
        },
        None => match registry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (registry, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}
