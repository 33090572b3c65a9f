//! Turning a request path into what it addresses: a discovery document or a resource
//! (with namespace, name and subresource).

use crate::registry::{self, ResourceInfo};

#[derive(Debug)]
pub enum Target {
    /// `/api` or `/apis`.
    RootDiscovery {
        legacy_core: bool,
    },
    /// `/apis/<group>`.
    GroupDiscovery {
        group: String,
    },
    /// `/api/v1` or `/apis/<group>/<version>`.
    VersionDiscovery {
        group: String,
        version: String,
    },
    Resource(ResourceRequest),
}

#[derive(Debug, Clone)]
pub struct ResourceRequest {
    pub res: &'static ResourceInfo,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// The deprecated `/watch/` path form was used.
    pub watch_path: bool,
}

/// Parses `path`; `None` when nothing is served there.
pub fn parse(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Some(Target::RootDiscovery { legacy_core: true }),
        ["apis"] => return Some(Target::RootDiscovery { legacy_core: false }),
        ["apis", g] => {
            return registry::group_versions()
                .iter()
                .any(|(gg, _)| gg == g)
                .then(|| Target::GroupDiscovery {
                    group: g.to_string(),
                })
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !g.is_empty() => (*g, *v, rest),
        _ => return None,
    };
    if !registry::group_versions().contains(&(group, version)) {
        // An unknown group/version; but `/apis/<g>/<v>` for a known group must still 404.
        return None;
    }
    let (watch_path, rest) = match rest {
        ["watch", r @ ..] => (true, r),
        r => (false, r),
    };
    let find = |plural: &str| registry::find(group, version, plural);
    let req = |res, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Some(Target::Resource(ResourceRequest {
            res,
            namespace: namespace.map(String::from),
            name: name.map(String::from),
            subresource: sub.map(String::from),
            watch_path,
        }))
    };
    match rest {
        [] if !watch_path => Some(Target::VersionDiscovery {
            group: group.to_string(),
            version: version.to_string(),
        }),
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|r| r.namespaced) => {
            let res = find(plural)?;
            match tail {
                [] => req(res, Some(ns), None, None),
                [name] => req(res, Some(ns), Some(name), None),
                [name, sub] if res.has_subresource(sub) => {
                    req(res, Some(ns), Some(name), Some(sub))
                }
                _ => None,
            }
        }
        [plural, tail @ ..] => {
            let res = find(plural)?;
            match tail {
                [] => req(res, None, None, None),
                [name] if !res.namespaced => req(res, None, Some(name), None),
                [name, sub] if !res.namespaced && res.has_subresource(sub) => {
                    req(res, None, Some(name), Some(sub))
                }
                _ => None,
            }
        }
        [] => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourceRequest {
        match parse(path) {
            Some(Target::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths() {
        let r = res("/api/v1/namespaces/default/pods/web/log");
        assert_eq!(
            (
                r.res.plural,
                r.namespace.as_deref(),
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("pods", Some("default"), Some("web"), Some("log"))
        );
        let r = res("/api/v1/namespaces/kube-system");
        assert_eq!(
            (r.res.plural, r.name.as_deref()),
            ("namespaces", Some("kube-system"))
        );
        let r = res("/api/v1/namespaces/x/status");
        assert_eq!(
            (r.name.as_deref(), r.subresource.as_deref()),
            (Some("x"), Some("status"))
        );
        let r = res("/api/v1/pods");
        assert!(r.namespace.is_none() && r.name.is_none());
        let r = res("/apis/apps/v1/namespaces/default/deployments/api/scale");
        assert_eq!(r.subresource.as_deref(), Some("scale"));
        assert!(parse("/api/v1/pods/web").is_none());
        assert!(parse("/apis/apps/v1/namespaces/default/deployments/api/exec").is_none());
        assert!(parse("/apis/nope/v1").is_none());
        assert!(matches!(
            parse("/apis/apps"),
            Some(Target::GroupDiscovery { .. })
        ));
        assert!(matches!(
            parse("/api/v1"),
            Some(Target::VersionDiscovery { .. })
        ));
        assert!(res("/api/v1/watch/namespaces/default/pods").watch_path);
    }
}
