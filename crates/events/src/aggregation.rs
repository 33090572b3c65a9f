//! The rule for repeated events, kept apart from the API calls so it can be tested alone.

use std::collections::HashMap;

use crate::event::Occurrence;

/// Aggregation state is forgotten beyond this many distinct events (client-go's recorder keeps
/// an LRU of the same size): a repeat after that starts a new Event, which is harmless.
pub const MAX_TRACKED: usize = 4096;

/// What makes two occurrences "the same event".
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct EventKey {
    namespace: String,
    uid: String,
    field_path: String,
    type_: &'static str,
    reason: String,
    message: String,
}

impl EventKey {
    pub fn of(what: &Occurrence) -> Self {
        EventKey {
            namespace: what.namespace(),
            uid: what.about.uid.clone().unwrap_or_default(),
            field_path: what.about.field_path.clone().unwrap_or_default(),
            type_: what.type_.as_str(),
            reason: what.reason.clone(),
            message: what.message.clone(),
        }
    }
}

/// An Event already written for a key: bump it to `count` rather than create a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    pub name: String,
    pub count: i32,
}

/// Events written so far, by key.
#[derive(Debug, Default)]
pub struct Aggregation {
    written: HashMap<EventKey, (String, i32)>,
}

impl Aggregation {
    /// The Event to bump for `key`, with its next count; `None`: create a new one.
    pub fn repeat_of(&self, key: &EventKey) -> Option<Repeat> {
        self.written.get(key).map(|(name, count)| Repeat {
            name: name.clone(),
            count: count + 1,
        })
    }

    /// `name` now stands at `count` for `key` (after a create or a bump that succeeded).
    pub fn written(&mut self, key: EventKey, name: String, count: i32) {
        if self.written.len() >= MAX_TRACKED && !self.written.contains_key(&key) {
            self.written.clear();
        }
        self.written.insert(key, (name, count));
    }

    /// Forgets the events of an object that is gone (or will not repeat them).
    pub fn forget_object(&mut self, uid: &str) {
        self.written.retain(|k, _| k.uid != uid);
    }

    pub fn len(&self) -> usize {
        self.written.len()
    }

    pub fn is_empty(&self) -> bool {
        self.written.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventType;
    use k8s_openapi::api::core::v1::ObjectReference;

    fn occurrence(uid: &str, field_path: Option<&str>, message: &str) -> Occurrence {
        Occurrence {
            about: ObjectReference {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                uid: Some(uid.into()),
                field_path: field_path.map(Into::into),
                ..Default::default()
            },
            type_: EventType::Normal,
            reason: "Pulled".into(),
            message: message.into(),
            action: None,
        }
    }

    #[test]
    fn a_repeat_bumps_the_event_written_first() {
        let mut agg = Aggregation::default();
        let key = EventKey::of(&occurrence("u1", None, "pulled"));
        assert_eq!(agg.repeat_of(&key), None);
        agg.written(key.clone(), "web.1".into(), 1);
        let again = EventKey::of(&occurrence("u1", None, "pulled"));
        assert_eq!(
            agg.repeat_of(&again),
            Some(Repeat {
                name: "web.1".into(),
                count: 2
            })
        );
        agg.written(again.clone(), "web.1".into(), 2);
        assert_eq!(agg.repeat_of(&again).map(|r| r.count), Some(3));
    }

    #[test]
    fn another_object_field_or_message_is_another_event() {
        let mut agg = Aggregation::default();
        agg.written(
            EventKey::of(&occurrence("u1", None, "pulled")),
            "web.1".into(),
            1,
        );
        for other in [
            occurrence("u2", None, "pulled"),
            occurrence("u1", Some("spec.containers{c}"), "pulled"),
            occurrence("u1", None, "pulled again"),
        ] {
            assert_eq!(agg.repeat_of(&EventKey::of(&other)), None);
        }
        let mut warning = occurrence("u1", None, "pulled");
        warning.type_ = EventType::Warning;
        assert_eq!(agg.repeat_of(&EventKey::of(&warning)), None);
    }

    #[test]
    fn a_full_table_starts_over_for_a_new_key_only() {
        let mut agg = Aggregation::default();
        for i in 0..MAX_TRACKED {
            let key = EventKey::of(&occurrence(&format!("u{i}"), None, "m"));
            agg.written(key, format!("e{i}"), 1);
        }
        assert_eq!(agg.len(), MAX_TRACKED);
        // A known key is bumped in place.
        agg.written(EventKey::of(&occurrence("u0", None, "m")), "e0".into(), 2);
        assert_eq!(agg.len(), MAX_TRACKED);
        // A new one clears the table first.
        agg.written(EventKey::of(&occurrence("new", None, "m")), "n".into(), 1);
        assert_eq!(agg.len(), 1);
    }

    #[test]
    fn forgetting_an_object_drops_all_its_events() {
        let mut agg = Aggregation::default();
        agg.written(EventKey::of(&occurrence("u1", None, "a")), "a".into(), 1);
        agg.written(EventKey::of(&occurrence("u1", None, "b")), "b".into(), 1);
        agg.written(EventKey::of(&occurrence("u2", None, "a")), "c".into(), 1);
        agg.forget_object("u1");
        assert_eq!(agg.len(), 1);
        assert!(agg
            .repeat_of(&EventKey::of(&occurrence("u2", None, "a")))
            .is_some());
    }
}
