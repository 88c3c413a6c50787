//! `trusted_proxies` entries: an IP address or a CIDR network, as typed in any layer.

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// An IP address or CIDR network in `trusted_proxies` (a bare address means just that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(pub IpNet);

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<IpNet>()
            .map(|n| ProxyNet(n.trunc()))
            .or_else(|_| s.parse::<std::net::IpAddr>().map(|a| ProxyNet(a.into())))
            .map_err(|_| {
                format!("{s:?} is not an IP address or CIDR network (e.g. 127.0.0.1 or 10.0.0.0/8)")
            })
    }
}

impl<'de> Deserialize<'de> for ProxyNet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: String| serde::de::Error::custom(format!("trusted_proxies: {e}")))
    }
}
