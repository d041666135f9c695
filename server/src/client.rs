//! Who a request comes from, for the per-client rate limits, and the limits themselves.
//!
//! Behind a reverse proxy every request comes from the proxy's address, so one visitor's
//! burst would use up everyone's budget. The client's address is read from the forwarding
//! header the proxy writes (`X-Forwarded-For` by default, or `Forwarded: for=`) only when the
//! request comes from a proxy the operator named (`--trusted-proxy`): anyone else can write
//! those headers, so from anyone else they are ignored and the socket's address counts. Only
//! the header the operator named is read: a proxy that writes one of them passes the other
//! through as the client wrote it.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use axum::http::HeaderMap;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The reverse proxies in front of the server, and the header they name the client in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxies {
    /// Their addresses (every hop: a load balancer too); none by default, when forwarding
    /// headers are never read.
    pub trusted: Vec<IpAddr>,
    /// The header they write the client's address into.
    pub header: ForwardingHeader,
}

/// The header a trusted proxy writes the client's address into. Only that one is read: the
/// other is whatever the client sent, passed through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardingHeader {
    /// `X-Forwarded-For: <client>, <proxy>...` (nginx's `$proxy_add_x_forwarded_for`,
    /// Caddy, HAProxy's `option forwardfor`, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=<client>` (RFC 7239).
    Forwarded,
}

/// The address a request is counted against: the socket's, or, when the socket is a trusted
/// proxy, the nearest untrusted address the proxies' forwarding header names (right to left,
/// so a client cannot hide behind entries it wrote itself).
#[must_use]
pub fn address(peer: SocketAddr, headers: &HeaderMap, proxies: &Proxies) -> IpAddr {
    // A dual-stack socket (`[::]`) gives an IPv4 peer as `::ffff:a.b.c.d`: still the proxy
    // named `a.b.c.d`.
    let ip = peer.ip().to_canonical();
    let trusted = |hop: &IpAddr| proxies.trusted.iter().any(|t| t.to_canonical() == *hop);
    if !trusted(&ip) {
        return ip;
    }
    let values = headers
        .get_all(match proxies.header {
            ForwardingHeader::XForwardedFor => "x-forwarded-for",
            ForwardingHeader::Forwarded => "forwarded",
        })
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    let hops = values
        .filter_map(|element| match proxies.header {
            ForwardingHeader::XForwardedFor => Some(element.trim()),
            ForwardingHeader::Forwarded => element.split(';').find_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                name.eq_ignore_ascii_case("for")
                    .then(|| value.trim_matches('"'))
            }),
        })
        .collect::<Vec<_>>();
    // The nearest hop that is not a trusted proxy is the client, address or not: one that is
    // none (nginx's `unix:`, RFC 7239's `unknown` or `_hidden`) counts as the proxy itself,
    // since the entries before it are the client's own writing.
    for hop in hops.iter().rev() {
        match parse_hop(hop).map(|hop| hop.to_canonical()) {
            Some(hop) if trusted(&hop) => {}
            Some(hop) => return hop,
            None => return ip,
        }
    }
    ip
}

/// An address as forwarding headers write it: `203.0.113.7`, `203.0.113.7:4711`,
/// `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

/// What a client is counted as, by the rate limits and the connection limit
/// ([`crate::listen`]): an IPv4 address (also when written IPv4-mapped, `::ffff:a.b.c.d`, as
/// a dual-stack socket gives it), or an IPv6 address's /64, since one host is usually given a
/// whole /64 and may send from any address in it.
#[must_use]
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
    }
}

/// A per-client limit of `n` requests a second (bursts of `2n`), whose memory of clients is
/// pruned as it goes: an address not seen for a while is forgotten, so the state does not
/// grow with every new address. Its counts are the process's own: a limit that several
/// servers on one database must share is counted in the store instead (the sign-up's
/// messages to one contact: [`crate::register::outbox`], rule 5).
///
/// Caveats: it remembers at most [`MAX_KEYS`] addresses (and up to [`PRUNE_EVERY`] more
/// between two prunings). Past that, once pruning leaves too many (a flood of new addresses,
/// each remembered until its budget is whole again), it forgets them all and every client
/// starts with its whole budget again. Memory stays bounded whatever a client sends, at the
/// price of that reset.
#[derive(Debug)]
pub struct Limiter {
    inner: RwLock<DefaultKeyedRateLimiter<IpAddr>>,
    quota: Quota,
    checks: AtomicU64,
}

/// How many checks between two prunings.
pub const PRUNE_EVERY: u64 = 4096;

/// How many keys a [`Limiter`] remembers after pruning before it forgets them all: some
/// 100 bytes each, so about 10 MB.
pub const MAX_KEYS: usize = 100_000;

impl Limiter {
    /// `n` a second per client.
    #[must_use]
    pub fn new(n: NonZeroU32) -> Self {
        let quota =
            Quota::per_second(n).allow_burst(n.saturating_mul(NonZeroU32::MIN.saturating_add(1)));
        Self {
            inner: RwLock::new(RateLimiter::keyed(quota)),
            quota,
            checks: AtomicU64::new(0),
        }
    }

    /// Whether `client` may make one more request now. Counted as [`client_of`] it: an
    /// IPv6 host sends from any address of its /64, each one else a fresh budget.
    pub fn allows(&self, client: IpAddr) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.prune();
        }
        // A panic elsewhere while the lock was held left the limiter as it was: usable.
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.check_key(&client_of(client)).is_ok()
    }

    /// Forgets the keys whose budget is whole again; if more than [`MAX_KEYS`] are left,
    /// all of them.
    fn prune(&self) {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.retain_recent();
        inner.shrink_to_fit();
        if inner.len() <= MAX_KEYS {
            return;
        }
        drop(inner);
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) =
            RateLimiter::keyed(self.quota);
    }

    /// How many clients it remembers now.
    #[must_use]
    pub fn clients(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn proxies(trusted: &[IpAddr], header: ForwardingHeader) -> Proxies {
        Proxies {
            trusted: trusted.to_vec(),
            header,
        }
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let xff = proxies(&[proxy], ForwardingHeader::XForwardedFor);
        let peer = SocketAddr::new(proxy, 40000);
        let stranger = SocketAddr::from(([198, 51, 100, 9], 40000));
        let forged = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(address(stranger, &forged, &xff), stranger.ip());
        assert_eq!(
            address(peer, &forged, &xff),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            address(peer, &forged, &Proxies::default()),
            proxy,
            "no proxy trusted"
        );
        // The client wrote an entry of its own first: the proxy's appended one counts.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            address(peer, &chain, &xff),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let junk = headers(&[("x-forwarded-for", "unknown")]);
        assert_eq!(address(peer, &junk, &xff), proxy);
        // The client's own entry before one that is no address does not count.
        let behind_junk = headers(&[("x-forwarded-for", "1.2.3.4, unix:")]);
        assert_eq!(address(peer, &behind_junk, &xff), proxy);
        let hidden = headers(&[("forwarded", "for=1.2.3.4, for=_hidden")]);
        assert_eq!(
            address(
                peer,
                &hidden,
                &proxies(&[proxy], ForwardingHeader::Forwarded)
            ),
            proxy
        );
    }

    #[test]
    fn only_the_named_forwarding_header_counts() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let peer = SocketAddr::new(proxy, 40000);
        let rfc = proxies(&[proxy], ForwardingHeader::Forwarded);
        // A proxy that writes `Forwarded` passes the client's own `X-Forwarded-For` through:
        // the client does not choose its address with it.
        let both = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("forwarded", "for=\"[2001:db8::1]:4711\";proto=https"),
        ]);
        assert_eq!(
            address(peer, &both, &rfc),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            address(
                peer,
                &both,
                &proxies(&[proxy], ForwardingHeader::XForwardedFor)
            ),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        // Nothing in the named header: the proxy's own address counts, not the other header's.
        let other = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(address(peer, &other, &rfc), proxy);
        let several = headers(&[("forwarded", "for=5.6.7.8, for=203.0.113.7;by=10.0.0.2")]);
        assert_eq!(
            address(peer, &several, &rfc),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_proxy_is_trusted_and_a_client_counted_whichever_way_its_address_is_written() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let mapped = SocketAddr::new("::ffff:10.0.0.2".parse().unwrap(), 40000);
        let xff = proxies(&[proxy], ForwardingHeader::XForwardedFor);
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(
            address(mapped, &forwarded, &xff),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        let limiter = Limiter::new(NonZeroU32::MIN);
        let host = |i: u16| IpAddr::from(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, i));
        assert_eq!((1..=4).filter(|i| limiter.allows(host(*i))).count(), 2);
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v4_mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(
            [v4, v4_mapped, v4]
                .iter()
                .filter(|ip| limiter.allows(**ip))
                .count(),
            2
        );
    }

    #[test]
    fn a_flood_of_new_addresses_does_not_grow_the_limiter_past_its_bound() {
        // Each remembered until its budget is whole again (2 s at 1/s): the flood comes
        // faster than that, so pruning alone would keep every one.
        let limiter = Limiter::new(NonZeroU32::MIN);
        let flood = u128::try_from(MAX_KEYS).unwrap() * 2;
        for key in 0..flood {
            // Each a /64 of its own: the addresses of one are one client.
            limiter.allows(IpAddr::from(std::net::Ipv6Addr::from(key << 64)));
        }
        let kept = limiter.clients();
        assert!(
            kept <= MAX_KEYS + usize::try_from(PRUNE_EVERY).unwrap(),
            "{kept} keys remembered"
        );
    }

    #[test]
    fn the_limiter_allows_its_burst_and_forgets_idle_clients() {
        let limiter = Limiter::new(NonZeroU32::new(1).unwrap());
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        assert_eq!((0..4).filter(|_| limiter.allows(a)).count(), 2);
        for i in 0..1000u32 {
            limiter.allows(IpAddr::from(i.to_be_bytes()));
        }
        assert!(limiter.clients() > 1000);
        // Once their budgets are whole again (2 s at 1/s), the next pruning forgets them.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        for _ in 0..PRUNE_EVERY {
            limiter.allows(a);
        }
        assert!(
            limiter.clients() <= 2,
            "{} clients remembered",
            limiter.clients()
        );
    }
}
