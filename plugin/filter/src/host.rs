//! The few host calls the filter makes, each wrapped so that a status the host may legitimately
//! return becomes "not available" instead of a panic.
//!
//! The SDK's `hostcalls` return `Result` for the statuses Envoy documents and panic on others;
//! these wrappers only use calls in phases where Envoy answers `Ok`, and discard errors the
//! filter can live without (a missing `clear_route_cache` on Envoy before 1.33, say). Local
//! replies and the request header read call the host imports directly, the one place with
//! `unsafe`.

use std::time::Duration;

use gatewasm_core::LocalReply;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, Bytes, MapType};

/// The request headers, read with one host call into one buffer in the host's pair encoding
/// and split without copying: a request's headers cost one allocation, not two per header.
pub(crate) struct RequestHeaders(Vec<u8>);

impl RequestHeaders {
    pub(crate) fn read() -> Self {
        Self(abi::header_map_pairs(MapType::HttpRequestHeaders as u32))
    }

    /// The (name, value) pairs, values as raw bytes (never decoded as UTF-8). A name that is
    /// not UTF-8 (Envoy's codecs only pass tokens) or a malformed buffer yields fewer pairs,
    /// never a trap.
    pub(crate) fn pairs(&self) -> Vec<(&str, &[u8])> {
        let bytes = self.0.as_slice();
        let word = |at: usize| -> Option<usize> {
            let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
            usize::try_from(u32::from_le_bytes(raw)).ok()
        };
        let count = word(0).unwrap_or(0);
        // Sizes follow the count; the data (each name and value NUL-terminated) follows them.
        let data_at = count.checked_mul(8).and_then(|sizes| sizes.checked_add(4));
        let Some(mut data) = data_at.and_then(|at| bytes.get(at..)) else {
            return Vec::new();
        };
        let mut pairs = Vec::with_capacity(count.min(bytes.len() / 8));
        for i in 0..count {
            let sizes = i
                .checked_mul(8)
                .and_then(|at| Some((word(at.checked_add(4)?)?, word(at.checked_add(8)?)?)));
            let Some((name, value, rest)) = sizes.and_then(|(name_len, value_len)| {
                let (name, rest) = terminated(data, name_len)?;
                let (value, rest) = terminated(rest, value_len)?;
                Some((name, value, rest))
            }) else {
                break;
            };
            data = rest;
            if let Ok(name) = std::str::from_utf8(name) {
                pairs.push((name, value));
            }
        }
        pairs
    }
}

/// The first `len` bytes, and what follows their NUL terminator.
fn terminated(bytes: &[u8], len: usize) -> Option<(&[u8], &[u8])> {
    let field = bytes.get(..len)?;
    let rest = bytes.get(len.checked_add(1)?..)?;
    Some((field, rest))
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
/// `-shadow` (before any port) as Envoy's own mirror policy does; the answer is ignored.
pub(crate) fn send_mirror(cluster: &str, headers: &[(&str, &[u8])]) {
    let shadow = headers
        .iter()
        .find(|(name, _)| *name == ":authority")
        .map(|(_, value)| shadow_authority(&String::from_utf8_lossy(value)));
    let headers: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|&(name, value)| match (name, &shadow) {
            (":authority", Some(shadow)) => (name, shadow.as_bytes()),
            _ => (name, value),
        })
        .collect();
    let _ = http_call(cluster, &headers, &[], MIRROR_TIMEOUT);
}

/// Sends an HTTP call to `cluster`; the token, or `None` when Envoy refused it (unknown
/// cluster). Values that are not UTF-8 are replaced, since the SDK's call takes strings.
pub(crate) fn http_call(
    cluster: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
    timeout: Duration,
) -> Option<u32> {
    let values: Vec<(&str, std::borrow::Cow<'_, str>)> = headers
        .iter()
        .map(|&(name, value)| (name, String::from_utf8_lossy(value)))
        .collect();
    let pairs = values.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    let body = (!body.is_empty()).then_some(body);
    hostcalls::dispatch_http_call(cluster, pairs, body, Vec::new(), timeout).ok()
}

/// The first `size` bytes of the request body Envoy has buffered, during `on_request_body`.
pub(crate) fn request_body(size: usize) -> Bytes {
    hostcalls::get_buffer(BufferType::HttpRequestBody, 0, size)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The answer to an HTTP call, during `on_http_call_response`: headers (empty when the call
/// failed, which Envoy signals with no headers) and body.
pub(crate) fn http_call_response(
    num_headers: usize,
    body_size: usize,
) -> (Vec<(String, Bytes)>, Bytes) {
    if num_headers == 0 {
        return (Vec::new(), Bytes::new());
    }
    let headers = hostcalls::get_map_bytes(MapType::HttpCallResponseHeaders).unwrap_or_default();
    let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
        .ok()
        .flatten()
        .unwrap_or_default();
    (headers, body)
}

/// Makes a unary gRPC call; the token, or `None` when Envoy refused it.
pub(crate) fn grpc_call(
    service: &str,
    service_name: &str,
    method: &str,
    message: &[u8],
    timeout: Duration,
) -> Option<u32> {
    hostcalls::dispatch_grpc_call(
        service,
        service_name,
        method,
        Vec::new(),
        Some(message),
        timeout,
    )
    .ok()
}

/// The response message of a gRPC call, during `on_grpc_call_response`.
pub(crate) fn grpc_call_response(size: usize) -> Bytes {
    hostcalls::get_buffer(BufferType::GrpcReceiveBuffer, 0, size)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Lets a paused request go on.
pub(crate) fn resume_request() {
    let _ = hostcalls::resume_http_request();
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
    let bytes = abi::property(b"destination\0port")?;
    let bytes: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    u16::try_from(u64::from_le_bytes(bytes)).ok()
}

/// Envoy's `source.address`: the client's address (`ip:port`, `[v6]:port`), without the port.
pub(crate) fn source_address() -> Option<std::net::IpAddr> {
    let bytes = abi::property(b"source\0address")?;
    let text = std::str::from_utf8(&bytes).ok()?;
    if let Ok(addr) = text.parse() {
        return Some(addr);
    }
    let host = match text.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.is_empty() => host,
        _ => text,
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
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
    abi::property(b"connection\0requested_server_name").unwrap_or_default()
}

/// The namespace of the workload this proxy runs for (Istio's node metadata `NAMESPACE`).
pub(crate) fn node_namespace() -> Option<String> {
    let bytes = abi::property(b"node\0metadata\0NAMESPACE")?;
    String::from_utf8(bytes).ok().filter(|ns| !ns.is_empty())
}

/// Stores a value in Envoy's filter state as `wasm.<key>`, readable from access logs with
/// `%FILTER_STATE(wasm.<key>:PLAIN)%`.
pub(crate) fn set_filter_state(key: &str, value: &[u8]) {
    abi::set_property(key.as_bytes(), value);
}

/// Asks Envoy to match the route again with the edited headers. Absent before Envoy 1.33,
/// where header edits clear the route cache by themselves.
pub(crate) fn clear_route_cache() {
    let _ = hostcalls::call_foreign_function("clear_route_cache", None);
}

/// Answers the request locally. The details go to Envoy's `%RESPONSE_CODE_DETAILS%`; a gRPC
/// status makes Envoy send it as `grpc-status` (the SDK's own helpers pass no details).
pub(crate) fn send_local_reply(reply: &LocalReply) {
    let headers = serialize_pairs(&reply.headers);
    abi::send_local_response(
        u32::from(reply.status),
        reply.details.as_bytes(),
        &reply.body,
        &headers,
        reply.grpc_status.map_or(-1, i32::from),
    );
}

/// The metric types the filter defines (proxy-wasm's numbering).
#[derive(Clone, Copy, Debug)]
pub(crate) enum MetricKind {
    Counter = 0,
    Gauge = 1,
}

/// Defines a metric (or finds the one of that name); `None` when the host refuses.
pub(crate) fn define_metric(kind: MetricKind, name: &str) -> Option<u32> {
    abi::define_metric(kind as u32, name.as_bytes())
}

/// Adds `delta` to a counter or gauge; a refusal is ignored.
pub(crate) fn increment_metric(id: u32, delta: i64) {
    abi::increment_metric(id, delta);
}

/// Sets a gauge; a refusal is ignored.
pub(crate) fn record_metric(id: u32, value: u64) {
    abi::record_metric(id, value);
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

/// The host imports the SDK does not expose the way the filter needs them: local replies with
/// details, a header map as the host's raw buffer, properties by a prebuilt path (the SDK
/// builds the path anew on every call), and metrics (the SDK panics on statuses Envoy does not
/// document).
#[expect(
    unsafe_code,
    reason = "calls proxy-wasm imports directly and takes ownership of host-made buffers"
)]
mod abi {
    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_get_property(
            path_data: *const u8,
            path_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
        ) -> u32;
        fn proxy_set_property(
            path_data: *const u8,
            path_size: usize,
            value_data: *const u8,
            value_size: usize,
        ) -> u32;
        fn proxy_get_header_map_pairs(
            map_type: u32,
            return_map_data: *mut *mut u8,
            return_map_size: *mut usize,
        ) -> u32;
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
        fn proxy_define_metric(
            metric_type: u32,
            name_data: *const u8,
            name_size: usize,
            return_id: *mut u32,
        ) -> u32;
        fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
        fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
    }

    /// Defines a metric; `None` when the host refuses.
    pub(super) fn define_metric(kind: u32, name: &[u8]) -> Option<u32> {
        let mut id: u32 = 0;
        // SAFETY: the name slice is live for the call and the out-pointer points at a live
        // local.
        let status = unsafe { proxy_define_metric(kind, name.as_ptr(), name.len(), &mut id) };
        (status == 0).then_some(id)
    }

    /// Adds to a metric; a refusal is ignored.
    pub(super) fn increment_metric(id: u32, delta: i64) {
        // SAFETY: no pointers cross the call.
        let _status = unsafe { proxy_increment_metric(id, delta) };
    }

    /// Sets a gauge; a refusal is ignored.
    pub(super) fn record_metric(id: u32, value: u64) {
        // SAFETY: no pointers cross the call.
        let _status = unsafe { proxy_record_metric(id, value) };
    }

    /// A header map in the pair encoding; empty when the host has none or refuses.
    pub(super) fn header_map_pairs(map_type: u32) -> Vec<u8> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: both out-pointers point at live locals for the whole call.
        let status = unsafe { proxy_get_header_map_pairs(map_type, &mut data, &mut size) };
        take_buffer(status, data, size).unwrap_or_default()
    }

    /// A property by its path (segments separated by NUL); `None` when the host has no value.
    pub(super) fn property(path: &[u8]) -> Option<Vec<u8>> {
        let mut data: *mut u8 = std::ptr::null_mut();
        let mut size: usize = 0;
        // SAFETY: the path slice is live for the call and both out-pointers point at live
        // locals.
        let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) };
        take_buffer(status, data, size)
    }

    /// Sets a property (the filter state under `wasm.`); a refusal is ignored.
    pub(super) fn set_property(path: &[u8], value: &[u8]) {
        // SAFETY: both slices are live for the call and the host copies them.
        let _status =
            unsafe { proxy_set_property(path.as_ptr(), path.len(), value.as_ptr(), value.len()) };
    }

    /// The buffer a successful host call returned, owned by us from here on.
    fn take_buffer(status: u32, data: *mut u8, size: usize) -> Option<Vec<u8>> {
        if status != 0 || data.is_null() {
            return None;
        }
        if size == 0 {
            return Some(Vec::new());
        }
        // SAFETY: on success the host filled `size` bytes it allocated through the module's
        // `proxy_on_memory_allocate` export, which the SDK implements as a boxed byte slice of
        // exactly that length handed to the host; ownership passes back to us here, once.
        Some(unsafe { Vec::from_raw_parts(data, size, size) })
    }

    /// A local reply; `headers` is a serialized pair map (or empty). The host's status is
    /// ignored: Envoy sends the reply after the callback returns, whatever it says now.
    pub(super) fn send_local_response(
        status: u32,
        details: &[u8],
        body: &[u8],
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
                body.as_ptr(),
                body.len(),
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
