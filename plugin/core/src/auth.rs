//! External authorization (`ExternalAuth`, reference §4.8) as Envoy's ext_authz filter does it
//! with `failure_mode_allow: false`: the compiled filter, the check request sent for one
//! request, and the verdict read from the authorization server's answer.
//!
//! Nothing here calls the host: the filter crate sends the check, waits, and applies the
//! verdict. Where in a decision the check sits is [`crate::decide`]'s business.
//!
//! - HTTP servers get the request's `:method`, `:authority`, `authorization`, `:path` behind
//!   `http.path`, the `allowedHeaders`, and the body the filter buffered (up to
//!   `forwardBody.maxSize`, none by default) with its `content-length`; 200 allows, a 5xx or no
//!   answer is a failure, any other status denies.
//! - gRPC servers get `envoy.service.auth.v3.Authorization/Check` with
//!   `attributes.request.http` {method, headers, path, host, scheme, body}; `status.code` 0
//!   allows.
//! - A failure (no answer, timeout, 5xx, unreadable answer) denies with 403, as Envoy does.

use crate::effect::{Backend, HeaderEdits, LocalReply};
use crate::matcher::is_header_name;
use crate::proto::{fields, put_bytes, Field};
use crate::request::RequestView;

/// The gRPC service of Envoy's authorization API.
pub const AUTHZ_SERVICE: &str = "envoy.service.auth.v3.Authorization";
/// Its one method.
pub const AUTHZ_METHOD: &str = "Check";
/// How long a check may take: Envoy ext_authz's default.
pub const AUTHZ_TIMEOUT_MS: u64 = 200;

/// Response details of a request the server denied.
pub(crate) const DENIED: &str = "gatewasm_ext_authz_denied";
/// Response details of a check that failed (no answer, timeout, 5xx, unreadable answer).
pub(crate) const FAILED: &str = "gatewasm_ext_authz_error";
/// Response details of a rule whose authorization server cannot be resolved.
pub(crate) const UNRESOLVED: &str = "gatewasm_ext_authz_backend_unresolved";

/// Headers of the server's answer never passed on: Host and the answer's own framing.
const NOT_PASSED: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// The request headers an HTTP check always carries (besides `content-length`).
const ALWAYS_SENT: [&str; 4] = [":method", ":path", ":authority", "authorization"];

/// How the filter talks to the server.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// A plain HTTP server; names lowercase.
    Http {
        path_prefix: String,
        allowed_headers: Vec<String>,
        allowed_response_headers: Vec<String>,
    },
    /// An ext_authz gRPC server; names lowercase, empty means every header.
    Grpc { allowed_headers: Vec<String> },
}

/// A compiled `ExternalAuth` filter.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ExternalAuth {
    pub(crate) protocol: Protocol,
    /// Index of the server in the table's backends; `None` when it cannot be resolved, so
    /// every request the rule matches is denied (the filter fails closed).
    pub(crate) backend: Option<u32>,
    /// `forwardBody.maxSize`: bytes of request body the check carries (0: none).
    pub(crate) max_body: u16,
}

/// The auth step of a forward decision: the check to make before anything else happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthCheck<'t> {
    auth: &'t ExternalAuth,
    /// The authorization server.
    pub server: &'t Backend,
}

/// What to send to the authorization server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckRequest {
    /// An HTTP call (`proxy_http_call`).
    Http {
        /// Request headers.
        headers: Vec<(String, Vec<u8>)>,
        /// Request body: the part of the request body the check carries.
        body: Vec<u8>,
    },
    /// A unary gRPC call of [`AUTHZ_SERVICE`]/[`AUTHZ_METHOD`] (`proxy_grpc_call`).
    Grpc {
        /// The call's service argument: an encoded `envoy.config.core.v3.GrpcService` naming
        /// the server's cluster, or the cluster name itself when that encoding is not UTF-8
        /// (the SDK takes a `&str`; Envoy accepts both).
        service: String,
        /// The encoded `CheckRequest`.
        message: Vec<u8>,
    },
}

/// The server's answer, as the host delivers it.
#[derive(Clone, Copy, Debug)]
pub enum AuthAnswer<'a> {
    /// An HTTP answer: its headers (empty when the call failed or timed out) and body.
    Http {
        /// Response headers, `:status` included.
        headers: &'a [(String, Vec<u8>)],
        /// Response body.
        body: &'a [u8],
    },
    /// A gRPC answer: the call's status (0 is OK) and the response message.
    Grpc {
        /// gRPC status of the call itself.
        status: u32,
        /// The encoded `CheckResponse`.
        message: &'a [u8],
    },
}

/// What the answer means for the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go on with the decision, after these request header edits.
    Allow(HeaderEdits),
    /// Answer the client with this instead.
    Deny(LocalReply),
}

impl<'t> AuthCheck<'t> {
    pub(crate) fn new(auth: &'t ExternalAuth, server: &'t Backend) -> Self {
        Self { auth, server }
    }

    /// The reply when the check cannot be made or answered: 403, as Envoy's ext_authz with
    /// `failure_mode_allow: false`.
    pub fn failure() -> LocalReply {
        LocalReply::new(403, FAILED)
    }

    /// How many bytes of request body the check carries (`forwardBody.maxSize`); 0 when none,
    /// and then the check goes out with the request headers.
    pub fn body_limit(&self) -> usize {
        usize::from(self.auth.max_body)
    }

    /// The check to send for `request`, carrying `body` cut to [`AuthCheck::body_limit`].
    pub fn request(&self, request: &RequestView<'_>, body: &[u8]) -> CheckRequest {
        let body = body.get(..self.body_limit()).unwrap_or(body);
        match &self.auth.protocol {
            Protocol::Http {
                path_prefix,
                allowed_headers,
                ..
            } => {
                let mut path = path_prefix.as_bytes().to_vec();
                path.extend_from_slice(request.full_path);
                let mut headers: Vec<(String, Vec<u8>)> = vec![
                    (String::from(":method"), request.method.to_vec()),
                    (String::from(":path"), path),
                    (String::from(":authority"), request.authority.to_vec()),
                    (
                        String::from("content-length"),
                        body.len().to_string().into_bytes(),
                    ),
                ];
                headers.extend(
                    request
                        .headers
                        .iter()
                        .filter(|&&(name, _)| {
                            name == "authorization"
                                || (allowed_headers.iter().any(|a| a == name)
                                    && !ALWAYS_SENT.contains(&name)
                                    && name != "content-length")
                        })
                        .map(|&(name, value)| (name.to_owned(), value.to_vec())),
                );
                CheckRequest::Http {
                    headers,
                    body: body.to_vec(),
                }
            }
            Protocol::Grpc { allowed_headers } => {
                let mut http = Vec::new();
                put_bytes(&mut http, 2, request.method);
                for (name, value) in merged(request.headers, allowed_headers) {
                    let mut entry = Vec::new();
                    put_bytes(&mut entry, 1, name.as_bytes());
                    put_bytes(&mut entry, 2, &value);
                    put_bytes(&mut http, 3, &entry);
                }
                put_bytes(&mut http, 4, request.full_path);
                put_bytes(&mut http, 5, request.authority);
                put_bytes(&mut http, 6, request.scheme);
                if !body.is_empty() {
                    put_bytes(&mut http, 11, body);
                }
                let attributes = nest(4, &nest(2, &http));
                let mut grpc = Vec::new();
                put_bytes(&mut grpc, 1, self.server.cluster.as_bytes());
                CheckRequest::Grpc {
                    service: String::from_utf8(nest(1, &grpc))
                        .unwrap_or_else(|_| self.server.cluster.clone()),
                    message: nest(1, &attributes),
                }
            }
        }
    }

    /// What the server's answer means for the request.
    pub fn verdict(&self, answer: AuthAnswer<'_>) -> Verdict {
        let verdict = match answer {
            AuthAnswer::Http { headers, body } => self.http_verdict(headers, body),
            AuthAnswer::Grpc { status: 0, message } => grpc_verdict(message),
            AuthAnswer::Grpc { .. } => None,
        };
        verdict.unwrap_or_else(|| Verdict::Deny(Self::failure()))
    }

    /// 200 allows with the allowed response headers set on the request; a 5xx (or no status)
    /// is a failure; anything else denies with the server's status, headers and body.
    fn http_verdict(&self, headers: &[(String, Vec<u8>)], body: &[u8]) -> Option<Verdict> {
        let status = headers
            .iter()
            .find(|(name, _)| name == ":status")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u16>().ok())?;
        let allowed: &[String] = match &self.auth.protocol {
            Protocol::Http {
                allowed_response_headers,
                ..
            } => allowed_response_headers,
            Protocol::Grpc { .. } => &[],
        };
        let passed = headers
            .iter()
            .filter(|(name, _)| passes(name))
            .map(|(name, value)| (name.clone(), String::from_utf8_lossy(value).into_owned()));
        match status {
            200 => Some(Verdict::Allow(HeaderEdits {
                set: passed
                    .filter(|(name, _)| allowed.is_empty() || allowed.contains(name))
                    .collect(),
                ..HeaderEdits::default()
            })),
            100..=499 => Some(Verdict::Deny(LocalReply {
                headers: passed.collect(),
                body: body.to_vec(),
                ..LocalReply::new(status, DENIED)
            })),
            _ => None,
        }
    }
}

/// Whether a header of the server's answer may be passed on.
fn passes(name: &str) -> bool {
    !name.starts_with(':') && is_header_name(name) && !NOT_PASSED.contains(&name)
}

/// A `CheckResponse`: `status.code` 0 allows with `ok_response` {headers (set, or added with
/// `append`), headers_to_remove}; otherwise `denied_response` {status (default 403), headers,
/// body} answers the client. `None` when the message cannot be read.
fn grpc_verdict(message: &[u8]) -> Option<Verdict> {
    let (mut code, mut denied, mut ok) = (0, None, None);
    for (number, field) in fields(message)? {
        match (number, field) {
            (1, Field::Bytes(status)) => code = varint_field(status, 1)?,
            (2, Field::Bytes(d)) => denied = Some(d),
            (3, Field::Bytes(o)) => ok = Some(o),
            _ => {}
        }
    }
    if code == 0 {
        let mut edits = HeaderEdits::default();
        for (number, field) in fields(ok.unwrap_or_default())? {
            match (number, field) {
                (2, Field::Bytes(option)) => {
                    let (name, value, append) = header_option(option)?;
                    if passes(&name) {
                        let list = if append {
                            &mut edits.add
                        } else {
                            &mut edits.set
                        };
                        list.push((name, value));
                    }
                }
                (5, Field::Bytes(name)) => {
                    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
                    if passes(&name) {
                        edits.remove.push(name);
                    }
                }
                _ => {}
            }
        }
        return Some(Verdict::Allow(edits));
    }
    let mut reply = LocalReply::new(403, DENIED);
    for (number, field) in fields(denied.unwrap_or_default())? {
        match (number, field) {
            (1, Field::Bytes(status)) => {
                let status = varint_field(status, 1)?;
                if let Ok(status @ 100..=599) = u16::try_from(status) {
                    reply.status = status;
                }
            }
            (2, Field::Bytes(option)) => {
                let (name, value, _) = header_option(option)?;
                if passes(&name) {
                    reply.headers.push((name, value));
                }
            }
            (3, Field::Bytes(body)) => reply.body = body.to_vec(),
            _ => {}
        }
    }
    Some(Verdict::Deny(reply))
}

/// A `HeaderValueOption`: {header: {key 1, value 2, raw_value 3} 1, append: BoolValue 2}, as
/// (lowercase name, value, append).
fn header_option(option: &[u8]) -> Option<(String, String, bool)> {
    let (mut name, mut value, mut append) = (String::new(), String::new(), false);
    for (number, field) in fields(option)? {
        match (number, field) {
            (1, Field::Bytes(header)) => {
                for (number, field) in fields(header)? {
                    match (number, field) {
                        (1, Field::Bytes(key)) => {
                            name = String::from_utf8_lossy(key).to_ascii_lowercase();
                        }
                        (2 | 3, Field::Bytes(v)) if !v.is_empty() => {
                            value = String::from_utf8_lossy(v).into_owned();
                        }
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(flag)) => append = varint_field(flag, 1)? != 0,
            _ => {}
        }
    }
    Some((name, value, append))
}

/// The varint field `number` of a message (0 when absent, as proto3 defaults).
fn varint_field(message: &[u8], number: u32) -> Option<u64> {
    Some(
        fields(message)?
            .into_iter()
            .find_map(|(n, f)| match f {
                Field::Varint(v) if n == number => Some(v),
                _ => None,
            })
            .unwrap_or(0),
    )
}

/// `message` as field `number` of a new message.
fn nest(number: u32, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_bytes(&mut out, number, message);
    out
}

/// Request headers for a gRPC check: every header (pseudo-headers too) when `allowed` is
/// empty, else only those named; repeated headers joined with `,`, as Envoy merges them.
fn merged<'h>(headers: &[(&'h str, &[u8])], allowed: &[String]) -> Vec<(&'h str, Vec<u8>)> {
    let mut out: Vec<(&str, Vec<u8>)> = Vec::new();
    for &(name, value) in headers {
        if !allowed.is_empty() && !allowed.iter().any(|a| a == name) {
            continue;
        }
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, joined)) => {
                joined.push(b',');
                joined.extend_from_slice(value);
            }
            None => out.push((name, value.to_vec())),
        }
    }
    out
}

#[cfg(test)]
mod tests;
