//! NodePorts: a host port (port + protocol + address) can be held by one pod per node.

use super::{FilterResult, Rejection};
use crate::node_info::{HostPort, NodeInfo};

pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

pub fn host_ports_fit(wanted: &[HostPort], node: &NodeInfo) -> FilterResult {
    let clash = wanted
        .iter()
        .any(|w| node.used_ports().any(|used| used.conflicts_with(w)));
    if clash {
        Err(Rejection::unschedulable(vec![REASON.into()]))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::Code;
    use crate::node_info::tests::{node, placed};
    use std::sync::Arc;

    fn hp(ip: &str, port: i32) -> HostPort {
        HostPort {
            ip: ip.into(),
            protocol: "TCP".into(),
            port,
        }
    }

    #[test]
    fn conflicting_host_port_rejects() {
        let mut info = NodeInfo::new(Arc::new(node("n", "1", "1Gi", "10")));
        assert!(host_ports_fit(&[hp("0.0.0.0", 8080)], &info).is_ok());
        let mut holder = placed("holder", 0, 0);
        holder.host_ports = vec![hp("10.0.0.1", 8080)];
        info.add_pod(holder);
        let err = host_ports_fit(&[hp("0.0.0.0", 8080)], &info).unwrap_err();
        assert_eq!(err.code, Code::Unschedulable);
        assert_eq!(err.reasons, vec![REASON.to_string()]);
        assert!(host_ports_fit(&[hp("10.0.0.2", 8080)], &info).is_ok());
        assert!(host_ports_fit(&[hp("0.0.0.0", 8081)], &info).is_ok());
        assert!(host_ports_fit(&[], &info).is_ok());
    }
}
