//! Which IP addresses count as "public" for a webhook URL a vendor registered itself: checked
//! on a literal host at `/oauth/register` and on every resolved address before each delivery.
//! Never calls an address public because it is written in an unusual form: an IPv6 address
//! that carries an IPv4 one (mapped, compatible, SIIT, NAT64, 6to4, Teredo) is judged by the
//! IPv4 it carries, and only global unicast IPv6 (`2000::/3`, less its special blocks) passes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// multicast, documentation, translated from a non-public IPv4 or otherwise special).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => is_public_v6(a),
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || a.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (18..20).contains(&o[1]))
        || o[0] >= 240)
}

/// The IPv4 address at bits 96..128 (the last two segments).
fn low_v4(seg: &[u16; 8]) -> Ipv4Addr {
    v4_of(seg[6], seg[7])
}

fn v4_of(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let seg = a.segments();
    let zero = |range: std::ops::Range<usize>| seg[range].iter().all(|s| *s == 0);
    // Forms that carry an IPv4 address: judged by it.
    if zero(0..5) && (seg[5] == 0 || seg[5] == 0xffff) {
        // `::a.b.c.d` (IPv4-compatible, deprecated; `::` and `::1` land in 0.0.0.0/8 here) and
        // `::ffff:a.b.c.d` (IPv4-mapped).
        return is_public_v4(low_v4(&seg));
    }
    if zero(0..4) && seg[4] == 0xffff && seg[5] == 0 {
        // `::ffff:0:a.b.c.d` (SIIT IPv4-translated, RFC 2765).
        return is_public_v4(low_v4(&seg));
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b {
        // `64:ff9b::/96` is the well-known NAT64 prefix (RFC 6052): the gateway connects to the
        // embedded IPv4. `64:ff9b:1::/48` is for local use (RFC 8215), so never public.
        return zero(2..6) && is_public_v4(low_v4(&seg));
    }
    if seg[0] == 0x2002 {
        // 6to4 (RFC 3056): the relay's IPv4 is in bits 16..48.
        return is_public_v4(v4_of(seg[1], seg[2]));
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        // Teredo (RFC 4380): the server's IPv4 in bits 32..64, the client's inverted in 96..128.
        let client = Ipv4Addr::from(!u32::from(low_v4(&seg)));
        return is_public_v4(v4_of(seg[2], seg[3])) && is_public_v4(client);
    }
    // Only global unicast is public: this rules out unspecified, loopback, multicast
    // (`ff00::/8`), link-local (`fe80::/10`), site-local (`fec0::/10`), unique-local
    // (`fc00::/7`), discard-only (`100::/64`) and SRv6 SIDs (`5f00::/16`).
    let global_unicast = (seg[0] & 0xe000) == 0x2000;
    global_unicast
        && !((seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation (RFC 3849)
            || (seg[0] & 0xfff0) == 0x3ff0 // documentation 3fff::/20 (RFC 9637)
            || (seg[0] == 0x2001 && seg[1] == 0x0002 && seg[2] == 0) // benchmarking 2001:2::/48
            || (seg[0] == 0x2001 && (seg[1] & 0xfff0) == 0x0010)) // ORCHID 2001:10::/28
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "172.16.5.4",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "fd00::1",
            "fc00::1",
            "fe80::1",
            "fec0::1",
            "feff::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "5f00::1",
            "2001:db8::1",
            "3fff::1",
            "2001:2::1",
            "2001:10::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn an_ipv6_form_carrying_an_ipv4_is_judged_by_that_ipv4() {
        for private in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::10.0.0.7",
            "::169.254.169.254",
            "::ffff:0:127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::169.254.169.254",
            "64:ff9b:1::7f00:1",
            "64:ff9b:1::5db8:d822",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "2002:c0a8:101::1",
            // Teredo, server 127.0.0.1 / client 93.184.216.34, then server public / client 10.0.0.1.
            "2001:0:7f00:1::a247:27dd",
            "2001:0:5db8:d822::f5ff:fffe",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "::ffff:93.184.216.34",
            "::93.184.216.34",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
            "2001:0:5db8:d822::a247:27dd",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
