//! The few host calls the filter makes, each wrapped so that a status the host may legitimately
//! return becomes "not available" instead of a panic.
//!
//! The SDK's `hostcalls` return `Result` for the statuses Envoy documents and panic on others;
//! these wrappers only use calls in phases where Envoy answers `Ok`, and discard errors the
//! filter can live without (a missing `clear_route_cache` on Envoy before 1.33, say).

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

/// Answers the request locally.
pub(crate) fn send_local_reply(status: u16, details: &str) {
    let _ =
        hostcalls::send_http_response(u32::from(status), vec![("x-gatewasm-reply", details)], None);
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
