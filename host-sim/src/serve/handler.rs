//! One request through `serve`, as Envoy's HTTP connection manager runs it: the request (its
//! body read whole, as Envoy buffers a body a filter may inspect or the router may retry) goes
//! through the filter on the connection's worker; a local reply goes back as the filter wrote
//! it; a request let through goes to the upstream its cluster names, mirror copies alongside;
//! the upstream's response headers go through the filter's response phase, and its body and
//! trailers stream back to the client. Then one access-log line and the counters.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};

use super::access_log::{self, Line};
use super::grpc_callout;
use super::stats::Record;
use super::upstream::{self, Outgoing, Policy};
use super::worker::{Begun, Worker};
use super::{Body, Shared};
use crate::abi::headers::HeaderMap;
use crate::envoy::reply::{is_grpc_request, local_reply_headers};
use crate::envoy::{AwaitedCall, CalloutAnswer, HttpRequest, LocalReply, StreamOutcome};

/// The largest request body `serve` buffers (Envoy's default buffer limit is 1 MiB per
/// connection; a local gateway allows more).
const MAX_BODY: usize = 16 << 20;

/// Where a connection came in.
#[derive(Clone, Copy, Debug)]
pub(super) struct Listener {
    /// The port the filter sees as `destination.port`.
    pub(super) gateway_port: u16,
    /// The listener terminates TLS.
    pub(super) https: bool,
}

/// The client's side of a connection, as Envoy's connection properties show it.
#[derive(Clone, Debug)]
pub(super) struct Connection {
    /// The client's address and port (`source.address`).
    pub(super) peer: SocketAddr,
    /// The TLS server name the client sent (`connection.requested_server_name`).
    pub(super) sni: Option<String>,
}

/// Serves one request; never fails (a failure is an answer, or a reset stream).
pub(super) async fn handle(
    shared: Arc<Shared>,
    worker: Worker,
    listener: Listener,
    connection: Connection,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let start = (SystemTime::now(), Instant::now());
    let protocol = match request.version() {
        hyper::Version::HTTP_2 => "HTTP/2",
        hyper::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    let (parts, body) = request.into_parts();
    let method = parts.method.to_string();
    let authority = parts
        .uri
        .authority()
        .map(ToString::to_string)
        .or_else(|| {
            parts
                .headers
                .get(hyper::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| String::from("/"), ToString::to_string);
    let scheme = if listener.https { "https" } else { "http" };
    let mut filter_request = HttpRequest::new(&method, scheme, &authority, &path);
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if name != "host" && !upstream::is_hop_by_hop(name, value.as_bytes()) {
            filter_request = filter_request.header(name, value.as_bytes());
        }
    }
    filter_request.destination_port = Some(listener.gateway_port);
    filter_request.properties.push((
        vec!["request".to_owned(), "protocol".to_owned()],
        protocol.as_bytes().to_vec(),
    ));
    filter_request.properties.push((
        vec!["source".to_owned(), "address".to_owned()],
        connection.peer.to_string().into_bytes(),
    ));
    if let Some(sni) = connection.sni {
        filter_request.properties.push((
            vec!["connection".to_owned(), "requested_server_name".to_owned()],
            sni.into_bytes(),
        ));
    }
    let grpc = is_grpc_request(&HeaderMap::from_pairs(&filter_request.headers));
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(status) => return Ok(plain(status, "request body too large or unreadable\n")),
    };
    filter_request.body = body.as_ref().map(|b| b.to_vec());
    let request_body = body.unwrap_or_default();

    let mut log = Line {
        start: start.0,
        method: &method,
        authority: &authority,
        path: &path,
        protocol,
        status: 0,
        flag: None,
        decision: None,
        cluster: None,
        duration: std::time::Duration::ZERO,
    };
    let mut begun = match worker.begin(filter_request).await {
        Ok(begun) => begun,
        Err(_) => return Ok(plain(503, "the worker stopped\n")),
    };
    // An authorization check: send it, and hand the answer back to the waiting stream.
    while let Begun::Callout {
        id,
        call,
        generation,
    } = begun
    {
        let guard = Abandon::new(worker.clone(), id);
        let answer = match call {
            Some(AwaitedCall::Http(call)) => match generation.upstream(Some(&call.cluster)) {
                Some(target) => upstream::callout(&shared.clients, target, call)
                    .await
                    .map_or(CalloutAnswer::Fail, CalloutAnswer::Http),
                None => CalloutAnswer::Fail,
            },
            Some(AwaitedCall::Grpc(call)) => {
                match generation.upstream(Some(&grpc_callout::cluster(&call))) {
                    Some(target) => grpc_callout::send(&shared.clients, target, call).await,
                    None => CalloutAnswer::Fail,
                }
            }
            None => CalloutAnswer::Fail,
        };
        guard.done();
        begun = match worker.answer(id, answer).await {
            Ok(begun) => begun,
            Err(_) => return Ok(plain(503, "the worker stopped\n")),
        };
    }
    let (id, upstream_request, calls, generation) = match begun {
        Begun::Ended(outcome) => {
            let (response, flag) = local_answer(&outcome, grpc);
            log.flag = flag;
            return Ok(finish_log(&shared, &log, start.1, &outcome, 0, 0, response));
        }
        Begun::Upstream {
            id,
            upstream,
            calls,
            generation,
        } => (id, upstream, calls, generation),
        Begun::Callout { .. } => return Ok(plain(503, "the callout was not answered\n")),
    };
    let guard = Abandon::new(worker.clone(), id);
    let mirrors = calls.len();
    for call in calls {
        if let Some(target) = generation.upstream(Some(&call.cluster)) {
            tokio::spawn(upstream::mirror(
                shared.clients.clone(),
                target.clone(),
                call,
            ));
        }
    }

    let mut headers = upstream_request.headers;
    let policy = Policy::take(&mut headers);
    let cluster = header(&headers, &shared.cluster_header);
    let mut outgoing = Outgoing {
        method: parts.method.clone(),
        path: path.clone(),
        authority: authority.clone(),
        headers: Vec::new(),
        body: request_body,
    };
    for (name, value) in headers {
        match name.as_str() {
            ":method" => {
                outgoing.method = hyper::Method::from_bytes(&value).unwrap_or(outgoing.method)
            }
            ":path" => outgoing.path = String::from_utf8_lossy(&value).into_owned(),
            ":authority" => outgoing.authority = String::from_utf8_lossy(&value).into_owned(),
            n if n.starts_with(':') || n == "content-length" => {}
            _ => outgoing.headers.push((name, value)),
        }
    }

    let (answer, retries, flag) = match generation.upstream(cluster.as_deref()) {
        None => (
            Err(router_reply(503, "no healthy upstream\n")),
            0,
            Some("NC"),
        ),
        Some(target) => match upstream::send(&shared.clients, target, &outgoing, &policy).await {
            (Ok(response), retries) => (Ok(response), retries, None),
            (Err(failure), retries) => {
                let (status, text) = failure.reply();
                (
                    Err(router_reply(status, text)),
                    retries,
                    Some(failure.flag()),
                )
            }
        },
    };
    log.flag = flag;
    log.cluster = cluster.as_deref();
    let response_headers = match &answer {
        Ok(response) => {
            let mut pairs = vec![(
                ":status".to_owned(),
                response.status().as_str().as_bytes().to_vec(),
            )];
            for (name, value) in response.headers() {
                pairs.push((name.as_str().to_owned(), value.as_bytes().to_vec()));
            }
            pairs
        }
        Err(reply) => local_reply_headers(reply, grpc).into_pairs(),
    };
    let outcome = match worker.finish(id, response_headers).await {
        Ok(outcome) => outcome,
        Err(_) => return Ok(plain(503, "the worker stopped\n")),
    };
    guard.done();
    let response = match (outcome.local_reply.as_ref(), answer) {
        // The filter replaced the response in its response phase.
        (Some(_), _) => local_answer(&outcome, grpc).0,
        (None, Ok(upstream)) => respond(
            &outcome.response_headers,
            upstream.into_body().map_err(Into::into).boxed(),
        ),
        (None, Err(reply)) => respond(&outcome.response_headers, full(reply.body)),
    };
    Ok(finish_log(
        &shared, &log, start.1, &outcome, retries, mirrors, response,
    ))
}

/// The access-log line and the counters, once the answer is known.
fn finish_log(
    shared: &Shared,
    log: &Line<'_>,
    started: Instant,
    outcome: &StreamOutcome,
    retries: u32,
    mirrors: usize,
    response: Response<Body>,
) -> Response<Body> {
    let decision = outcome
        .filter_state
        .get("gatewasm")
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let mut fields = decision.as_deref().unwrap_or_default().split(' ');
    let rule = match (fields.next(), fields.next()) {
        (Some(route), Some(rule)) if !route.is_empty() => Some(format!("{route} {rule}")),
        _ => None,
    };
    let backend = fields.next().filter(|b| *b != "-");
    let line = Line {
        status: if outcome.reset {
            0
        } else {
            u32::from(response.status().as_u16())
        },
        decision: decision.as_deref(),
        duration: started.elapsed(),
        ..*log
    };
    shared.stats.record(&Record {
        status: line.status,
        rule,
        backend: if outcome.upstream.is_some() {
            backend
        } else {
            None
        },
        flag: line.flag,
        retries,
        mirrors,
    });
    if shared.access_log {
        access_log::print(&line);
    }
    response
}

/// The answer to a stream that ended in the filter: its local reply, a reset, or a stall.
fn local_answer(outcome: &StreamOutcome, grpc: bool) -> (Response<Body>, Option<&'static str>) {
    if let Some(reply) = &outcome.local_reply {
        // gRPC replies carry the body as `grpc-message` (trailers-only).
        let body = if grpc {
            Bytes::new()
        } else {
            Bytes::from(reply.body.clone())
        };
        let headers = if outcome.response_headers.is_empty() {
            local_reply_headers(reply, grpc).into_pairs()
        } else {
            outcome.response_headers.clone()
        };
        return (respond(&headers, full(body)), None);
    }
    if outcome.reset {
        return (reset(), Some("UR"));
    }
    (
        plain(503, "the filter stopped the request and never resumed it\n"),
        Some("DPE"),
    )
}

/// A response from header pairs (`:status` first) and a body.
fn respond(headers: &[(String, Vec<u8>)], body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    for (name, value) in headers {
        if name == ":status" {
            if let Some(status) = std::str::from_utf8(value)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
                .and_then(|s| hyper::StatusCode::from_u16(s).ok())
            {
                *response.status_mut() = status;
            }
            continue;
        }
        if name.starts_with(':') || upstream::is_hop_by_hop(name, value) {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_bytes(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// A local reply Envoy's router makes (no upstream, failed upstream).
fn router_reply(status: u32, text: &str) -> LocalReply {
    LocalReply {
        status,
        details: String::new(),
        body: text.as_bytes().to_vec(),
        headers: Vec::new(),
        grpc_status: None,
    }
}

fn plain(status: u16, text: &'static str) -> Response<Body> {
    let mut response = Response::new(full(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
    response
}

/// A reset stream: hyper closes the connection (HTTP/1.1) or resets the stream (HTTP/2) when
/// the body fails.
fn reset() -> Response<Body> {
    Response::new(Reset.boxed())
}

/// A body that fails at once.
struct Reset;

impl hyper::body::Body for Reset {
    type Data = Bytes;
    type Error = super::BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err("the filter reset the stream".into())))
    }
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

fn header(headers: &[(String, Vec<u8>)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// The request body, whole; `None` when the headers ended the request.
async fn read_body(body: Incoming) -> Result<Option<Bytes>, u16> {
    use hyper::body::Body as _;
    if body.is_end_stream() {
        return Ok(None);
    }
    let collected = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| 413u16)?;
    Ok(Some(collected.to_bytes()))
}

/// Ends a stream on its worker when the client went away before the upstream answered.
struct Abandon {
    worker: Worker,
    id: Option<u64>,
}

impl Abandon {
    fn new(worker: Worker, id: u64) -> Self {
        Self {
            worker,
            id: Some(id),
        }
    }

    fn done(mut self) {
        self.id = None;
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let worker = self.worker.clone();
            tokio::spawn(async move {
                let _ = worker
                    .finish(id, vec![(":status".to_owned(), b"503".to_vec())])
                    .await;
            });
        }
    }
}
