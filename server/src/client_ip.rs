//! The address of the client a request comes from, which rate limits key on: the TCP peer,
//! unless that peer is one of `trusted_proxies`, in which case the right-most address of
//! `X-Forwarded-For` that is not itself a trusted proxy. Entries left of that one were written
//! by the client and are never believed; an untrusted peer's header is ignored entirely.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address as far as this server can believe it.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let mut client = peer.ip().to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    // Several header lines are one list, in order (RFC 9110 §5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A trusted proxy wrote something unreadable: the chain stops at that proxy, so
            // its clients share its address (throttled together rather than not at all).
            None => break,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Extracts the client address for a handler (`ClientIp(ip): ClientIp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// States that know which proxies to believe.
pub trait TrustedProxies {
    fn trusted_proxies(&self) -> &[IpNet];
}

impl TrustedProxies for AppState {
    fn trusted_proxies(&self) -> &[IpNet] {
        &self.settings.trusted_proxies
    }
}

impl TrustedProxies for crate::state::SealedState {
    fn trusted_proxies(&self) -> &[IpNet] {
        &self.settings.trusted_proxies
    }
}

impl<S: TrustedProxies + Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Infallible> {
        // `serve` always provides the peer. A router driven without it (a test's `oneshot`)
        // gets the unspecified address: all such requests are one client.
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientIp(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        };
        Ok(ClientIp(client_ip(
            *peer,
            &parts.headers,
            s.trusted_proxies(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn peer(s: &str) -> SocketAddr {
        SocketAddr::new(ip(s), 40_000)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(client_ip(peer("198.51.100.7"), &h, &[]), ip("198.51.100.7"));
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_ip(peer("198.51.100.7"), &h, &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["127.0.0.1/32"]);
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            client_ip(peer("127.0.0.1"), &h, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn addresses_the_client_wrote_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real peer.
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["1.1.1.1, 203.0.113.9"]);
        assert_eq!(client_ip(peer("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.1/32"]);
        // Two header lines form one list.
        let h = xff(&["6.6.6.6, 203.0.113.9", "192.168.1.1, 10.1.1.1"]);
        assert_eq!(client_ip(peer("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn a_client_inside_the_trusted_range_is_the_leftmost_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = xff(&["10.9.9.9"]);
        assert_eq!(client_ip(peer("10.0.0.2"), &h, &trusted), ip("10.9.9.9"));
    }

    #[test]
    fn no_header_or_an_unreadable_entry_stops_at_the_last_proxy() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(peer("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        let h = xff(&["203.0.113.9, unknown"]);
        assert_eq!(client_ip(peer("10.0.0.2"), &h, &trusted), ip("10.0.0.2"));
        let h = xff(&["203.0.113.9, garbage, 10.0.0.7"]);
        assert_eq!(client_ip(peer("10.0.0.2"), &h, &trusted), ip("10.0.0.7"));
    }

    #[test]
    fn ports_mapped_addresses_and_ipv6_are_understood() {
        let trusted = nets(&["::1/128", "127.0.0.0/8"]);
        let h = xff(&["203.0.113.9:5555"]);
        assert_eq!(client_ip(peer("::1"), &h, &trusted), ip("203.0.113.9"));
        let h = xff(&["[2001:db8::7]:443"]);
        assert_eq!(client_ip(peer("::1"), &h, &trusted), ip("2001:db8::7"));
        // An IPv4 peer on a dual-stack socket arrives as ::ffff:127.0.0.1.
        let h = xff(&["2001:db8::8"]);
        assert_eq!(
            client_ip(peer("::ffff:127.0.0.1"), &h, &trusted),
            ip("2001:db8::8")
        );
        assert_eq!(
            client_ip(peer("::ffff:198.51.100.7"), &h, &trusted),
            ip("198.51.100.7")
        );
    }
}
