//! Client IP resolution. The direct peer is the client unless it is a trusted proxy; then
//! `X-Forwarded-For` is walked from the right, skipping trusted hops, and the first
//! untrusted address is the client. A malformed entry stops the walk at the last trusted
//! hop, so a client cannot inject an address by prefixing the header.

use std::net::IpAddr;

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

impl IpCidr {
    /// Parses `10.0.0.1`, `10.0.0.0/8`, `::1` or `fd00::/8`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// Whether `ip` is inside this network (IPv4-mapped IPv6 addresses match IPv4 ranges).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client IP of a request from `peer` carrying `x_forwarded_for` header values.
pub fn client_ip(peer: IpAddr, x_forwarded_for: &[&str], trusted: &[IpCidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    let hops = x_forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let t = [IpCidr::parse("10.0.0.0/8").unwrap()];
        assert_eq!(client_ip(ip("1.2.3.4"), &["9.9.9.9"], &t), ip("1.2.3.4"));
    }

    #[test]
    fn walks_from_the_right_skipping_trusted() {
        let t = [IpCidr::parse("10.0.0.0/8").unwrap()];
        let got = client_ip(ip("10.0.0.2"), &["6.6.6.6, 5.5.5.5, 10.0.0.7"], &t);
        assert_eq!(got, ip("5.5.5.5"));
    }

    #[test]
    fn garbage_stops_the_walk() {
        let t = [IpCidr::parse("10.0.0.1").unwrap()];
        assert_eq!(client_ip(ip("10.0.0.1"), &["nonsense"], &t), ip("10.0.0.1"));
    }

    #[test]
    fn cidr_edges() {
        let c = IpCidr::parse("192.168.1.0/24").unwrap();
        assert!(c.contains(ip("192.168.1.255")));
        assert!(!c.contains(ip("192.168.2.0")));
        assert!(c.contains(ip("::ffff:192.168.1.9")));
        assert!(IpCidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpCidr::parse("1.2.3.4/33").is_none());
    }
}
