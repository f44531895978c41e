//! Sending one request: endpoint ordering, quarantine and failover (spec `kes-api.md` §11.3)
//! and per-endpoint retries (§11.4).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, Response, StatusCode};
use tokio::sync::OnceCell;

use super::Error;

/// How long an endpoint is skipped after a network error or a 5xx other than 501.
pub(super) const QUARANTINE: Duration = Duration::from_secs(30);
/// Retries per endpoint attempt (3 HTTP attempts in total).
const RETRIES: usize = 2;

/// One request, re-sendable: method, path and an optional JSON body.
#[derive(Debug)]
pub(super) struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    /// Send `Content-Type: application/json` with the body.
    pub json: bool,
}

/// The endpoints of a client and their health.
#[derive(Debug)]
pub(super) struct Endpoints {
    configured: Vec<String>,
    sorted: OnceCell<Vec<Endpoint>>,
}

#[derive(Debug)]
struct Endpoint {
    url: String,
    localhost: bool,
    health: Mutex<Health>,
}

#[derive(Debug, Default)]
struct Health {
    /// Quarantined until this instant.
    until: Option<Instant>,
    /// The single probe after the quarantine has been handed out.
    probing: bool,
}

impl Endpoint {
    /// Whether the endpoint may be tried now: it is healthy, or its quarantine is over and this
    /// caller takes the single probe.
    fn admit(&self) -> bool {
        let Ok(mut h) = self.health.lock() else {
            return true;
        };
        match h.until {
            None => true,
            Some(until) if Instant::now() < until || h.probing => false,
            Some(_) => {
                h.probing = true;
                true
            }
        }
    }

    fn record(&self, healthy: bool) {
        if let Ok(mut h) = self.health.lock() {
            h.probing = false;
            h.until = if healthy {
                None
            } else {
                Some(Instant::now() + QUARANTINE)
            };
        }
    }
}

/// The outcome of one endpoint attempt (after its retries).
type Attempt = Result<Response, Error>;

/// Whether an attempt should quarantine its endpoint and move on.
fn failed(attempt: &Attempt) -> bool {
    match attempt {
        Ok(resp) => resp.status().is_server_error() && resp.status() != StatusCode::NOT_IMPLEMENTED,
        Err(_) => true,
    }
}

impl Endpoints {
    /// Endpoints with surrounding whitespace and trailing `/` removed; they are sorted lazily.
    pub(super) fn new(endpoints: &[String]) -> Endpoints {
        Endpoints {
            configured: endpoints
                .iter()
                .map(|e| e.trim().trim_end_matches('/').to_owned())
                .collect(),
            sorted: OnceCell::new(),
        }
    }

    /// The endpoints in the order the client prefers them (localhost, local, remote; stable).
    pub(super) async fn ordered(&self) -> Vec<String> {
        self.endpoints()
            .await
            .iter()
            .map(|e| e.url.clone())
            .collect()
    }

    async fn endpoints(&self) -> &[Endpoint] {
        self.sorted
            .get_or_init(|| async {
                let mut classified = Vec::with_capacity(self.configured.len());
                for url in &self.configured {
                    classified.push((classify(url).await, url.clone()));
                }
                classified.sort_by_key(|(class, _)| *class);
                classified
                    .into_iter()
                    .map(|(class, url)| Endpoint {
                        url,
                        localhost: class == Class::Localhost,
                        health: Mutex::new(Health::default()),
                    })
                    .collect()
            })
            .await
    }

    /// Sends `req` following §11.3: one endpoint directly, several with failover.
    pub(super) async fn send(&self, http: &reqwest::Client, req: &Request<'_>) -> Attempt {
        let endpoints = self.endpoints().await;
        match endpoints {
            [] => Err(Error::Config("no KES server endpoint".to_owned())),
            [only] => with_retries(http, &only.url, req).await,
            many => failover(http, many, req).await,
        }
    }
}

async fn failover(http: &reqwest::Client, endpoints: &[Endpoint], req: &Request<'_>) -> Attempt {
    let mut last: Option<Attempt> = None;
    let mut tried_localhost = None;
    if let Some(first) = endpoints.first()
        && first.localhost
        && first.admit()
    {
        let attempt = with_retries(http, &first.url, req).await;
        let bad = failed(&attempt);
        first.record(!bad);
        if !bad {
            return attempt;
        }
        tried_localhost = Some(0);
        last = Some(attempt);
    }
    let n = endpoints.len();
    let start = random_below(n as u32) as usize;
    let mut skipped_all = true;
    for i in 1..=n {
        let idx = (start + i) % n;
        if Some(idx) == tried_localhost {
            skipped_all = false;
            continue;
        }
        let endpoint = &endpoints[idx];
        if !endpoint.admit() {
            continue;
        }
        skipped_all = false;
        let attempt = with_retries(http, &endpoint.url, req).await;
        let bad = failed(&attempt);
        endpoint.record(!bad);
        if !bad {
            return attempt;
        }
        last = Some(attempt);
    }
    if skipped_all {
        for i in 1..=n {
            let endpoint = &endpoints[(start + i) % n];
            let attempt = with_retries(http, &endpoint.url, req).await;
            let bad = failed(&attempt);
            endpoint.record(!bad);
            if !bad {
                return attempt;
            }
            last = Some(attempt);
        }
    }
    last.unwrap_or_else(|| Err(Error::Connection("no endpoint available".to_owned())))
}

/// Up to three attempts at one endpoint; network errors and 503 are retried after
/// 200 ms + uniform[0, 800) ms.
async fn with_retries(http: &reqwest::Client, endpoint: &str, req: &Request<'_>) -> Attempt {
    let url = format!("{endpoint}{}", req.path);
    let mut retries = 0;
    loop {
        let mut builder = http.request(req.method.clone(), &url);
        if let Some(body) = &req.body {
            if req.json {
                builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json");
            }
            builder = builder.body(body.clone());
        }
        let result = builder.send().await;
        let retry = match &result {
            Ok(resp) => resp.status() == StatusCode::SERVICE_UNAVAILABLE,
            Err(_) => true,
        };
        if !retry || retries == RETRIES {
            return result.map_err(|e| Error::Connection(error_chain(&e)));
        }
        retries += 1;
        let jitter = u64::from(random_below(800));
        tokio::time::sleep(Duration::from_millis(200 + jitter)).await;
    }
}

/// The error and its sources, joined with `: `.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A uniformly random number in `[0, n)`; 0 when `n` is 0 or randomness fails.
fn random_below(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return 0;
    }
    (u64::from_le_bytes(bytes) % u64::from(n)) as u32
}

/// Endpoint classes in preference order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Localhost,
    Local,
    Remote,
}

/// Classifies an endpoint URL by its host: `localhost`, a loopback address or an address of
/// this machine is localhost; a private or link-local address is local; anything else remote.
async fn classify(url: &str) -> Class {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Class::Remote;
    };
    let Some(host) = parsed.host_str() else {
        return Class::Remote;
    };
    if host.eq_ignore_ascii_case("localhost") {
        return Class::Localhost;
    }
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return class_of(ip);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host.to_owned(), port));
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(mut addrs)) => addrs.next().map_or(Class::Remote, |a| class_of(a.ip())),
        _ => Class::Remote,
    }
}

fn class_of(ip: IpAddr) -> Class {
    // Binding succeeds exactly for addresses assigned to an interface of this machine.
    if ip.is_loopback() || std::net::UdpSocket::bind((ip, 0)).is_ok() {
        return Class::Localhost;
    }
    let local = match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    };
    if local { Class::Local } else { Class::Remote }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of("127.0.0.1".parse().unwrap()), Class::Localhost);
        assert_eq!(class_of("::1".parse().unwrap()), Class::Localhost);
        assert_eq!(class_of("10.254.254.254".parse().unwrap()), Class::Local);
        assert_eq!(class_of("8.8.8.8".parse().unwrap()), Class::Remote);
    }

    #[tokio::test]
    async fn ordering_is_stable() {
        let e = Endpoints::new(&[
            "https://8.8.8.8:7373/".to_owned(),
            " https://192.168.254.1:7373".to_owned(),
            "https://1.1.1.1:7373".to_owned(),
            "https://localhost:7373".to_owned(),
        ]);
        assert_eq!(
            e.ordered().await,
            [
                "https://localhost:7373",
                "https://192.168.254.1:7373",
                "https://8.8.8.8:7373",
                "https://1.1.1.1:7373"
            ]
        );
    }

    #[test]
    fn random_is_in_range() {
        for _ in 0..100 {
            assert!(random_below(800) < 800);
        }
    }
}
