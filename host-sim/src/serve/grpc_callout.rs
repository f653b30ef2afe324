//! A unary gRPC call the filter made (`proxy_grpc_call`, an ExternalAuth check with protocol
//! GRPC), sent as Envoy's async gRPC client sends it: to the cluster the `GrpcService` names,
//! as gRPC over HTTP/2, its answer handed back as a message or a status.
//!
//! The transport is `upstream::callout`'s; this file frames the call and reads the answer.

use prost::Message;

use super::configuration::Upstream;
use super::upstream::{self, Clients};
use crate::envoy::{CalloutAnswer, GrpcCall, HttpCall, HttpCallResponse};

/// gRPC status codes this file answers with.
const UNKNOWN: u32 = 2;
const INTERNAL: u32 = 13;

/// `envoy.config.core.v3.GrpcService`, only its Envoy-client target.
#[derive(Clone, PartialEq, Message)]
struct GrpcService {
    #[prost(message, optional, tag = "1")]
    envoy_grpc: Option<EnvoyGrpc>,
}

/// `envoy.config.core.v3.GrpcService.EnvoyGrpc`.
#[derive(Clone, PartialEq, Message)]
struct EnvoyGrpc {
    #[prost(string, tag = "1")]
    cluster_name: String,
}

/// The cluster a call goes to. Envoy reads the plugin's service argument as a serialized
/// `GrpcService`, and when it is not one, as the cluster name itself.
pub(super) fn cluster(call: &GrpcCall) -> String {
    GrpcService::decode(call.service.as_slice())
        .ok()
        .and_then(|s| s.envoy_grpc)
        .map(|e| e.cluster_name)
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| String::from_utf8_lossy(&call.service).into_owned())
}

/// Sends the call to `upstream` over HTTP/2 and reads the answer: the response message when the
/// status is OK, else the status (from `grpc-status`, or from the HTTP status when the server
/// sent none); [`CalloutAnswer::Fail`] (UNAVAILABLE) when no response came.
pub(super) async fn send(clients: &Clients, upstream: &Upstream, call: GrpcCall) -> CalloutAnswer {
    let target = Upstream {
        http2: true,
        ..upstream.clone()
    };
    let request = http_request(&target.cluster, call);
    match upstream::callout(clients, &target, request).await {
        Some(response) => answer(&response),
        None => CalloutAnswer::Fail,
    }
}

/// The HTTP/2 request a unary call is on the wire (the gRPC over HTTP/2 protocol).
fn http_request(cluster: &str, call: GrpcCall) -> HttpCall {
    let mut headers: Vec<(String, Vec<u8>)> = [
        (":method", "POST".to_owned()),
        (":path", format!("/{}/{}", call.service_name, call.method)),
        (":authority", cluster.to_owned()),
        ("content-type", "application/grpc".to_owned()),
        ("te", "trailers".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.into_bytes()))
    .collect();
    if call.timeout_ms > 0 {
        headers.push((
            "grpc-timeout".to_owned(),
            format!("{}m", call.timeout_ms).into_bytes(),
        ));
    }
    headers.extend(call.initial_metadata);
    let message = call.messages.into_iter().next().unwrap_or_default();
    let mut body = Vec::with_capacity(message.len() + 5);
    body.push(0); // not compressed
    body.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    body.extend_from_slice(&message);
    HttpCall {
        token: call.token,
        context_id: call.context_id,
        cluster: cluster.to_owned(),
        headers,
        body,
        trailers: Vec::new(),
        timeout_ms: call.timeout_ms,
    }
}

/// What the filter gets for a response: the message of an OK call, or the call's status.
fn answer(response: &HttpCallResponse) -> CalloutAnswer {
    let header = |name: &str| {
        response
            .trailers
            .iter()
            .chain(&response.headers)
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let status = match header("grpc-status") {
        Some(status) => status.trim().parse().unwrap_or(UNKNOWN),
        None => header(":status")
            .and_then(|s| s.parse().ok())
            .map_or(UNKNOWN, from_http_status),
    };
    if status != 0 {
        return CalloutAnswer::GrpcStatus(status);
    }
    match unframe(&response.body) {
        Some(message) => CalloutAnswer::Grpc(message.to_vec()),
        None => CalloutAnswer::GrpcStatus(INTERNAL),
    }
}

/// The one message of a unary response: a 5-byte prefix (compressed flag, big-endian length),
/// then the message. `None` when the body is not one uncompressed message.
fn unframe(body: &[u8]) -> Option<&[u8]> {
    let (&[compressed, a, b, c, d], message) = body.split_first_chunk::<5>()?;
    let length = usize::try_from(u32::from_be_bytes([a, b, c, d])).ok()?;
    (compressed == 0 && message.len() == length).then_some(message)
}

/// The gRPC status for an HTTP status when the server sent no `grpc-status` (gRPC's
/// "HTTP to gRPC status code mapping", which Envoy's client applies).
fn from_http_status(status: u16) -> u32 {
    match status {
        400 => INTERNAL,
        401 => 16,             // UNAUTHENTICATED
        403 => 7,              // PERMISSION_DENIED
        404 => 12,             // UNIMPLEMENTED
        429 | 502..=504 => 14, // UNAVAILABLE
        _ => UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::{answer, cluster, http_request, GrpcService};
    use crate::envoy::{CalloutAnswer, GrpcCall, HttpCallResponse};
    use prost::Message;

    fn call(service: Vec<u8>) -> GrpcCall {
        GrpcCall {
            token: 1,
            context_id: 2,
            service,
            service_name: "envoy.service.auth.v3.Authorization".to_owned(),
            method: "Check".to_owned(),
            initial_metadata: vec![("x-trace".to_owned(), b"1".to_vec())],
            messages: vec![b"check".to_vec()],
            timeout_ms: 200,
            stream: false,
            closed: false,
        }
    }

    fn response(
        headers: &[(&str, &str)],
        body: &[u8],
        trailers: &[(&str, &str)],
    ) -> HttpCallResponse {
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
                .collect()
        };
        HttpCallResponse {
            headers: pairs(headers),
            body: body.to_vec(),
            trailers: pairs(trailers),
        }
    }

    #[test]
    fn the_cluster_is_the_grpc_services_or_the_name_itself() {
        let service = GrpcService {
            envoy_grpc: Some(super::EnvoyGrpc {
                cluster_name: "outbound|9001||authz.auth.svc.cluster.local".to_owned(),
            }),
        };
        assert_eq!(
            cluster(&call(service.encode_to_vec())),
            "outbound|9001||authz.auth.svc.cluster.local"
        );
        assert_eq!(cluster(&call(b"authz".to_vec())), "authz");
    }

    #[test]
    fn a_call_is_framed_as_grpc_over_http2() {
        let request = http_request("authz", call(Vec::new()));
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(
            header(":path").as_deref(),
            Some("/envoy.service.auth.v3.Authorization/Check")
        );
        assert_eq!(header("content-type").as_deref(), Some("application/grpc"));
        assert_eq!(header("grpc-timeout").as_deref(), Some("200m"));
        assert_eq!(header("x-trace").as_deref(), Some("1"));
        assert_eq!(request.body, b"\0\0\0\0\x05check");
    }

    #[test]
    fn answers_are_the_message_or_the_status() {
        let ok = response(
            &[(":status", "200")],
            b"\0\0\0\0\x02hi",
            &[("grpc-status", "0")],
        );
        assert!(matches!(answer(&ok), CalloutAnswer::Grpc(m) if m == b"hi"));
        let denied = response(&[(":status", "200"), ("grpc-status", "7")], b"", &[]);
        assert!(matches!(answer(&denied), CalloutAnswer::GrpcStatus(7)));
        let missing = response(&[(":status", "404")], b"", &[]);
        assert!(matches!(answer(&missing), CalloutAnswer::GrpcStatus(12)));
        let truncated = response(
            &[(":status", "200")],
            b"\0\0\0\0\x09hi",
            &[("grpc-status", "0")],
        );
        assert!(matches!(answer(&truncated), CalloutAnswer::GrpcStatus(13)));
    }
}
