//! Pod status exactly as the kubelet reports it, built as a pure function of a [`PodView`].

mod builder;
mod qos;
mod view;

#[cfg(test)]
mod tests;

pub use builder::{build_status, container_id, init_done};
pub use qos::qos_class;
pub use view::{ContainerView, PodView, Terminal, Waiting};
