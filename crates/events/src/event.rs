//! The Event written for one occurrence.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Who records: `component` (`kubelet`, `default-scheduler`, `node-controller`, ...), the node
/// it runs on if any, and the instance that reports.
#[derive(Debug, Clone)]
pub struct Source {
    pub component: String,
    pub host: Option<String>,
    pub instance: String,
}

/// Something that happened to an object.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub about: ObjectReference,
    pub type_: EventType,
    pub reason: String,
    pub message: String,
    /// What was being done (`Binding`, `Scheduling`, ...); the kubelet leaves it out.
    pub action: Option<String>,
}

impl Occurrence {
    /// Where the Event lives: the object's namespace; `default` for cluster-scoped objects
    /// (nodes), as Kubernetes does it.
    pub fn namespace(&self) -> String {
        self.about
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".into())
    }
}

/// A first Event (`count: 1`) for `what`, named after the object and the time so that names
/// do not collide.
pub fn new_event(source: &Source, what: &Occurrence, now: Timestamp) -> Event {
    let object = what.about.name.as_deref().unwrap_or("object");
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{object}.{:x}", now.as_nanosecond())),
            namespace: Some(what.namespace()),
            ..Default::default()
        },
        involved_object: what.about.clone(),
        reason: Some(what.reason.clone()),
        message: Some(what.message.clone()),
        type_: Some(what.type_.as_str().into()),
        action: what.action.clone(),
        source: Some(EventSource {
            component: Some(source.component.clone()),
            host: source.host.clone(),
        }),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        reporting_component: Some(source.component.clone()),
        reporting_instance: Some(source.instance.clone()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occurrence(namespace: Option<&str>) -> Occurrence {
        Occurrence {
            about: ObjectReference {
                kind: Some("Pod".into()),
                name: Some("web".into()),
                namespace: namespace.map(Into::into),
                ..Default::default()
            },
            type_: EventType::Warning,
            reason: "Failed".into(),
            message: "it broke".into(),
            action: None,
        }
    }

    fn source() -> Source {
        Source {
            component: "kubelet".into(),
            host: Some("node1".into()),
            instance: "node1".into(),
        }
    }

    #[test]
    fn a_new_event_counts_one_and_names_its_source() {
        let now = Timestamp::new(1_700_000_000, 5).unwrap();
        let e = new_event(&source(), &occurrence(Some("ns")), now);
        assert_eq!(e.metadata.name.as_deref(), Some("web.17979cfe362a0005"));
        assert_eq!(e.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(e.count, Some(1));
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.first_timestamp, Some(Time(now)));
        assert_eq!(e.last_timestamp, Some(Time(now)));
        let src = e.source.unwrap();
        assert_eq!(src.component.as_deref(), Some("kubelet"));
        assert_eq!(src.host.as_deref(), Some("node1"));
        assert_eq!(e.reporting_instance.as_deref(), Some("node1"));
    }

    #[test]
    fn cluster_scoped_objects_get_events_in_default() {
        assert_eq!(occurrence(None).namespace(), "default");
        assert_eq!(occurrence(Some("")).namespace(), "default");
        assert_eq!(occurrence(Some("kube-system")).namespace(), "kube-system");
    }
}
