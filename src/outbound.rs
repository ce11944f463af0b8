//! Outbound HTTP, for webhooks and CDN purges: one client that follows no redirect, gives up
//! after 10 s, reads at most 64 KiB of an answer, names itself `newsroom/<version>`, and
//! (unless allowed) connects to no loopback, private, link-local, unique-local or multicast
//! address. Names are resolved by its own resolver, which drops such addresses, so what is
//! checked is what is connected to (a name cannot resolve to a public address for the check
//! and a private one for the connection).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The longest an attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer that is read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What came of a request.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The response status, if a response came.
    pub status: Option<u16>,
    /// Why it failed, when no 2xx came.
    pub error: Option<String>,
    /// The start of the response body.
    pub body: Vec<u8>,
    pub duration: Duration,
}

/// A request that was not sent, and why.
pub fn refused(error: impl Into<String>) -> Reply {
    Reply {
        status: None,
        error: Some(error.into()),
        body: Vec::new(),
        duration: Duration::ZERO,
    }
}

impl Reply {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s)) && self.error.is_none()
    }
}

/// When a failed delivery is tried again: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
/// after the attempts before (some 28 hours in all), each give or take a tenth; None after the
/// last.
pub fn retry_after(attempts: u32) -> Option<Duration> {
    const SCHEDULE: [u64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];
    let base = *SCHEDULE.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    let jitter = rand::random_range(0.9..1.1);
    Some(Duration::from_secs_f64(base as f64 * jitter))
}

/// Whether an address is one an outbound request may not reach by default.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || (v6.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                    && is_private_v4(Ipv4Addr::from(
                        (u32::from(v6.segments()[6]) << 16) | u32::from(v6.segments()[7]),
                    )))
        }
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
}

/// Resolves names, keeping only the addresses outbound requests may reach.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || !is_private(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(
                    format!("{host} resolves to no address outbound requests may reach").into(),
                );
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The outbound client.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

impl Outbound {
    pub fn new(allow_private: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent(concat!("newsroom/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// A request to `url` (http or https).
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.client.request(method, url)
    }

    /// Sends a request; never fails, the reply says how it went.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let started = Instant::now();
        let request = match request.build() {
            Ok(request) => request,
            Err(e) => return refused(format!("the request could not be built: {e}")),
        };
        // Addresses written in the URL bypass the resolver: they are checked here.
        let literal = match request.url().host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal.filter(|ip| !self.allow_private && is_private(*ip)) {
            return refused(format!("refused: {ip} is not a public address"));
        }
        let mut response = match self.client.execute(request).await {
            Ok(response) => response,
            Err(e) => return refused(describe(&e)),
        };
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while body.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(e) => {
                    return Reply {
                        status: Some(status),
                        error: Some(describe(&e)),
                        body,
                        duration: started.elapsed(),
                    }
                }
            }
        }
        let error = (!(200..300).contains(&status)).then(|| format!("answered {status}"));
        Reply {
            status: Some(status),
            error,
            body,
            duration: started.elapsed(),
        }
    }
}

/// A failure in words, with its cause (a refused address says so).
fn describe(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.to_string()
    };
    let mut cause = error.source();
    while let Some(inner) = cause {
        text = format!("{text}: {inner}");
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_over_some_28_hours() {
        assert!(retry_after(0).is_none());
        let first = retry_after(1).unwrap().as_secs_f64();
        assert!((4.5..=5.5).contains(&first), "{first}");
        let total: f64 = (1..=7).map(|n| retry_after(n).unwrap().as_secs_f64()).sum();
        assert!((25.0 * 3600.0..31.0 * 3600.0).contains(&total), "{total}");
        assert!(retry_after(8).is_none(), "then the message has failed");
    }

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "224.0.0.1",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "64:ff9b::10.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::8.8.8.8",
        ] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }
}
