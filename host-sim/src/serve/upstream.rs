//! What Envoy's router does once the filter let a request through: sends it to the cluster's
//! address over HTTP/1.1 or HTTP/2 (h2c), honouring the timeout and retry headers the filter set
//! (`x-envoy-upstream-rq-timeout-ms`, `x-envoy-upstream-rq-per-try-timeout-ms`,
//! `x-envoy-retry-on`, `x-envoy-max-retries`, `x-envoy-retriable-status-codes`), which the router
//! consumes and does not forward. Also sends mirror copies, whose answers nobody waits for.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::Response;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::configuration::Upstream;
use crate::envoy::{HttpCall, HttpCallResponse};

/// The router's headers: read, then removed from the upstream request.
const TIMEOUT: &str = "x-envoy-upstream-rq-timeout-ms";
const PER_TRY_TIMEOUT: &str = "x-envoy-upstream-rq-per-try-timeout-ms";
const RETRY_ON: &str = "x-envoy-retry-on";
const MAX_RETRIES: &str = "x-envoy-max-retries";
const RETRIABLE_CODES: &str = "x-envoy-retriable-status-codes";

/// Envoy's route timeout when none is set: 15 seconds.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Connections to upstreams, pooled: one client for HTTP/1.1, one for HTTP/2 prior knowledge.
#[derive(Clone)]
pub(super) struct Clients {
    http1: Client<HttpConnector, Full<Bytes>>,
    http2: Client<HttpConnector, Full<Bytes>>,
}

impl Clients {
    /// Clients with Nagle off, as Envoy's upstream connections.
    pub(super) fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        Self {
            http1: Client::builder(TokioExecutor::new()).build(connector.clone()),
            http2: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector),
        }
    }
}

/// Why no upstream response came back, with Envoy's response flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// `UF`: the connection could not be made.
    Connect,
    /// `UR`: the upstream reset the stream or closed the connection before answering.
    Reset,
    /// `UT`: no response headers within the timeout.
    Timeout,
}

impl Failure {
    /// Envoy's response flag.
    pub(super) fn flag(self) -> &'static str {
        match self {
            Self::Connect => "UF",
            Self::Reset => "UR",
            Self::Timeout => "UT",
        }
    }

    /// Envoy's local reply: status and body.
    pub(super) fn reply(self) -> (u32, &'static str) {
        match self {
            Self::Connect => (
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
            ),
            Self::Reset => (
                503,
                "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
            ),
            Self::Timeout => (504, "upstream request timeout"),
        }
    }
}

/// The router's timeout and retry settings for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Policy {
    timeout: Option<Duration>,
    per_try: Option<Duration>,
    retry_on: Vec<String>,
    max_retries: u32,
    codes: Vec<u16>,
}

impl Policy {
    /// Reads and removes the router's headers from `headers`.
    pub(super) fn take(headers: &mut Vec<(String, Vec<u8>)>) -> Self {
        let mut policy = Self {
            max_retries: 1,
            ..Self::default()
        };
        let text = |v: &[u8]| String::from_utf8_lossy(v).trim().to_owned();
        let millis = |v: &[u8]| {
            text(v)
                .parse::<u64>()
                .ok()
                .map(Duration::from_millis)
                .filter(|d| !d.is_zero())
        };
        headers.retain(|(name, value)| {
            match name.as_str() {
                TIMEOUT => policy.timeout = millis(value),
                PER_TRY_TIMEOUT => policy.per_try = millis(value),
                RETRY_ON => {
                    policy.retry_on = text(value)
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .collect();
                }
                MAX_RETRIES => policy.max_retries = text(value).parse().unwrap_or(1),
                RETRIABLE_CODES => {
                    policy.codes = text(value)
                        .split(',')
                        .filter_map(|c| c.trim().parse().ok())
                        .collect();
                }
                _ => return true,
            }
            false
        });
        if policy.retry_on.is_empty() {
            policy.max_retries = 0;
        }
        policy
    }

    fn retries_status(&self, status: u16) -> bool {
        self.retry_on.iter().any(|on| match on.as_str() {
            "5xx" => status >= 500,
            "gateway-error" => matches!(status, 502..=504),
            "retriable-4xx" => status == 409,
            "retriable-status-codes" => self.codes.contains(&status),
            _ => false,
        })
    }

    fn retries_failure(&self, failure: Failure) -> bool {
        self.retry_on.iter().any(|on| match on.as_str() {
            "5xx" | "gateway-error" => true,
            "reset" => failure != Failure::Timeout,
            "connect-failure" => failure == Failure::Connect,
            _ => false,
        })
    }
}

/// The request as the router sends it.
pub(super) struct Outgoing {
    /// `:method`.
    pub(super) method: hyper::Method,
    /// `:path`.
    pub(super) path: String,
    /// `:authority`, sent as `Host` over HTTP/1.1.
    pub(super) authority: String,
    /// The other headers.
    pub(super) headers: Vec<(String, Vec<u8>)>,
    /// The whole body.
    pub(super) body: Bytes,
}

/// Sends `request` to `upstream`, retrying as `policy` says. Returns the response and how many
/// retries it took.
///
/// # Errors
///
/// The last attempt's failure when no response headers came back.
pub(super) async fn send(
    clients: &Clients,
    upstream: &Upstream,
    request: &Outgoing,
    policy: &Policy,
) -> (Result<Response<Incoming>, Failure>, u32) {
    let deadline = Instant::now() + policy.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let mut retries = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let per_try = policy.per_try.map_or(left, |t| t.min(left));
        let attempt = tokio::time::timeout(per_try, attempt(clients, upstream, request)).await;
        let result = attempt.unwrap_or(Err(Failure::Timeout));
        let retry = match &result {
            Ok(response) => policy.retries_status(response.status().as_u16()),
            Err(failure) => policy.retries_failure(*failure),
        };
        // Envoy's default back-off: 25 ms base, doubling.
        let backoff = Duration::from_millis(25u64 << retries.min(6));
        if !retry || retries >= policy.max_retries || Instant::now() + backoff >= deadline {
            return (result, retries);
        }
        retries += 1;
        tokio::time::sleep(backoff).await;
    }
}

async fn attempt(
    clients: &Clients,
    upstream: &Upstream,
    request: &Outgoing,
) -> Result<Response<Incoming>, Failure> {
    let uri = format!(
        "http://{}:{}{}",
        bracketed(&upstream.address.host),
        upstream.address.port,
        request.path
    );
    let mut builder = hyper::Request::builder()
        .method(request.method.clone())
        .uri(uri);
    if !upstream.http2 {
        builder = builder.header(hyper::header::HOST, request.authority.as_str());
    }
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let outgoing = builder
        .body(Full::new(request.body.clone()))
        .map_err(|_| Failure::Reset)?;
    let client = if upstream.http2 {
        &clients.http2
    } else {
        &clients.http1
    };
    client.request(outgoing).await.map_err(|err| {
        if err.is_connect() {
            Failure::Connect
        } else {
            Failure::Reset
        }
    })
}

fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Sends a mirror copy to `upstream` and drops its answer, as Envoy does with a stream's
/// callout when nobody waits for it.
pub(super) async fn mirror(clients: Clients, upstream: Upstream, call: HttpCall) {
    let _ = callout(&clients, &upstream, call).await;
}

/// Sends a callout the filter made (`proxy_http_call`) to `upstream` and reads the whole
/// answer, as Envoy's async HTTP client does; `None` when it fails or does not finish within the
/// call's own timeout (or 5 s), which the filter then gets as a failed call.
pub(super) async fn callout(
    clients: &Clients,
    upstream: &Upstream,
    call: HttpCall,
) -> Option<HttpCallResponse> {
    let mut request = Outgoing {
        method: hyper::Method::GET,
        path: String::from("/"),
        authority: String::new(),
        headers: Vec::new(),
        body: Bytes::from(call.body),
    };
    for (name, value) in call.headers {
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            ":method" => request.method = hyper::Method::from_bytes(&value).unwrap_or_default(),
            ":path" => request.path = text(),
            ":authority" => request.authority = text(),
            _ if name.starts_with(':')
                || name == "host"
                || name == "content-length"
                || is_hop_by_hop(&name, &value) => {}
            _ => request.headers.push((name, value)),
        }
    }
    let timeout = match call.timeout_ms {
        0 => Duration::from_secs(5),
        ms => Duration::from_millis(u64::from(ms)),
    };
    let response = tokio::time::timeout(timeout, attempt(clients, upstream, &request))
        .await
        .ok()?
        .ok()?;
    let mut headers = vec![(
        ":status".to_owned(),
        response.status().as_str().as_bytes().to_vec(),
    )];
    headers.extend(
        response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())),
    );
    let collected = tokio::time::timeout(timeout, response.into_body().collect())
        .await
        .ok()?
        .ok()?;
    let trailers = collected.trailers().map_or_else(Vec::new, |t| {
        t.iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect()
    });
    Some(HttpCallResponse {
        headers,
        body: collected.to_bytes().to_vec(),
        trailers,
    })
}

/// Connection-specific headers, which a proxy never forwards (RFC 9110 §7.6.1).
pub(super) fn is_hop_by_hop(name: &str, value: &[u8]) -> bool {
    match name {
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" => true,
        // `te: trailers` is how a gRPC client says it reads trailers; HTTP/2 allows only that.
        "te" => value != b"trailers",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{Failure, Policy};

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn the_router_consumes_its_headers() {
        let mut h = headers(&[
            ("x-envoy-upstream-rq-timeout-ms", "1500"),
            ("x-envoy-retry-on", "retriable-status-codes,connect-failure"),
            ("x-envoy-max-retries", "3"),
            ("x-envoy-retriable-status-codes", "503, 500"),
            ("x-kept", "1"),
        ]);
        let policy = Policy::take(&mut h);
        assert_eq!(h, headers(&[("x-kept", "1")]));
        assert_eq!(policy.timeout, Some(std::time::Duration::from_millis(1500)));
        assert_eq!(policy.max_retries, 3);
        assert!(policy.retries_status(500));
        assert!(!policy.retries_status(502));
        assert!(policy.retries_failure(Failure::Connect));
        assert!(!policy.retries_failure(Failure::Timeout));
    }

    #[test]
    fn no_retry_on_means_no_retries() {
        let mut h = headers(&[("x-envoy-max-retries", "3")]);
        assert_eq!(Policy::take(&mut h).max_retries, 0);
    }
}
