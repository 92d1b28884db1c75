//! Who a request comes from: the peer address, or the address a trusted proxy
//! says it forwarded for; and the bucket that address is rate-limited in.
//!
//! `X-Forwarded-For` is believed only from a proxy the operator named
//! (`--trusted-proxy CIDR`): anyone else could write any address there and
//! escape the rate limit, or put words in the patient's access log. IPv6
//! clients are bucketed by /64, the block one subscriber usually gets, so
//! hopping addresses inside it gains nothing.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

/// An address block, `10.0.0.0/8` or `2001:db8::/32` (a bare address is /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("'{s}' is not an address block like 10.0.0.0/8 or 2001:db8::/32"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }
}

impl Cidr {
    /// Whether the block holds `ip` (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: `peer`, unless `peer` is a trusted proxy, then the
/// right-most address in `X-Forwarded-For` (the header values in order) that is
/// not itself a trusted proxy. Entries a proxy could not have written (not an
/// address) end the walk: the client is the last good one.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[Cidr],
) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// The rate-limit bucket of an address: itself for IPv4, its /64 for IPv6.
pub fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{net}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        let c: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(c.contains(ip("2001:db8:ffff::1")));
        assert!(!c.contains(ip("2001:db9::1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        assert!("0.0.0.0/0".parse::<Cidr>().unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "::/129", "example.com/8", "10.0.0.0/x", ""] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = ["203.0.113.9, 10.1.1.1"];
        // From the proxy: the right-most untrusted hop.
        assert_eq!(
            client_address(ip("10.0.0.2"), xff.into_iter(), &trusted),
            ip("203.0.113.9")
        );
        // From anyone else: the header is ignored.
        assert_eq!(
            client_address(ip("198.51.100.7"), xff.into_iter(), &trusted),
            ip("198.51.100.7")
        );
        // A client cannot hide behind a forged left-most entry.
        let forged = ["1.1.1.1, 203.0.113.9"];
        assert_eq!(
            client_address(ip("10.0.0.2"), forged.into_iter(), &trusted),
            ip("203.0.113.9")
        );
        // Garbage ends the walk; no header means the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.2"), ["nonsense"].into_iter(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), [].into_iter(), &trusted),
            ip("10.0.0.2")
        );
        // Several headers read in order.
        let two = ["203.0.113.9", "10.9.9.9"];
        assert_eq!(
            client_address(ip("10.0.0.2"), two.into_iter(), &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            bucket(ip("2001:db8:1:2:aaaa::1")),
            bucket(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(bucket(ip("2001:db8:1:2::1")), bucket(ip("2001:db8:1:3::1")));
        assert_eq!(bucket(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_eq!(bucket(ip("192.0.2.1")), "192.0.2.1");
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }
}
