//! Properties: `proxy_get_property` over Envoy's attribute tree and `proxy_set_property` into
//! the stream's filter state (reference §1.8 "Properties").
//!
//! Only the attributes a routing filter reads are built in (`request.*`, `response.code`,
//! `response.headers.*`, `destination.port`, `plugin_*`, `xds.node.*`); tests inject any other
//! path as an extra. Values are encoded as Envoy's `serializeValue` does: strings raw, integers as
//! 8 little-endian bytes, maps in the §1.6 pair serialization.

use std::collections::BTreeMap;

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::headers::{serialize_pairs, Access, HeaderMap};
use super::memory::{bytes, enter, finish, finish_bytes, split};
use super::types::{HostResult, Status};
use super::HostState;

/// The value of the `xds.node.id` and `xds.node.cluster` properties.
pub const NODE_NAME: &str = "host-sim";

/// One injected property: its path segments and its encoded value.
pub type PropertyValue = (Vec<String>, Vec<u8>);

/// Facts about the current HTTP stream that are not headers (Envoy's `StreamInfo`).
#[derive(Clone, Debug, Default)]
pub struct StreamInfo {
    /// The listener port the request arrived on (`destination.port`).
    pub destination_port: Option<u16>,
    /// `request.protocol`, e.g. `HTTP/1.1`.
    pub protocol: String,
    /// `request.time`: when the stream started, in Unix nanoseconds.
    pub start_ns: u64,
    /// Extra properties for this stream; they win over built-ins.
    pub extra: Vec<PropertyValue>,
}

/// The VM's property sources.
#[derive(Clone, Debug, Default)]
pub struct Properties {
    /// `plugin_name`.
    pub plugin_name: String,
    /// `plugin_root_id`.
    pub plugin_root_id: String,
    /// `plugin_vm_id`.
    pub plugin_vm_id: String,
    /// Extra properties visible in every context (after the stream's own extras).
    pub extra: Vec<PropertyValue>,
    /// Present while an HTTP stream exists; root contexts have none.
    pub stream: Option<StreamInfo>,
    /// `proxy_set_property` writes for the current stream, keyed by the raw `\0`-joined path
    /// (Envoy stores them as filter state `wasm.<path>`).
    pub filter_state: BTreeMap<String, Vec<u8>>,
}

/// Encodes an integer property as Envoy does (int64, 8 bytes little-endian).
pub fn encode_int(value: i64) -> Vec<u8> {
    value.to_le_bytes().to_vec()
}

/// `proxy_get_property`: looks the path up in the extras, then the built-in attributes, then the
/// stream's filter state (single-segment paths only, as Envoy's top-level lookup). Anything
/// unknown, any attribute with no value yet, and header-derived `request.*` attributes once the
/// request headers are gone (after Continue) are `NotFound`.
pub fn get_property(state: &HostState, path: &[u8]) -> HostResult<Vec<u8>> {
    let props = &state.properties;
    if path.is_empty() {
        return Err(Status::NotFound);
    }
    let segments = path
        .split(|b| *b == 0)
        .map(std::str::from_utf8)
        .collect::<Result<Vec<&str>, _>>()
        .map_err(|_| Status::NotFound)?;
    let stream_extra = props.stream.iter().flat_map(|s| s.extra.iter());
    if let Some((_, value)) = stream_extra
        .chain(props.extra.iter())
        .find(|(p, _)| *p == segments)
    {
        return Ok(value.clone());
    }
    match segments.as_slice() {
        ["plugin_name"] => return Ok(props.plugin_name.clone().into_bytes()),
        ["plugin_root_id"] => return Ok(props.plugin_root_id.clone().into_bytes()),
        ["plugin_vm_id"] => return Ok(props.plugin_vm_id.clone().into_bytes()),
        ["xds", "node", "id" | "cluster"] => return Ok(NODE_NAME.as_bytes().to_vec()),
        _ => {}
    }
    let info = props.stream.as_ref().ok_or(Status::NotFound)?;
    match segments.as_slice() {
        ["destination", "port"] => info
            .destination_port
            .map(|p| encode_int(i64::from(p)))
            .ok_or(Status::NotFound),
        ["request", rest @ ..] => {
            let slot = &state.headers.request;
            let headers = (slot.access != Access::Absent).then_some(&slot.map);
            request_property(info, headers, rest)
        }
        ["response", rest @ ..] => {
            let slot = &state.headers.response;
            let headers = (slot.access != Access::Absent).then_some(&slot.map);
            response_property(headers, rest)
        }
        [key] => props
            .filter_state
            .get(*key)
            .cloned()
            .ok_or(Status::NotFound),
        _ => Err(Status::NotFound),
    }
}

fn request_property(
    info: &StreamInfo,
    headers: Option<&HeaderMap>,
    rest: &[&str],
) -> HostResult<Vec<u8>> {
    match rest {
        ["protocol"] => return Ok(info.protocol.clone().into_bytes()),
        ["time"] => return Ok(encode_int(info.start_ns as i64)),
        _ => {}
    }
    let headers = headers.ok_or(Status::NotFound)?;
    let header = |name: &str| headers.joined(name).ok_or(Status::NotFound);
    match rest {
        ["path"] => header(":path"),
        ["url_path"] => {
            let path = header(":path")?;
            let end = path.iter().position(|b| *b == b'?').unwrap_or(path.len());
            Ok(path[..end].to_vec())
        }
        ["query"] => {
            let path = header(":path")?;
            Ok(path
                .iter()
                .position(|b| *b == b'?')
                .map_or(Vec::new(), |q| path[q + 1..].to_vec()))
        }
        ["host"] => header(":authority"),
        ["scheme"] => header(":scheme"),
        ["method"] => header(":method"),
        ["referer"] => header("referer"),
        ["useragent"] => header("user-agent"),
        ["id"] => header("x-request-id"),
        ["headers"] => Ok(joined_map(headers)),
        ["headers", name] => header(name),
        _ => Err(Status::NotFound),
    }
}

fn response_property(headers: Option<&HeaderMap>, rest: &[&str]) -> HostResult<Vec<u8>> {
    let headers = headers.ok_or(Status::NotFound)?;
    match rest {
        ["code"] => {
            let status = headers.first(":status").ok_or(Status::NotFound)?;
            let code = std::str::from_utf8(status)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or(Status::NotFound)?;
            Ok(encode_int(code))
        }
        ["headers"] => Ok(joined_map(headers)),
        ["headers", name] => headers.joined(name).ok_or(Status::NotFound),
        _ => Err(Status::NotFound),
    }
}

/// A header map as a CEL map: one entry per name, repeated values joined with `,`.
fn joined_map(headers: &HeaderMap) -> Vec<u8> {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, _) in headers.pairs() {
        if !entries.iter().any(|(n, _)| n == name) {
            entries.push((name.clone(), headers.joined(name).unwrap_or_default()));
        }
    }
    serialize_pairs(&entries)
}

/// `proxy_set_property`: stores the value as filter state of the current stream. With no stream
/// (a root context, e.g. in `on_configure`) Envoy returns `NotFound`, which the Rust SDK turns
/// into a panic.
pub fn set_property(props: &mut Properties, path: &[u8], value: &[u8]) -> HostResult<()> {
    if props.stream.is_none() {
        return Err(Status::NotFound);
    }
    let key = String::from_utf8_lossy(path).into_owned();
    props.filter_state.insert(key, value.to_vec());
    Ok(())
}

/// Registers the two property imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_property",
        |mut caller: Caller<'_, HostState>,
         path_ptr: i32,
         path_len: i32,
         ret_ptr: i32,
         ret_size: i32| {
            const NAME: &str = "proxy_get_property";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let path = bytes(mem, path_ptr, path_len, NAME)?;
            let result = get_property(state, path);
            finish_bytes(&mut caller, result, ret_ptr, ret_size, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_property",
        |mut caller: Caller<'_, HostState>,
         path_ptr: i32,
         path_len: i32,
         value_ptr: i32,
         value_len: i32| {
            const NAME: &str = "proxy_set_property";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let path = bytes(mem, path_ptr, path_len, NAME)?;
            let value = bytes(mem, value_ptr, value_len, NAME)?;
            Ok(finish(set_property(&mut state.properties, path, value)))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::headers::parse_pairs;
    use crate::abi::headers::MapSlot;

    fn stream_state() -> HostState {
        let mut state = HostState::default();
        state.properties.plugin_name = "gw".into();
        state.properties.stream = Some(StreamInfo {
            destination_port: Some(8443),
            protocol: "HTTP/1.1".into(),
            start_ns: 7,
            extra: vec![(
                vec!["source".into(), "address".into()],
                b"10.0.0.1:5000".to_vec(),
            )],
        });
        state.headers.request = MapSlot::mutable(HeaderMap::from_pairs(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "example.com"),
            (":path", "/a/b?x=1&y=2"),
            ("x-tag", "1"),
            ("x-tag", "2"),
        ]));
        state
    }

    fn get(state: &HostState, path: &[&str]) -> HostResult<Vec<u8>> {
        get_property(state, path.join("\0").as_bytes())
    }

    #[test]
    fn destination_port_is_eight_bytes_le() {
        let state = stream_state();
        assert_eq!(
            get(&state, &["destination", "port"]),
            Ok(vec![0xFB, 0x20, 0, 0, 0, 0, 0, 0])
        );
    }

    #[test]
    fn request_attributes_come_from_headers() {
        let state = stream_state();
        assert_eq!(
            get(&state, &["request", "path"]),
            Ok(b"/a/b?x=1&y=2".to_vec())
        );
        assert_eq!(get(&state, &["request", "url_path"]), Ok(b"/a/b".to_vec()));
        assert_eq!(get(&state, &["request", "query"]), Ok(b"x=1&y=2".to_vec()));
        assert_eq!(
            get(&state, &["request", "host"]),
            Ok(b"example.com".to_vec())
        );
        assert_eq!(get(&state, &["request", "method"]), Ok(b"GET".to_vec()));
        assert_eq!(get(&state, &["request", "scheme"]), Ok(b"https".to_vec()));
        assert_eq!(
            get(&state, &["request", "protocol"]),
            Ok(b"HTTP/1.1".to_vec())
        );
        assert_eq!(
            get(&state, &["request", "headers", "x-tag"]),
            Ok(b"1,2".to_vec())
        );
        assert_eq!(
            get(&state, &["request", "headers", "nope"]),
            Err(Status::NotFound)
        );
        let all = parse_pairs(&get(&state, &["request", "headers"]).unwrap()).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all[4], (b"x-tag".to_vec(), b"1,2".to_vec()));
    }

    #[test]
    fn header_attributes_vanish_with_the_headers() {
        let mut state = stream_state();
        state.headers.request.access = Access::Absent;
        assert_eq!(get(&state, &["request", "path"]), Err(Status::NotFound));
        assert_eq!(
            get(&state, &["request", "protocol"]),
            Ok(b"HTTP/1.1".to_vec())
        );
    }

    #[test]
    fn plugin_extras_and_root_contexts() {
        let mut state = stream_state();
        assert_eq!(get(&state, &["plugin_name"]), Ok(b"gw".to_vec()));
        assert_eq!(
            get(&state, &["source", "address"]),
            Ok(b"10.0.0.1:5000".to_vec())
        );
        assert_eq!(
            get(&state, &["xds", "node", "id"]),
            Ok(b"host-sim".to_vec())
        );
        state.properties.stream = None;
        assert_eq!(get(&state, &["destination", "port"]), Err(Status::NotFound));
        assert_eq!(get(&state, &["plugin_name"]), Ok(b"gw".to_vec()));
        assert_eq!(get_property(&state, b""), Err(Status::NotFound));
    }

    #[test]
    fn set_property_is_filter_state_readable_by_top_level_name() {
        let mut state = stream_state();
        assert_eq!(
            set_property(&mut state.properties, b"gatewasm.route", b"r1"),
            Ok(())
        );
        assert_eq!(get(&state, &["gatewasm.route"]), Ok(b"r1".to_vec()));
        assert_eq!(set_property(&mut state.properties, b"a\0b", b"v"), Ok(()));
        assert_eq!(get(&state, &["a", "b"]), Err(Status::NotFound));
        state.properties.stream = None;
        assert_eq!(
            set_property(&mut state.properties, b"k", b"v"),
            Err(Status::NotFound)
        );
    }

    #[test]
    fn response_code_is_an_int() {
        let mut state = stream_state();
        state.headers.response = MapSlot::read_only(HeaderMap::from_pairs(&[(":status", "404")]));
        assert_eq!(get(&state, &["response", "code"]), Ok(encode_int(404)));
    }
}
