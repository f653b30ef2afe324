//! Header maps: Envoy's ordered, repeatable header lists, the pair serialization of reference §1.6,
//! and the seven `proxy_*_header_map_*` imports over them (reference §1.5–1.7, §3.5).
//!
//! The engine (`crate::envoy`) decides which maps exist and whether the current callback may read
//! or change them; this file only applies those rules. Route-cache bookkeeping is limited to one
//! flag, `request_edited`, that `lifecycle.rs` clears on `clear_route_cache`.

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter, finish, finish_bytes, finish_u32, split};
use super::types::{HostResult, MapType, Status};
use super::HostState;

/// cpp-host ignores a serialized map with more pairs than this (`PROXY_WASM_HOST_PAIRS_MAX_COUNT`).
pub const MAX_PAIRS: usize = 1024;
/// cpp-host ignores a serialized map larger than this (`PROXY_WASM_HOST_PAIRS_MAX_BYTES`).
pub const MAX_PAIRS_BYTES: usize = 1024 * 1024;

// === impl HeaderMap ===

/// An Envoy header map: ordered `(lowercase name, value bytes)` pairs, repeats allowed.
///
/// Pseudo-headers (`:path`, …) stay in front, as in Envoy's `HeaderList`: a new pseudo-header
/// is inserted after the last one, any other header is appended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMap {
    // Names are lowercased on the way in; values are raw bytes (never UTF-8 checked).
    pairs: Vec<(String, Vec<u8>)>,
}

impl HeaderMap {
    /// Builds a map in the given order, lowercasing the names.
    pub fn from_pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> Self {
        let mut map = Self::default();
        for (name, value) in pairs {
            map.pairs
                .push((lowercase(name.as_ref()), value.as_ref().to_vec()));
        }
        map
    }

    /// The pairs in order.
    pub fn pairs(&self) -> &[(String, Vec<u8>)] {
        &self.pairs
    }

    /// Consumes the map into its pairs.
    pub fn into_pairs(self) -> Vec<(String, Vec<u8>)> {
        self.pairs
    }

    /// Number of entries (a repeated name counts once per value).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The first value of `name`, as `proxy_get_header_map_value` returns it.
    pub fn first(&self, name: &str) -> Option<&[u8]> {
        let name = name.to_ascii_lowercase();
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// All values of `name` joined with `,`, as Envoy's router and `request.headers` see them.
    pub fn joined(&self, name: &str) -> Option<Vec<u8>> {
        let name = name.to_ascii_lowercase();
        let mut out: Option<Vec<u8>> = None;
        for (_, value) in self.pairs.iter().filter(|(n, _)| *n == name) {
            match out.as_mut() {
                Some(joined) => {
                    joined.push(b',');
                    joined.extend_from_slice(value);
                }
                None => out = Some(value.clone()),
            }
        }
        out
    }

    /// Appends a value (Envoy `addCopy`), keeping pseudo-headers in front.
    pub fn add(&mut self, name: &[u8], value: &[u8]) {
        let name = lowercase(name);
        if name.starts_with(':') {
            let at = self
                .pairs
                .iter()
                .take_while(|(n, _)| n.starts_with(':'))
                .count();
            self.pairs.insert(at, (name, value.to_vec()));
        } else {
            self.pairs.push((name, value.to_vec()));
        }
    }

    /// Removes every value of `name`, then adds one (Envoy `setCopy`).
    pub fn replace(&mut self, name: &[u8], value: &[u8]) {
        self.remove(name);
        self.add(name, value);
    }

    /// Removes every value of `name` (Envoy `remove`).
    pub fn remove(&mut self, name: &[u8]) {
        let name = lowercase(name);
        self.pairs.retain(|(n, _)| *n != name);
    }

    /// Envoy's `byteSize()`: the sum of name and value lengths.
    pub fn byte_size(&self) -> usize {
        self.pairs.iter().map(|(n, v)| n.len() + v.len()).sum()
    }

    /// The §1.6 serialization of the whole map.
    pub fn serialize(&self) -> Vec<u8> {
        serialize_pairs(&self.pairs)
    }
}

fn lowercase(name: &[u8]) -> String {
    // Header names are ASCII in practice; any other byte is kept as U+FFFD (documented loss).
    String::from_utf8_lossy(&name.to_ascii_lowercase()).into_owned()
}

// === serialization (reference §1.6) ===

/// Serializes pairs: u32 count, then (name length, value length) per pair, then each name and
/// value followed by a NUL. All integers little-endian; lengths exclude the NUL.
pub fn serialize_pairs<N: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(N, V)]) -> Vec<u8> {
    let data: usize = pairs
        .iter()
        .map(|(n, v)| n.as_ref().len() + v.as_ref().len() + 2)
        .sum();
    let mut out = Vec::with_capacity(4 + pairs.len() * 8 + data);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (name, value) in pairs {
        out.extend_from_slice(&(name.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(&(value.as_ref().len() as u32).to_le_bytes());
    }
    for (name, value) in pairs {
        out.extend_from_slice(name.as_ref());
        out.push(0);
        out.extend_from_slice(value.as_ref());
        out.push(0);
    }
    out
}

/// Parses the §1.6 serialization. `None` when the bytes are malformed or over cpp-host's limits
/// (1024 pairs, 1 MiB); an empty input is an empty map. Callers treat `None` as an empty map,
/// which is what cpp-host's `PairsUtil::toPairs` does.
pub fn parse_pairs(data: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if data.is_empty() {
        return Some(Vec::new());
    }
    if data.len() > MAX_PAIRS_BYTES {
        return None;
    }
    let word = |at: usize| -> Option<usize> {
        let raw = data.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as usize)
    };
    let count = word(0)?;
    if count > MAX_PAIRS {
        return None;
    }
    let mut at = 4 + count * 8;
    let mut pairs = Vec::with_capacity(count);
    for index in 0..count {
        let name_len = word(4 + index * 8)?;
        let value_len = word(8 + index * 8)?;
        let name = data.get(at..at.checked_add(name_len)?)?;
        at += name_len + 1;
        let value = data.get(at..at.checked_add(value_len)?)?;
        at += value_len + 1;
        if at > data.len() {
            return None;
        }
        pairs.push((name.to_vec(), value.to_vec()));
    }
    Some(pairs)
}

/// [`parse_pairs`] with malformed input read as an empty map, names lowercased (how Envoy builds
/// local-reply, callout and `set_header_map_pairs` headers).
pub fn parse_header_list(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    parse_pairs(data)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (lowercase(&name), value))
        .collect()
}

// === state ===

/// What the running callback may do with one map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// Envoy holds no pointer to this map now (before it exists, or after Continue).
    #[default]
    Absent,
    /// Readable only: the access-log copies during `on_log`, or callout responses.
    ReadOnly,
    /// Readable and writable.
    Mutable,
}

/// One header map and the current callback's access to it.
#[derive(Clone, Debug, Default)]
pub struct MapSlot {
    /// The entries.
    pub map: HeaderMap,
    /// Whether the running callback may see or change them.
    pub access: Access,
}

impl MapSlot {
    /// A map the callback may read and change.
    pub fn mutable(map: HeaderMap) -> Self {
        Self {
            map,
            access: Access::Mutable,
        }
    }

    /// A map the callback may only read.
    pub fn read_only(map: HeaderMap) -> Self {
        Self {
            map,
            access: Access::ReadOnly,
        }
    }
}

/// Every header map one VM can address, one slot per `MapType`.
#[derive(Clone, Debug, Default)]
pub struct HeaderMaps {
    /// `HTTP_REQUEST_HEADERS`.
    pub request: MapSlot,
    /// `HTTP_REQUEST_TRAILERS`.
    pub request_trailers: MapSlot,
    /// `HTTP_RESPONSE_HEADERS`.
    pub response: MapSlot,
    /// `HTTP_RESPONSE_TRAILERS`.
    pub response_trailers: MapSlot,
    /// `GRPC_RECEIVE_INITIAL_METADATA`.
    pub grpc_initial_metadata: MapSlot,
    /// `GRPC_RECEIVE_TRAILING_METADATA`.
    pub grpc_trailing_metadata: MapSlot,
    /// `HTTP_CALL_RESPONSE_HEADERS`.
    pub http_call_response_headers: MapSlot,
    /// `HTTP_CALL_RESPONSE_TRAILERS`.
    pub http_call_response_trailers: MapSlot,
    /// True during `on_log`: a missing map reads as `NotFound` instead of `BadArgument`.
    pub log_phase: bool,
    /// Request headers changed since the last `clear_route_cache` (the route-cache model).
    pub request_edited: bool,
}

impl HeaderMaps {
    fn slot(&self, map: MapType) -> &MapSlot {
        match map {
            MapType::HttpRequestHeaders => &self.request,
            MapType::HttpRequestTrailers => &self.request_trailers,
            MapType::HttpResponseHeaders => &self.response,
            MapType::HttpResponseTrailers => &self.response_trailers,
            MapType::GrpcReceiveInitialMetadata => &self.grpc_initial_metadata,
            MapType::GrpcReceiveTrailingMetadata => &self.grpc_trailing_metadata,
            MapType::HttpCallResponseHeaders => &self.http_call_response_headers,
            MapType::HttpCallResponseTrailers => &self.http_call_response_trailers,
        }
    }

    fn slot_mut(&mut self, map: MapType) -> &mut MapSlot {
        match map {
            MapType::HttpRequestHeaders => &mut self.request,
            MapType::HttpRequestTrailers => &mut self.request_trailers,
            MapType::HttpResponseHeaders => &mut self.response,
            MapType::HttpResponseTrailers => &mut self.response_trailers,
            MapType::GrpcReceiveInitialMetadata => &mut self.grpc_initial_metadata,
            MapType::GrpcReceiveTrailingMetadata => &mut self.grpc_trailing_metadata,
            MapType::HttpCallResponseHeaders => &mut self.http_call_response_headers,
            MapType::HttpCallResponseTrailers => &mut self.http_call_response_trailers,
        }
    }

    /// The map if the callback may read it.
    fn readable(&self, map: MapType) -> Option<&HeaderMap> {
        let slot = self.slot(map);
        (slot.access != Access::Absent).then_some(&slot.map)
    }

    /// The map if the callback may change it (Envoy `getMap`, which has no access-log copies).
    /// Marks request headers as edited for the route-cache model.
    fn writable(&mut self, map: MapType) -> HostResult<&mut HeaderMap> {
        if self.slot(map).access != Access::Mutable {
            return Err(Status::BadArgument);
        }
        if map == MapType::HttpRequestHeaders {
            self.request_edited = true;
        }
        Ok(&mut self.slot_mut(map).map)
    }
}

// === plain functions (the semantics) ===

/// `proxy_get_header_map_value`: the *first* value of a repeated header (Envoy has a TODO about
/// this). A map Envoy holds no pointer to is `BadArgument` (so after Continue the SDK panics),
/// except during `on_log` where it is `NotFound`; a missing header is `NotFound`.
pub fn get_header_map_value(maps: &HeaderMaps, map: MapType, key: &[u8]) -> HostResult<Vec<u8>> {
    let Some(headers) = maps.readable(map) else {
        return Err(if maps.log_phase {
            Status::NotFound
        } else {
            Status::BadArgument
        });
    };
    headers
        .first(&lowercase(key))
        .map(<[u8]>::to_vec)
        .ok_or(Status::NotFound)
}

/// `proxy_get_header_map_pairs`: the whole map serialized; a map that is gone (e.g. request
/// headers after Continue) is an empty map with `Ok`, and an empty map is returned as (0, 0).
pub fn get_header_map_pairs(maps: &HeaderMaps, map: MapType) -> HostResult<Vec<u8>> {
    match maps.readable(map) {
        Some(headers) if !headers.is_empty() => Ok(headers.serialize()),
        _ => Ok(Vec::new()),
    }
}

/// `proxy_get_header_map_size`: Envoy returns the map's `byteSize()` (names plus values), not the
/// number of entries; a missing map is `BadArgument`.
pub fn get_header_map_size(maps: &HeaderMaps, map: MapType) -> HostResult<u32> {
    let headers = maps.readable(map).ok_or(Status::BadArgument)?;
    Ok(headers.byte_size() as u32)
}

/// `proxy_set_header_map_pairs`: removes every entry, then adds the given pairs in order (names
/// lowercased). Malformed or oversized input is an empty list, as cpp-host parses it.
pub fn set_header_map_pairs(maps: &mut HeaderMaps, map: MapType, data: &[u8]) -> HostResult<()> {
    let headers = maps.writable(map)?;
    let pairs = parse_pairs(data).unwrap_or_default();
    *headers = HeaderMap::default();
    for (name, value) in &pairs {
        headers.add(name, value);
    }
    Ok(())
}

/// `proxy_add_header_map_value`: appends (`addCopy`); `BadArgument` if the map is not writable.
pub fn add_header_map_value(
    maps: &mut HeaderMaps,
    map: MapType,
    key: &[u8],
    value: &[u8],
) -> HostResult<()> {
    maps.writable(map)?.add(key, value);
    Ok(())
}

/// `proxy_replace_header_map_value`: removes every value then adds one (`setCopy`).
pub fn replace_header_map_value(
    maps: &mut HeaderMaps,
    map: MapType,
    key: &[u8],
    value: &[u8],
) -> HostResult<()> {
    maps.writable(map)?.replace(key, value);
    Ok(())
}

/// `proxy_remove_header_map_value`: removes every value; removing an absent header is `Ok`.
pub fn remove_header_map_value(maps: &mut HeaderMaps, map: MapType, key: &[u8]) -> HostResult<()> {
    maps.writable(map)?.remove(key);
    Ok(())
}

// === shims ===

/// Registers the seven header-map imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_header_map_pairs",
        |mut caller: Caller<'_, HostState>, map: i32, ret_ptr: i32, ret_size: i32| {
            const NAME: &str = "proxy_get_header_map_pairs";
            enter(&mut caller, NAME)?;
            let state = caller.data();
            let result =
                MapType::from_raw(map).and_then(|m| get_header_map_pairs(&state.headers, m));
            finish_bytes(&mut caller, result, ret_ptr, ret_size, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_header_map_pairs",
        |mut caller: Caller<'_, HostState>, map: i32, ptr: i32, len: i32| {
            const NAME: &str = "proxy_set_header_map_pairs";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let data = bytes(mem, ptr, len, NAME)?;
            let result = MapType::from_raw(map)
                .and_then(|m| set_header_map_pairs(&mut state.headers, m, data));
            Ok(finish(result))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_size",
        |mut caller: Caller<'_, HostState>, map: i32, ret_size: i32| {
            const NAME: &str = "proxy_get_header_map_size";
            enter(&mut caller, NAME)?;
            let state = caller.data();
            let result =
                MapType::from_raw(map).and_then(|m| get_header_map_size(&state.headers, m));
            finish_u32(&mut caller, result, ret_size, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_header_map_value",
        |mut caller: Caller<'_, HostState>,
         map: i32,
         key_ptr: i32,
         key_len: i32,
         ret_ptr: i32,
         ret_size: i32| {
            const NAME: &str = "proxy_get_header_map_value";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let key = bytes(mem, key_ptr, key_len, NAME)?;
            let result =
                MapType::from_raw(map).and_then(|m| get_header_map_value(&state.headers, m, key));
            finish_bytes(&mut caller, result, ret_ptr, ret_size, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_add_header_map_value",
        |mut caller: Caller<'_, HostState>,
         map: i32,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32| {
            const NAME: &str = "proxy_add_header_map_value";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let key = bytes(mem, key_ptr, key_len, NAME)?;
            let value = bytes(mem, value_ptr, value_len, NAME)?;
            let result = MapType::from_raw(map)
                .and_then(|m| add_header_map_value(&mut state.headers, m, key, value));
            Ok(finish(result))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_replace_header_map_value",
        |mut caller: Caller<'_, HostState>,
         map: i32,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32| {
            const NAME: &str = "proxy_replace_header_map_value";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let key = bytes(mem, key_ptr, key_len, NAME)?;
            let value = bytes(mem, value_ptr, value_len, NAME)?;
            let result = MapType::from_raw(map)
                .and_then(|m| replace_header_map_value(&mut state.headers, m, key, value));
            Ok(finish(result))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_remove_header_map_value",
        |mut caller: Caller<'_, HostState>, map: i32, key_ptr: i32, key_len: i32| {
            const NAME: &str = "proxy_remove_header_map_value";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let key = bytes(mem, key_ptr, key_len, NAME)?;
            let result = MapType::from_raw(map)
                .and_then(|m| remove_header_map_value(&mut state.headers, m, key));
            Ok(finish(result))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> HeaderMaps {
        HeaderMaps {
            request: MapSlot::mutable(HeaderMap::from_pairs(pairs)),
            ..HeaderMaps::default()
        }
    }

    const REQ: MapType = MapType::HttpRequestHeaders;

    #[test]
    fn serialization_matches_the_spec_example() {
        // Reference §1.6 example {"a":"1","b":"22"}, with the real ASCII digits.
        let bytes = serialize_pairs(&[("a", "1"), ("b", "22")]);
        #[rustfmt::skip]
        let expected = [
            2, 0, 0, 0,
            1, 0, 0, 0, 1, 0, 0, 0,
            1, 0, 0, 0, 2, 0, 0, 0,
            b'a', 0, b'1', 0, b'b', 0, b'2', b'2', 0,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn serialization_round_trips_repeats_empty_values_and_binary() {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b"x".to_vec(), b"1".to_vec()),
            (b"x".to_vec(), Vec::new()),
            (b"bin".to_vec(), vec![0, 255, 10]),
        ];
        assert_eq!(parse_pairs(&serialize_pairs(&pairs)), Some(pairs));
        assert_eq!(
            parse_pairs(&serialize_pairs::<&str, &str>(&[])),
            Some(Vec::new())
        );
        assert_eq!(parse_pairs(&[]), Some(Vec::new()));
    }

    #[test]
    fn malformed_pairs_are_rejected() {
        let good = serialize_pairs(&[("key", "value")]);
        assert_eq!(
            parse_pairs(&good[..good.len() - 1]),
            None,
            "missing final NUL"
        );
        assert_eq!(parse_pairs(&good[..3]), None, "short count");
        assert_eq!(parse_pairs(&[5, 0, 0, 0]), None, "count without sizes");
        assert_eq!(parse_pairs(&[0x01, 0x04, 0, 0]), None, "over 1024 pairs");
        assert!(parse_header_list(&good[..5]).is_empty());
    }

    #[test]
    fn get_value_returns_the_first_of_repeats() {
        let maps = request(&[(":path", "/"), ("x-a", "1"), ("x-a", "2")]);
        assert_eq!(get_header_map_value(&maps, REQ, b"X-A"), Ok(b"1".to_vec()));
        assert_eq!(
            get_header_map_value(&maps, REQ, b"x-b"),
            Err(Status::NotFound)
        );
    }

    #[test]
    fn empty_values_and_maps_are_empty_results() {
        let maps = request(&[("x-empty", "")]);
        assert_eq!(get_header_map_value(&maps, REQ, b"x-empty"), Ok(Vec::new()));
        let none = request(&[]);
        assert_eq!(get_header_map_pairs(&none, REQ), Ok(Vec::new()));
    }

    #[test]
    fn add_appends_and_keeps_pseudo_headers_first() {
        let mut maps = request(&[(":method", "GET"), ("host", "a")]);
        add_header_map_value(&mut maps, REQ, b"X-New", b"1").unwrap();
        add_header_map_value(&mut maps, REQ, b":path", b"/p").unwrap();
        add_header_map_value(&mut maps, REQ, b"x-new", b"2").unwrap();
        let names: Vec<&str> = maps
            .request
            .map
            .pairs()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, [":method", ":path", "host", "x-new", "x-new"]);
        assert!(maps.request_edited);
    }

    #[test]
    fn replace_removes_all_then_adds_one_and_remove_removes_all() {
        let mut maps = request(&[("x", "1"), ("y", "0"), ("x", "2")]);
        replace_header_map_value(&mut maps, REQ, b"X", b"3").unwrap();
        assert_eq!(
            maps.request.map,
            HeaderMap::from_pairs(&[("y", "0"), ("x", "3")])
        );
        remove_header_map_value(&mut maps, REQ, b"x").unwrap();
        remove_header_map_value(&mut maps, REQ, b"absent").unwrap();
        assert_eq!(maps.request.map, HeaderMap::from_pairs(&[("y", "0")]));
    }

    #[test]
    fn set_pairs_replaces_the_whole_map() {
        let mut maps = request(&[("old", "1")]);
        let data = serialize_pairs(&[(":path", "/"), ("New", "2")]);
        set_header_map_pairs(&mut maps, REQ, &data).unwrap();
        assert_eq!(
            maps.request.map,
            HeaderMap::from_pairs(&[(":path", "/"), ("new", "2")])
        );
    }

    #[test]
    fn gone_maps_follow_envoy_after_continue() {
        let mut maps = request(&[("x", "1")]);
        maps.request.access = Access::Absent;
        assert_eq!(
            get_header_map_value(&maps, REQ, b"x"),
            Err(Status::BadArgument)
        );
        assert_eq!(get_header_map_pairs(&maps, REQ), Ok(Vec::new()));
        assert_eq!(get_header_map_size(&maps, REQ), Err(Status::BadArgument));
        assert_eq!(
            add_header_map_value(&mut maps, REQ, b"x", b"2"),
            Err(Status::BadArgument)
        );
        assert_eq!(
            remove_header_map_value(&mut maps, REQ, b"x"),
            Err(Status::BadArgument)
        );
        assert!(!maps.request_edited);
    }

    #[test]
    fn log_phase_reads_copies_and_rejects_writes() {
        let mut maps = request(&[("x", "1")]);
        maps.request.access = Access::ReadOnly;
        maps.log_phase = true;
        assert_eq!(get_header_map_value(&maps, REQ, b"x"), Ok(b"1".to_vec()));
        assert_eq!(
            get_header_map_value(&maps, MapType::HttpResponseTrailers, b"x"),
            Err(Status::NotFound)
        );
        assert_eq!(
            replace_header_map_value(&mut maps, REQ, b"x", b"2"),
            Err(Status::BadArgument)
        );
    }

    #[test]
    fn size_is_envoy_byte_size() {
        let maps = request(&[("ab", "123"), ("c", "")]);
        assert_eq!(get_header_map_size(&maps, REQ), Ok(6));
    }

    #[test]
    fn joined_uses_commas() {
        let map = HeaderMap::from_pairs(&[("a", "1"), ("b", "x"), ("A", "2")]);
        assert_eq!(map.joined("a"), Some(b"1,2".to_vec()));
        assert_eq!(map.joined("c"), None);
    }
}
