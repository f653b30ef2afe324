//! The response headers Envoy builds for a local reply (`sendLocalReply`), for plain HTTP and for
//! gRPC requests, and the fail-closed reply of a failed VM (reference §1.7 "Failure", §1.8).
//!
//! Only headers are modelled; the body is kept on the `LocalReply` itself.

use gatewasm_core::{GRPC_UNAVAILABLE, GRPC_UNIMPLEMENTED};

use crate::abi::headers::HeaderMap;
use crate::abi::lifecycle::LocalReply;

/// The reply Envoy sends on a stream whose VM failed (fail closed): 503, empty body,
/// details `wasm_fail_stream`, gRPC UNAVAILABLE.
pub fn fail_stream_reply() -> LocalReply {
    LocalReply {
        status: 503,
        details: "wasm_fail_stream".to_string(),
        body: Vec::new(),
        headers: Vec::new(),
        grpc_status: Some(i32::from(GRPC_UNAVAILABLE)),
    }
}

/// True when Envoy treats the request as gRPC (`content-type: application/grpc…`).
pub fn is_grpc_request(headers: &HeaderMap) -> bool {
    headers
        .first("content-type")
        .is_some_and(|v| v.starts_with(b"application/grpc"))
}

/// Envoy's `Grpc::Utility::httpToGrpcStatus`.
pub fn http_to_grpc_status(http: u32) -> i32 {
    match http {
        400 => 13,
        401 => 16,
        403 => 7,
        404 => i32::from(GRPC_UNIMPLEMENTED),
        429 | 502..=504 => i32::from(GRPC_UNAVAILABLE),
        _ => 2,
    }
}

/// Percent-encodes a `grpc-message` value as the gRPC HTTP/2 spec asks (bytes outside
/// space..tilde, and `%`).
pub fn grpc_message(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    for &b in body {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

/// The response headers of a local reply. A plain request gets `:status`, the plugin's headers
/// appended, and `content-length`/`content-type: text/plain` when there is a body. A gRPC request
/// gets a trailers-only reply: `:status: 200`, `content-type: application/grpc`, `grpc-status`
/// (the plugin's, else mapped from the HTTP status) and the body as `grpc-message`.
pub fn local_reply_headers(reply: &LocalReply, grpc: bool) -> HeaderMap {
    let mut map = HeaderMap::default();
    if grpc {
        let status = reply
            .grpc_status
            .unwrap_or_else(|| http_to_grpc_status(reply.status));
        map.add(b":status", b"200");
        map.add(b"content-type", b"application/grpc");
        map.add(b"grpc-status", status.to_string().as_bytes());
        if !reply.body.is_empty() {
            map.add(b"grpc-message", &grpc_message(&reply.body));
        }
    } else {
        map.add(b":status", reply.status.to_string().as_bytes());
    }
    for (name, value) in &reply.headers {
        map.add(name.as_bytes(), value);
    }
    if !grpc && !reply.body.is_empty() {
        map.replace(b"content-length", reply.body.len().to_string().as_bytes());
        if map.first("content-type").is_none() {
            map.add(b"content-type", b"text/plain");
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(map: &HeaderMap) -> Vec<(&str, &str)> {
        map.pairs()
            .iter()
            .map(|(n, v)| (n.as_str(), std::str::from_utf8(v).unwrap_or("<bin>")))
            .collect()
    }

    #[test]
    fn plain_reply_with_body_and_headers() {
        let reply = LocalReply {
            status: 404,
            body: b"no route".to_vec(),
            headers: vec![("x-why".into(), b"none".to_vec())],
            ..LocalReply::default()
        };
        assert_eq!(
            pairs(&local_reply_headers(&reply, false)),
            [
                (":status", "404"),
                ("x-why", "none"),
                ("content-length", "8"),
                ("content-type", "text/plain")
            ]
        );
    }

    #[test]
    fn grpc_reply_is_trailers_only() {
        let reply = LocalReply {
            status: 404,
            body: b"no 100%".to_vec(),
            ..LocalReply::default()
        };
        assert_eq!(
            pairs(&local_reply_headers(&reply, true)),
            [
                (":status", "200"),
                ("content-type", "application/grpc"),
                ("grpc-status", "12"),
                ("grpc-message", "no 100%25")
            ]
        );
        let failed = local_reply_headers(&fail_stream_reply(), true);
        assert_eq!(failed.first("grpc-status"), Some(&b"14"[..]));
        assert_eq!(
            pairs(&local_reply_headers(&fail_stream_reply(), false)),
            [(":status", "503")]
        );
    }

    #[test]
    fn grpc_detection_and_mapping() {
        let grpc = HeaderMap::from_pairs(&[("content-type", "application/grpc+proto")]);
        assert!(is_grpc_request(&grpc));
        assert!(!is_grpc_request(&HeaderMap::from_pairs(&[(
            "content-type",
            "text/html"
        )])));
        assert_eq!(http_to_grpc_status(503), 14);
        assert_eq!(http_to_grpc_status(500), 2);
    }
}
