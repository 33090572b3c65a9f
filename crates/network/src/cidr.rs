//! A small IPv4 CIDR type (the crate needs parsing, containment and host indexing only).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::NetworkError;

/// An IPv4 network such as `10.42.0.0/16`. The address is always the network address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    network: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// Builds a CIDR; host bits of `addr` must be zero.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, NetworkError> {
        if prefix > 32 {
            return Err(NetworkError::invalid(format!(
                "prefix length {prefix} is larger than 32"
            )));
        }
        let cidr = Ipv4Cidr {
            network: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        };
        if cidr.network != addr {
            return Err(NetworkError::invalid(format!(
                "{addr}/{prefix} has host bits set (network is {})",
                cidr.network
            )));
        }
        Ok(cidr)
    }

    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Number of addresses in the network (2^(32-prefix)).
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.network)
    }

    /// True when the two networks share at least one address.
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// The address at `index` from the network address, if inside the network.
    pub fn nth(&self, index: u64) -> Option<Ipv4Addr> {
        (index < self.size())
            .then(|| Ipv4Addr::from(u32::from(self.network).wrapping_add(index as u32)))
    }

    /// Offset of `ip` from the network address, if inside the network.
    pub fn index_of(&self, ip: Ipv4Addr) -> Option<u64> {
        self.contains(ip)
            .then(|| u64::from(u32::from(ip) - u32::from(self.network)))
    }

    /// The conventional gateway: the first address after the network address.
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        if self.prefix >= 31 {
            return None;
        }
        self.nth(1)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = NetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = s.split_once('/').ok_or_else(|| {
            NetworkError::invalid(format!("{s:?} is not a CIDR (expected a.b.c.d/n)"))
        })?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| {
            NetworkError::invalid(format!("{s:?}: {addr:?} is not an IPv4 address"))
        })?;
        let prefix: u8 = prefix.parse().map_err(|_| {
            NetworkError::invalid(format!("{s:?}: {prefix:?} is not a prefix length"))
        })?;
        Ipv4Cidr::new(addr, prefix)
    }
}

impl Serialize for Ipv4Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let c: Ipv4Cidr = "10.42.3.0/24".parse().expect("valid");
        assert_eq!(c.to_string(), "10.42.3.0/24");
        assert_eq!(c.size(), 256);
        assert_eq!(c.gateway(), Some(Ipv4Addr::new(10, 42, 3, 1)));
        assert!(c.contains(Ipv4Addr::new(10, 42, 3, 255)));
        assert!(!c.contains(Ipv4Addr::new(10, 42, 4, 0)));
        assert_eq!(c.index_of(Ipv4Addr::new(10, 42, 3, 7)), Some(7));
        assert_eq!(c.nth(256), None);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "10.42.0.0",
            "10.42.0.1/24",
            "10.42.0.0/33",
            "x/8",
            "10.42.0.0/x",
            "",
        ] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn overlap() {
        let a: Ipv4Cidr = "10.42.0.0/16".parse().expect("valid");
        let b: Ipv4Cidr = "10.42.7.0/24".parse().expect("valid");
        let c: Ipv4Cidr = "10.43.0.0/16".parse().expect("valid");
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        let all: Ipv4Cidr = "0.0.0.0/0".parse().expect("valid");
        assert!(all.overlaps(&c));
    }
}
