//! HTTP callouts: `proxy_http_call` records the request Envoy would send (mirrors, auth calls)
//! and hands out a token (reference §1.3, §1.8 "proxy_http_call in Envoy").
//!
//! Nothing is sent. A response is delivered only when a test asks for one through the engine
//! (`crate::envoy::Proxy::deliver_http_call_response`), never from inside a hostcall.

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::headers::{parse_header_list, HeaderMap};
use super::memory::{bytes, enter, finish_u32, split};
use super::types::{HostResult, Status};
use super::HostState;

/// One dispatched `proxy_http_call`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCall {
    /// The token returned to the plugin.
    pub token: u32,
    /// The context that made the call.
    pub context_id: u32,
    /// The Envoy cluster name.
    pub cluster: String,
    /// Request headers as Envoy builds them (names lowercased, `content-length` added for a body).
    pub headers: Vec<(String, Vec<u8>)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Request trailers.
    pub trailers: Vec<(String, Vec<u8>)>,
    /// Timeout in milliseconds; 0 means none.
    pub timeout_ms: u32,
}

/// The VM's callout bookkeeping.
#[derive(Clone, Debug, Default)]
pub struct HttpCalls {
    /// Clusters that exist on this proxy; `None` means every name exists.
    pub clusters: Option<Vec<String>>,
    /// Calls in dispatch order (the engine moves a stream's calls into its outcome).
    pub calls: Vec<HttpCall>,
    /// Tokens of calls that have not had a response yet.
    pub outstanding: Vec<u32>,
    // The last token handed out; tokens start at 1 and skip 0 on wrap, as in Envoy.
    last_token: u32,
}

impl HttpCalls {
    /// Bookkeeping for a proxy where only `clusters` exist (`None`: every name exists).
    pub fn with_clusters(clusters: Option<Vec<String>>) -> Self {
        Self {
            clusters,
            ..Self::default()
        }
    }
}

/// `proxy_http_call`: `BadArgument` for a negative timeout, an unknown cluster, or headers without
/// `:path`, `:method` and `:authority`; otherwise records the call and returns a fresh token.
pub fn http_call(
    calls: &mut HttpCalls,
    context_id: u32,
    cluster: &[u8],
    headers: &[u8],
    body: &[u8],
    trailers: &[u8],
    timeout_ms: i32,
) -> HostResult<u32> {
    let timeout_ms = u32::try_from(timeout_ms).map_err(|_| Status::BadArgument)?;
    let cluster = String::from_utf8_lossy(cluster).into_owned();
    if let Some(known) = &calls.clusters {
        if !known.contains(&cluster) {
            return Err(Status::BadArgument);
        }
    }
    let mut map = HeaderMap::default();
    for (name, value) in parse_header_list(headers) {
        map.add(name.as_bytes(), &value);
    }
    if [":path", ":method", ":authority"]
        .iter()
        .any(|h| map.first(h).is_none())
    {
        return Err(Status::BadArgument);
    }
    if !body.is_empty() {
        map.replace(b"content-length", body.len().to_string().as_bytes());
    }
    calls.last_token = calls.last_token.wrapping_add(1).max(1);
    let token = calls.last_token;
    calls.outstanding.push(token);
    calls.calls.push(HttpCall {
        token,
        context_id,
        cluster,
        headers: map.into_pairs(),
        body: body.to_vec(),
        trailers: parse_header_list(trailers),
        timeout_ms,
    });
    Ok(token)
}

/// Registers `proxy_http_call`.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_http_call",
        |mut caller: Caller<'_, HostState>,
         cluster_ptr: i32,
         cluster_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         body_ptr: i32,
         body_len: i32,
         trailers_ptr: i32,
         trailers_len: i32,
         timeout_ms: i32,
         ret_token: i32| {
            const NAME: &str = "proxy_http_call";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let cluster = bytes(mem, cluster_ptr, cluster_len, NAME)?;
            let headers = bytes(mem, headers_ptr, headers_len, NAME)?;
            let body = bytes(mem, body_ptr, body_len, NAME)?;
            let trailers = bytes(mem, trailers_ptr, trailers_len, NAME)?;
            let context = state.lifecycle.current_context;
            let result = http_call(
                &mut state.http_calls,
                context,
                cluster,
                headers,
                body,
                trailers,
                timeout_ms,
            );
            finish_u32(&mut caller, result, ret_token, NAME)
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::headers::serialize_pairs;

    fn headers(pairs: &[(&str, &str)]) -> Vec<u8> {
        serialize_pairs(pairs)
    }

    const GOOD: &[(&str, &str)] = &[
        (":method", "GET"),
        (":path", "/m"),
        (":authority", "mirror"),
    ];

    #[test]
    fn records_calls_with_increasing_tokens() {
        let mut calls = HttpCalls::default();
        let h = headers(GOOD);
        assert_eq!(
            http_call(&mut calls, 2, b"mirror", &h, b"", &[], 500),
            Ok(1)
        );
        assert_eq!(
            http_call(&mut calls, 2, b"mirror", &h, b"hi", &[], 0),
            Ok(2)
        );
        let second = &calls.calls[1];
        assert_eq!(second.cluster, "mirror");
        assert_eq!(
            second.headers.last(),
            Some(&("content-length".to_string(), b"2".to_vec()))
        );
        assert_eq!(calls.outstanding, [1, 2]);
    }

    #[test]
    fn requires_method_path_and_authority() {
        let mut calls = HttpCalls::default();
        let missing = headers(&[(":method", "GET"), (":path", "/")]);
        assert_eq!(
            http_call(&mut calls, 2, b"c", &missing, b"", &[], 0),
            Err(Status::BadArgument)
        );
        assert_eq!(
            http_call(&mut calls, 2, b"c", &[], b"", &[], 0),
            Err(Status::BadArgument)
        );
        assert!(calls.calls.is_empty());
    }

    #[test]
    fn unknown_cluster_and_negative_timeout_are_bad_argument() {
        let mut calls = HttpCalls {
            clusters: Some(vec!["known".into()]),
            ..HttpCalls::default()
        };
        let h = headers(GOOD);
        assert_eq!(
            http_call(&mut calls, 2, b"other", &h, b"", &[], 0),
            Err(Status::BadArgument)
        );
        assert_eq!(
            http_call(&mut calls, 2, b"known", &h, b"", &[], -1),
            Err(Status::BadArgument)
        );
        assert_eq!(http_call(&mut calls, 2, b"known", &h, b"", &[], 0), Ok(1));
    }
}
