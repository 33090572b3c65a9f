//! core/v1 Events as the node agent, the scheduler and the controllers record them, in one
//! place so their shape and their aggregation cannot drift apart:
//!
//! * [`new_event`]: the Event written for one occurrence (name, namespace, source, times);
//! * [`Aggregation`]: the rule for repeats — the same object, field, type, reason and message
//!   bumps the earlier Event's `count` and `lastTimestamp` instead of creating another;
//! * [`Recorder`]: writes through the API with that rule; failures are logged, never returned,
//!   since the action an event describes has already happened.

mod aggregation;
mod event;
mod recorder;

pub use aggregation::{Aggregation, EventKey, Repeat, MAX_TRACKED};
pub use event::{new_event, EventType, Occurrence, Source};
pub use recorder::Recorder;
