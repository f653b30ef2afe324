//! The few host calls the filter makes, each wrapped so that a status the host may legitimately
//! return becomes "not available" instead of a panic.
//!
//! The SDK's `hostcalls` return `Result` for the statuses Envoy documents and panic on others;
//! these wrappers only use calls in phases where Envoy answers `Ok`, and discard errors the
//! filter can live without (a missing `clear_route_cache` on Envoy before 1.33, say). Local
//! replies call the host import directly, the one place with `unsafe`.

use proxy_wasm::hostcalls;
use proxy_wasm::types::{Bytes, MapType};

/// Request header pairs, values as raw bytes (never decoded as UTF-8).
pub(crate) fn request_headers() -> Vec<(String, Bytes)> {
    hostcalls::get_map_bytes(MapType::HttpRequestHeaders).unwrap_or_default()
}

/// Replaces every value of a request header (or creates it).
pub(crate) fn set_request_header(name: &str, value: &[u8]) {
    let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, name, Some(value));
}

/// Appends a value to a request header.
pub(crate) fn add_request_header(name: &str, value: &[u8]) {
    let _ = hostcalls::add_map_value_bytes(MapType::HttpRequestHeaders, name, value);
}

/// Deletes every value of a request header.
pub(crate) fn remove_request_header(name: &str) {
    let _ = hostcalls::set_map_value_bytes(MapType::HttpRequestHeaders, name, None);
}

/// Envoy's `destination.port`: the port of the listener the request arrived on.
pub(crate) fn destination_port() -> Option<u16> {
    let bytes = hostcalls::get_property(vec!["destination", "port"]).ok()??;
    let bytes: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    u16::try_from(u64::from_le_bytes(bytes)).ok()
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
pub(crate) fn send_local_reply(status: u16, details: &str, grpc_status: Option<u8>) {
    abi::send_local_response(
        u32::from(status),
        details.as_bytes(),
        grpc_status.map_or(-1, i32::from),
    );
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

    /// A local reply with no body and no extra headers; the host's status is ignored because
    /// Envoy sends the reply after the callback returns whatever it says now.
    pub(super) fn send_local_response(status: u32, details: &[u8], grpc_status: i32) {
        // SAFETY: the pointer/length pairs describe live slices (or are null/0) for the whole
        // call, and the host copies them before returning (proxy-wasm ABI v0.2.1).
        let _status = unsafe {
            proxy_send_local_response(
                status,
                details.as_ptr(),
                details.len(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
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
