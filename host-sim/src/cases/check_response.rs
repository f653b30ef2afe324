//! The ext_authz `CheckResponse` a case's `auth.grpc` answer becomes, declared as Envoy's
//! protobuf files declare it (`envoy/service/auth/v3/external_auth.proto` and the messages it
//! uses) and encoded by prost.
//!
//! Only the fields case files set are declared; a decoder that skips unknown fields reads these
//! messages exactly as it reads Envoy's. The filter decodes them with the core's own codec: the
//! two meet only on the wire.

use prost::Message;

use super::CaseGrpcAuth;

/// `envoy.service.auth.v3.CheckResponse`.
#[derive(Clone, PartialEq, Message)]
struct CheckResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<RpcStatus>,
    #[prost(message, optional, tag = "2")]
    denied_response: Option<DeniedHttpResponse>,
    #[prost(message, optional, tag = "3")]
    ok_response: Option<OkHttpResponse>,
}

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
}

/// `envoy.service.auth.v3.DeniedHttpResponse`.
#[derive(Clone, PartialEq, Message)]
struct DeniedHttpResponse {
    #[prost(message, optional, tag = "1")]
    status: Option<HttpStatus>,
    #[prost(message, repeated, tag = "2")]
    headers: Vec<HeaderValueOption>,
    #[prost(string, tag = "3")]
    body: String,
}

/// `envoy.service.auth.v3.OkHttpResponse`.
#[derive(Clone, PartialEq, Message)]
struct OkHttpResponse {
    #[prost(message, repeated, tag = "2")]
    headers: Vec<HeaderValueOption>,
    #[prost(string, repeated, tag = "5")]
    headers_to_remove: Vec<String>,
}

/// `envoy.type.v3.HttpStatus`.
#[derive(Clone, PartialEq, Message)]
struct HttpStatus {
    #[prost(int32, tag = "1")]
    code: i32,
}

/// `envoy.config.core.v3.HeaderValueOption`.
#[derive(Clone, PartialEq, Message)]
struct HeaderValueOption {
    #[prost(message, optional, tag = "1")]
    header: Option<HeaderValue>,
}

/// `envoy.config.core.v3.HeaderValue`.
#[derive(Clone, PartialEq, Message)]
struct HeaderValue {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// The encoded `CheckResponse`: `status {code}`, then `ok_response {headers,
/// headers_to_remove}` for code 0, else `denied_response {status {code}, headers, body}`.
/// `headers` are (lowercase name, value) in order.
pub(super) fn encode(answer: &CaseGrpcAuth, headers: Vec<(String, String)>) -> Vec<u8> {
    let headers = headers
        .into_iter()
        .map(|(key, value)| HeaderValueOption {
            header: Some(HeaderValue { key, value }),
        })
        .collect();
    let status = Some(RpcStatus { code: answer.code });
    let response = if answer.code == 0 {
        CheckResponse {
            status,
            denied_response: None,
            ok_response: Some(OkHttpResponse {
                headers,
                headers_to_remove: answer.remove.clone(),
            }),
        }
    } else {
        CheckResponse {
            status,
            denied_response: Some(DeniedHttpResponse {
                status: answer.status.map(|code| HttpStatus {
                    code: i32::from(code),
                }),
                headers,
                body: answer.body.clone().unwrap_or_default(),
            }),
            ok_response: None,
        }
    };
    response.encode_to_vec()
}
