//! Server side: carving one pod CIDR per Node out of the cluster CIDR.
//!
//! The function is pure: the caller (the node controller) passes the CIDRs already
//! recorded in Node objects and persists the answer in `spec.podCIDR(s)`.

use crate::cidr::Ipv4Cidr;
use crate::error::{NetworkError, Result};

/// Default cluster-wide pod network.
pub const DEFAULT_CLUSTER_CIDR: &str = "10.42.0.0/16";
/// Default service network, reserved for the service proxy.
pub const DEFAULT_SERVICE_CIDR: &str = "10.43.0.0/16";
/// Default size of a node's pod CIDR.
pub const DEFAULT_NODE_MASK: u8 = 24;

/// Returns the first `/node_mask` block of `cluster` that overlaps none of `assigned`.
///
/// Entries of `assigned` outside the cluster CIDR are ignored; entries of another size
/// block every node block they overlap.
pub fn allocate_node_cidr(
    cluster: Ipv4Cidr,
    node_mask: u8,
    assigned: &[Ipv4Cidr],
) -> Result<Ipv4Cidr> {
    if node_mask < cluster.prefix() || node_mask > 30 {
        return Err(NetworkError::invalid(format!(
            "node mask /{node_mask} must be between the cluster prefix /{} and /30",
            cluster.prefix()
        )));
    }
    let block = 1u64 << (32 - u32::from(node_mask));
    let blocks = cluster.size() / block;
    let taken: Vec<&Ipv4Cidr> = assigned.iter().filter(|c| c.overlaps(&cluster)).collect();
    for i in 0..blocks {
        let Some(start) = cluster.nth(i * block) else {
            break;
        };
        let candidate = Ipv4Cidr::new(start, node_mask)?;
        if !taken.iter().any(|t| t.overlaps(&candidate)) {
            return Ok(candidate);
        }
    }
    Err(NetworkError::Exhausted(format!(
        "cluster CIDR {cluster} (node blocks /{node_mask})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Ipv4Cidr {
        s.parse().expect("valid test CIDR")
    }

    #[test]
    fn first_node_gets_first_block() {
        let got =
            allocate_node_cidr(c(DEFAULT_CLUSTER_CIDR), DEFAULT_NODE_MASK, &[]).expect("free");
        assert_eq!(got, c("10.42.0.0/24"));
    }

    #[test]
    fn skips_taken_and_fills_holes() {
        let taken = [c("10.42.0.0/24"), c("10.42.2.0/24"), c("192.168.0.0/24")];
        let got = allocate_node_cidr(c("10.42.0.0/16"), 24, &taken).expect("free");
        assert_eq!(got, c("10.42.1.0/24"));
    }

    #[test]
    fn larger_foreign_block_blocks_all_it_covers() {
        let taken = [c("10.42.0.0/23")];
        assert_eq!(
            allocate_node_cidr(c("10.42.0.0/16"), 24, &taken).expect("free"),
            c("10.42.2.0/24")
        );
    }

    #[test]
    fn exhaustion_is_an_error() {
        let cluster = c("10.42.0.0/23");
        let taken = [c("10.42.0.0/24"), c("10.42.1.0/24")];
        assert!(matches!(
            allocate_node_cidr(cluster, 24, &taken),
            Err(NetworkError::Exhausted(_))
        ));
    }

    #[test]
    fn every_node_distinct_until_full() {
        let cluster = c("10.42.0.0/20");
        let mut taken = Vec::new();
        for _ in 0..16 {
            let next = allocate_node_cidr(cluster, 24, &taken).expect("free");
            assert!(taken.iter().all(|t: &Ipv4Cidr| !t.overlaps(&next)));
            taken.push(next);
        }
        assert!(allocate_node_cidr(cluster, 24, &taken).is_err());
    }

    #[test]
    fn bad_mask_rejected() {
        assert!(allocate_node_cidr(c("10.42.0.0/16"), 8, &[]).is_err());
        assert!(allocate_node_cidr(c("10.42.0.0/16"), 31, &[]).is_err());
    }
}
