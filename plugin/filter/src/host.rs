//! The few host calls the filter makes, each wrapped so that a status the host may legitimately
//! return becomes "not available" instead of a panic.
//!
//! The SDK's `hostcalls` return `Result` for the statuses Envoy documents and panic on others;
//! these wrappers only use calls in phases where Envoy answers `Ok`, and discard errors the
//! filter can live without (a missing `clear_route_cache` on Envoy before 1.33, say). Local
//! replies call the host import directly, the one place with `unsafe`.

use std::time::Duration;

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Bytes, MapType};

/// Request header pairs, values as raw bytes (never decoded as UTF-8).
pub(crate) fn request_headers() -> Vec<(String, Bytes)> {
    hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default()
}

/// Which header map an edit applies to.
#[derive(Clone, Copy)]
pub(crate) enum HeaderMap {
    Request,
    Response,
}

impl HeaderMap {
    fn map_type(self) -> MapType {
        match self {
            Self::Request => MapType::HttpRequestHeaders,
            Self::Response => MapType::HttpResponseHeaders,
        }
    }
}

/// Replaces every value of a header (or creates it).
pub(crate) fn set_header(map: HeaderMap, name: &str, value: &[u8]) {
    let _ = hostcalls::set_map_value_bytes(map.map_type(), name, Some(value));
}

/// Appends a value to a header.
pub(crate) fn add_header(map: HeaderMap, name: &str, value: &[u8]) {
    let _ = hostcalls::add_map_value_bytes(map.map_type(), name, value);
}

/// Deletes every value of a header.
pub(crate) fn remove_header(map: HeaderMap, name: &str) {
    let _ = hostcalls::set_map_value_bytes(map.map_type(), name, None);
}

/// How long Envoy waits for a mirror's answer, which nobody reads.
const MIRROR_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends a copy of the request headers to `cluster`, the host in `:authority` suffixed
/// `-shadow` (before any port) as Envoy's own mirror policy does; the answer is ignored. Values
/// that are not UTF-8 are replaced, since the SDK's call takes strings.
pub(crate) fn send_mirror(cluster: &str, headers: &[(String, Bytes)]) {
    let values: Vec<(&str, String)> = headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value);
            if name == ":authority" {
                (name.as_str(), shadow_authority(&value))
            } else {
                (name.as_str(), value.into_owned())
            }
        })
        .collect();
    let pairs = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let _ = hostcalls::dispatch_http_call(cluster, pairs, None, Vec::new(), MIRROR_TIMEOUT);
}

/// `host[:port]` → `host-shadow[:port]`.
fn shadow_authority(authority: &str) -> String {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{host}-shadow:{port}")
        }
        _ => format!("{authority}-shadow"),
    }
}

/// Envoy's `destination.port`: the port of the listener the request arrived on.
pub(crate) fn destination_port() -> Option<u16> {
    let bytes = hostcalls::get_property(vec!["destination", "port"]).ok()??;
    let bytes: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    u16::try_from(u64::from_le_bytes(bytes)).ok()
}

/// Envoy's clock, in Unix seconds.
pub(crate) fn now_secs() -> Option<u64> {
    let now = hostcalls::get_current_time().ok()?;
    now.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// The TLS SNI of the downstream connection; empty for plaintext or when Envoy has none.
pub(crate) fn requested_server_name() -> Bytes {
    hostcalls::get_property(vec!["connection", "requested_server_name"])
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The namespace of the workload this proxy runs for (Istio's node metadata `NAMESPACE`).
pub(crate) fn node_namespace() -> Option<String> {
    let bytes = hostcalls::get_property(vec!["node", "metadata", "NAMESPACE"]).ok()??;
    String::from_utf8(bytes).ok().filter(|ns| !ns.is_empty())
}

/// Stores a value in Envoy's filter state as `wasm.<key>`, readable from access logs with
/// `%FILTER_STATE(wasm.<key>:PLAIN)%`.
pub(crate) fn set_filter_state(key: &str, value: &[u8]) {
    let _ = hostcalls::set_property(vec![key], Some(value));
}

/// Asks Envoy to match the route again with the edited headers. Absent before Envoy 1.33,
/// where header edits clear the route cache by themselves.
pub(crate) fn clear_route_cache() {
    let _ = hostcalls::call_foreign_function("clear_route_cache", None);
}

/// Answers the request locally. `details` goes to Envoy's `%RESPONSE_CODE_DETAILS%`; a gRPC
/// status makes Envoy send it as `grpc-status` (the SDK's own helpers pass no details).
pub(crate) fn send_local_reply(
    status: u16,
    details: &str,
    grpc_status: Option<u8>,
    headers: &[(String, String)],
) {
    let headers = serialize_pairs(headers);
    abi::send_local_response(
        u32::from(status),
        details.as_bytes(),
        &headers,
        grpc_status.map_or(-1, i32::from),
    );
}

/// Header pairs in the proxy-wasm map encoding: count, (key, value) lengths, then each key and
/// value followed by a NUL byte, all integers little-endian u32 (ABI v0.2.1).
fn serialize_pairs(pairs: &[(String, String)]) -> Vec<u8> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut out = Vec::new();
    out.extend_from_slice(&len(pairs.len()));
    for (name, value) in pairs {
        out.extend_from_slice(&len(name.len()));
        out.extend_from_slice(&len(value.len()));
    }
    for (name, value) in pairs {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

/// The one host import the SDK does not expose with all its arguments.
#[expect(
    unsafe_code,
    reason = "calls the proxy-wasm import that carries local-reply details"
)]
mod abi {
    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_send_local_response(
            status_code: u32,
            details_data: *const u8,
            details_size: usize,
            body_data: *const u8,
            body_size: usize,
            headers_data: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
    }

    /// A local reply with no body; `headers` is a serialized pair map (or empty). The host's
    /// status is ignored: Envoy sends the reply after the callback returns, whatever it says now.
    pub(super) fn send_local_response(
        status: u32,
        details: &[u8],
        headers: &[u8],
        grpc_status: i32,
    ) {
        // SAFETY: the pointer/length pairs describe live slices (or are null/0) for the whole
        // call, and the host copies them before returning (proxy-wasm ABI v0.2.1).
        let _status = unsafe {
            proxy_send_local_response(
                status,
                details.as_ptr(),
                details.len(),
                std::ptr::null(),
                0,
                headers.as_ptr(),
                headers.len(),
                grpc_status,
            )
        };
    }
}

/// The plugin configuration bytes; empty when there are none.
pub(crate) fn plugin_configuration() -> Bytes {
    hostcalls::get_buffer(
        proxy_wasm::types::BufferType::PluginConfiguration,
        0,
        usize::MAX,
    )
    .ok()
    .flatten()
    .unwrap_or_default()
}
