//! SSRF defence for webhook delivery: a URL policy, a list of forbidden addresses, a DNS
//! resolver that refuses them, and the HTTP client built on that resolver.
//!
//! Webhook URLs are chosen by users, so without these checks a delivery could be pointed at
//! the server's own admin ports, the cloud metadata service (`169.254.169.254`) or the private
//! network. The address check runs inside the HTTP client's resolver, i.e. on the addresses the
//! connection will actually use, at every connection: a hostname that passed when saved and
//! later resolves to a private address (DNS rebinding) is still refused. URLs whose host is an
//! IP literal never reach a resolver, so [`check_url`] refuses forbidden literals and
//! [`crate::deliver::WebhookClient`] runs it before every request.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// `User-Agent` of every delivery, naming Millwright and this crate's version.
pub const USER_AGENT: &str = concat!("Millwright-Webhooks/", env!("CARGO_PKG_VERSION"));
/// Total time a delivery may take (connect, send, response headers, excerpt), per spec §6.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a webhook URL is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not a parseable absolute URL.
    #[error("not a valid URL: {0}")]
    Invalid(String),
    /// Not `https` (or `http` when private targets are allowed).
    #[error("webhook URLs must use https, not `{0}`")]
    Scheme(String),
    /// User name or password in the URL; secrets belong in the signing secret, and they would
    /// otherwise be shown back in listings and logs.
    #[error("webhook URLs must not contain credentials")]
    Credentials,
    /// No host (e.g. `https:///path`).
    #[error("webhook URLs must have a host")]
    NoHost,
    /// The host is an IP literal that is not globally routable.
    #[error("webhook target {0} is not a public address")]
    ForbiddenAddress(IpAddr),
}

/// Why a webhook host could not be used at connection time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The name resolves to at least one address that is not globally routable.
    #[error("webhook host {host} resolves to {addr}, which is not a public address")]
    Forbidden {
        /// The host name as looked up.
        host: String,
        /// The first forbidden address found.
        addr: IpAddr,
    },
    /// The lookup failed or returned nothing.
    #[error("could not resolve webhook host {host}: {reason}")]
    Lookup {
        /// The host name as looked up.
        host: String,
        /// The resolver's message.
        reason: String,
    },
}

/// Checks a webhook URL against the policy: `https` only (plus `http` when `allow_private`), no
/// credentials, a host, and — unless `allow_private` — an IP-literal host must be public.
/// Host names are not resolved here; see [`resolve_allowed`] and [`client`].
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, UrlError> {
    let parsed = Url::parse(url).map_err(|e| UrlError::Invalid(e.to_string()))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        other => return Err(UrlError::Scheme(other.to_string())),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlError::Credentials);
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(UrlError::NoHost)?;
    if let Some(ip) = literal_ip(host) {
        if !allow_private && is_forbidden_ip(ip) {
            return Err(UrlError::ForbiddenAddress(ip));
        }
    }
    Ok(parsed)
}

/// The IP address of a URL host string if it is a literal. The `url` crate has already
/// normalised IPv4 spellings such as `2130706433` or `0x7f.1` to dotted quads and writes IPv6
/// in brackets.
fn literal_ip(host: &str) -> Option<IpAddr> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

/// True if a webhook must not be delivered to `ip` because it is not a globally routable
/// unicast address: loopback, private, link-local, shared (CGNAT), multicast, broadcast,
/// documentation, benchmarking, reserved, and IPv6 forms embedding such an IPv4 address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

/// IANA IPv4 special-purpose ranges that are not globally reachable unicast.
const FORBIDDEN_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),       // "this network", including 0.0.0.0 (= localhost on Linux)
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, including cloud metadata 169.254.169.254
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation TEST-NET-1
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation TEST-NET-2
    ([203, 0, 113, 0], 24),  // documentation TEST-NET-3
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, including broadcast 255.255.255.255
];

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    FORBIDDEN_V4
        .iter()
        .any(|&(net, prefix)| in_v4(ip, net, prefix))
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

/// The IPv4 address in the low 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    // Forms that carry an IPv4 address the packets will really go to: judge that address.
    // IPv4-mapped ::ffff:a.b.c.d (a dual-stack socket connects over IPv4).
    if in_v6(ip, Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96) {
        return is_forbidden_v4(low_v4(ip));
    }
    // IPv4-translated ::ffff:0:a.b.c.d (SIIT).
    if in_v6(ip, Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, 0, 0), 96) {
        return is_forbidden_v4(low_v4(ip));
    }
    // Well-known NAT64 prefix 64:ff9b::/96: a NAT64 gateway forwards to the embedded address.
    if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return is_forbidden_v4(low_v4(ip));
    }
    // 6to4 2002:a.b.c.d::/48: a relay forwards to the embedded address.
    if in_v6(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        let v4 = Ipv4Addr::from((u128::from(ip) >> 80) as u32);
        return is_forbidden_v4(v4);
    }
    // Everything else must be global unicast (2000::/3). This allow-list also excludes ::1, ::,
    // the deprecated IPv4-compatible ::a.b.c.d (all of ::/96, whatever the embedded address),
    // unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8,
    // discard-only 100::/64 and the local-use NAT64 prefix 64:ff9b:1::/48.
    if !in_v6(ip, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3) {
        return true;
    }
    // Special-purpose blocks inside 2000::/3.
    const FORBIDDEN_GLOBAL: &[(Ipv6Addr, u32)] = &[
        // IETF protocol assignments, including Teredo 2001::/32 (tunnels to an obfuscated,
        // unchecked IPv4 address) and ORCHID.
        (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
        (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
        (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),     // documentation (RFC 9637)
    ];
    FORBIDDEN_GLOBAL
        .iter()
        .any(|&(net, prefix)| in_v6(ip, net, prefix))
}

/// Resolves `host` with the system resolver (through tokio) and returns its addresses, or an
/// error if any of them is forbidden and `allow_private` is false.
///
/// One forbidden address refuses the whole answer: connecting would try the addresses in turn,
/// so a public record next to a private one must not smuggle the private one through. Use this
/// at save time as well; [`client`] calls it at every connection.
pub async fn resolve_allowed(
    host: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, ResolveError> {
    // Port 0: the HTTP connector sets the URL's port on the returned addresses.
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| ResolveError::Lookup {
            host: host.to_string(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(ResolveError::Lookup {
            host: host.to_string(),
            reason: "no addresses".to_string(),
        });
    }
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| is_forbidden_ip(a.ip())) {
            return Err(ResolveError::Forbidden {
                host: host.to_string(),
                addr: bad.ip(),
            });
        }
    }
    Ok(addrs)
}

/// A [`reqwest::dns::Resolve`] that applies [`resolve_allowed`] to every lookup the HTTP
/// client makes, so the address check happens at connect time.
#[derive(Debug, Clone, Copy)]
pub struct SsrfResolver {
    /// When true, private and loopback addresses are allowed (development only).
    pub allow_private: bool,
}

impl Resolve for SsrfResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve_allowed(name.as_str(), allow_private)
                .await
                .map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client for deliveries: the [`SsrfResolver`], a 10 s total timeout, no redirects
/// (a 3xx is a failed attempt, and following one could lead to a forbidden target), keep-alive
/// connection pooling, and the Millwright user agent.
///
/// Environment proxies (`HTTP_PROXY`, …) are ignored on purpose: through a proxy the resolver
/// would only see the proxy's name and the target's address would go unchecked.
///
/// Requests to IP-literal URLs bypass any resolver, so callers must run [`check_url`] before
/// each request; [`crate::deliver::WebhookClient`] does.
pub fn client(allow_private: bool) -> reqwest::Client {
    build_client(allow_private, REQUEST_TIMEOUT)
}

/// [`client`] with another timeout, so tests need not wait 10 s for one.
pub(crate) fn build_client(allow_private: bool, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(SsrfResolver { allow_private }))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .https_only(!allow_private)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(60))
        .user_agent(USER_AGENT)
        .build()
        // Building fails only if the TLS backend cannot initialise, which is a broken build.
        .expect("the webhook HTTP client builds")
}

/// True if `err` (or any error it wraps) is a refusal by this module's policy, so a caller can
/// tell "refused by SSRF policy" from an ordinary connection failure.
pub fn is_policy_refusal(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(ResolveError::Forbidden { .. }) = e.downcast_ref::<ResolveError>() {
            return true;
        }
        if e.downcast_ref::<UrlError>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_addresses() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
        ] {
            assert!(is_forbidden_ip(ip(s)), "{s} should be forbidden");
        }
    }

    #[test]
    fn public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "126.255.255.255",
            "128.0.0.1",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.3.1",
            "192.167.255.255",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "2001:4860:4860::8888",
        ] {
            assert!(!is_forbidden_ip(ip(s)), "{s} should be allowed");
        }
    }

    #[test]
    fn url_policy() {
        assert!(check_url("https://hooks.example.com/in?x=1", false).is_ok());
        assert_eq!(
            check_url("http://hooks.example.com/", false),
            Err(UrlError::Scheme("http".into()))
        );
        assert!(check_url("http://hooks.example.com/", true).is_ok());
        for bad_scheme in ["ftp://example.com/", "file:///etc/passwd", "gopher://x/"] {
            assert!(matches!(
                check_url(bad_scheme, true),
                Err(UrlError::Scheme(_))
            ));
        }
        assert_eq!(
            check_url("https://user:pw@example.com/", false),
            Err(UrlError::Credentials)
        );
        assert_eq!(
            check_url("https://user@example.com/", true),
            Err(UrlError::Credentials)
        );
        assert!(matches!(
            check_url("not a url", false),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(
            check_url("/relative", false),
            Err(UrlError::Invalid(_))
        ));
    }

    #[test]
    fn literal_private_targets_are_refused_unless_allowed() {
        for (url, addr) in [
            ("https://127.0.0.1/", "127.0.0.1"),
            ("https://10.0.0.1/hook", "10.0.0.1"),
            (
                "https://169.254.169.254/latest/meta-data/",
                "169.254.169.254",
            ),
            ("https://[::1]:8443/", "::1"),
            ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
            ("https://[fd00::1]/", "fd00::1"),
            // Alternative IPv4 spellings are normalised by the URL parser, then refused.
            ("https://2130706433/", "127.0.0.1"),
            ("https://0x7f.1/", "127.0.0.1"),
            ("https://0/", "0.0.0.0"),
        ] {
            assert_eq!(
                check_url(url, false),
                Err(UrlError::ForbiddenAddress(ip(addr))),
                "{url}"
            );
            assert!(check_url(url, true).is_ok(), "{url} with allow_private");
        }
        assert!(check_url("https://8.8.8.8/", false).is_ok());
        assert!(check_url("https://[2606:4700:4700::1111]/", false).is_ok());
    }

    #[tokio::test]
    async fn resolver_refuses_names_that_resolve_to_loopback() {
        let err = resolve_allowed("localhost", false).await.unwrap_err();
        match &err {
            ResolveError::Forbidden { host, addr } => {
                assert_eq!(host, "localhost");
                assert!(addr.is_loopback(), "{addr}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(is_policy_refusal(&err));
        let addrs = resolve_allowed("localhost", true).await.unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");

        // Through the reqwest trait object too, as the client uses it.
        let name: Name = "localhost".parse().unwrap();
        let err = SsrfResolver {
            allow_private: false,
        }
        .resolve(name)
        .await
        .err()
        .expect("refused");
        assert!(is_policy_refusal(err.as_ref()));
        let name: Name = "localhost".parse().unwrap();
        let ok = SsrfResolver {
            allow_private: true,
        }
        .resolve(name)
        .await
        .expect("allowed");
        assert!(ok.count() > 0);
    }
}
