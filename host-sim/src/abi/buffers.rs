//! Byte buffers: `proxy_get_buffer_bytes`, `proxy_get_buffer_status` and `proxy_set_buffer_bytes`
//! over the configuration, body and callout buffers (reference §1.5, §1.6 "Buffer reads").
//!
//! The engine fills a buffer only while Envoy would expose it (e.g. the plugin configuration only
//! during `on_vm_start`/`on_configure`); an absent buffer is `NotFound`, which the SDK reads as
//! "no data".

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter, finish, finish_bytes, put_u32, split};
use super::types::{BufferType, HostResult, Status};
use super::HostState;

/// The buffers one VM can address; `None` means Envoy has no such buffer right now.
#[derive(Clone, Debug, Default)]
pub struct Buffers {
    /// `VM_CONFIGURATION`: always present (possibly empty).
    pub vm_configuration: Vec<u8>,
    /// `PLUGIN_CONFIGURATION`: present only during `on_vm_start` and `on_configure`.
    pub plugin_configuration: Option<Vec<u8>>,
    /// `HTTP_REQUEST_BODY`: present during `on_request_body`.
    pub request_body: Option<Vec<u8>>,
    /// `HTTP_RESPONSE_BODY`: present during `on_response_body`.
    pub response_body: Option<Vec<u8>>,
    /// `HTTP_CALL_RESPONSE_BODY`: present during `on_http_call_response`.
    pub http_call_response_body: Option<Vec<u8>>,
    /// `GRPC_RECEIVE_BUFFER`: present during `on_grpc_receive`.
    pub grpc_receive: Option<Vec<u8>>,
    /// `FOREIGN_FUNCTION_ARGUMENTS`: present during `on_foreign_function`.
    pub foreign_function_arguments: Option<Vec<u8>>,
}

impl Buffers {
    fn get(&self, kind: BufferType) -> Option<&Vec<u8>> {
        match kind {
            BufferType::VmConfiguration => Some(&self.vm_configuration),
            BufferType::PluginConfiguration => self.plugin_configuration.as_ref(),
            BufferType::HttpRequestBody => self.request_body.as_ref(),
            BufferType::HttpResponseBody => self.response_body.as_ref(),
            BufferType::HttpCallResponseBody => self.http_call_response_body.as_ref(),
            BufferType::GrpcReceiveBuffer => self.grpc_receive.as_ref(),
            BufferType::ForeignFunctionArguments => self.foreign_function_arguments.as_ref(),
            BufferType::DownstreamData | BufferType::UpstreamData => None,
        }
    }

    /// The buffers the plugin may change: Envoy's HTTP body buffers only.
    fn get_mut(&mut self, kind: BufferType) -> HostResult<&mut Vec<u8>> {
        let buffer = match kind {
            BufferType::HttpRequestBody => self.request_body.as_mut(),
            BufferType::HttpResponseBody => self.response_body.as_mut(),
            _ => {
                return if self.get(kind).is_some() {
                    Err(Status::BadArgument)
                } else {
                    Err(Status::NotFound)
                }
            }
        };
        buffer.ok_or(Status::NotFound)
    }
}

/// `proxy_get_buffer_bytes`: `start`/`max_size` are clamped to the buffer with 64-bit arithmetic,
/// as cpp-host does, so the SDK's `max_size = u32::MAX` works; an empty slice is (0, 0).
pub fn get_buffer_bytes(
    buffers: &Buffers,
    kind: BufferType,
    start: u32,
    max_size: u32,
) -> HostResult<Vec<u8>> {
    let buffer = buffers.get(kind).ok_or(Status::NotFound)?;
    let (start, max_size, len) = (u64::from(start), u64::from(max_size), buffer.len() as u64);
    if start >= len {
        return Ok(Vec::new());
    }
    let end = start.saturating_add(max_size).min(len);
    Ok(buffer[start as usize..end as usize].to_vec())
}

/// `proxy_get_buffer_status`: the buffer's size; flags are always 0, as in cpp-host.
pub fn get_buffer_status(buffers: &Buffers, kind: BufferType) -> HostResult<(u32, u32)> {
    let buffer = buffers.get(kind).ok_or(Status::NotFound)?;
    Ok((buffer.len() as u32, 0))
}

/// `proxy_set_buffer_bytes` with Envoy's `Buffer::copyFrom` rules: at start 0, size 0 prepends and
/// a size covering the buffer replaces it; a start at or past the end appends; any other splice is
/// `BadArgument`. Read-only buffers (configuration) are `BadArgument`, absent ones `NotFound`.
pub fn set_buffer_bytes(
    buffers: &mut Buffers,
    kind: BufferType,
    start: u32,
    size: u32,
    data: &[u8],
) -> HostResult<()> {
    let buffer = buffers.get_mut(kind)?;
    let (start, size) = (start as usize, size as usize);
    if start == 0 && size == 0 {
        buffer.splice(0..0, data.iter().copied());
    } else if start == 0 && size >= buffer.len() {
        buffer.clear();
        buffer.extend_from_slice(data);
    } else if start >= buffer.len() {
        buffer.extend_from_slice(data);
    } else {
        return Err(Status::BadArgument);
    }
    Ok(())
}

/// Registers the three buffer imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_buffer_bytes",
        |mut caller: Caller<'_, HostState>,
         kind: i32,
         start: i32,
         max_size: i32,
         ret_ptr: i32,
         ret_size: i32| {
            const NAME: &str = "proxy_get_buffer_bytes";
            enter(&mut caller, NAME)?;
            let buffers = &caller.data().buffers;
            let result = BufferType::from_raw(kind)
                .and_then(|k| get_buffer_bytes(buffers, k, start as u32, max_size as u32));
            finish_bytes(&mut caller, result, ret_ptr, ret_size, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_buffer_status",
        |mut caller: Caller<'_, HostState>, kind: i32, ret_size: i32, ret_flags: i32| {
            const NAME: &str = "proxy_get_buffer_status";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            match BufferType::from_raw(kind).and_then(|k| get_buffer_status(&state.buffers, k)) {
                Ok((size, flags)) => {
                    put_u32(mem, ret_size, size, NAME)?;
                    put_u32(mem, ret_flags, flags, NAME)?;
                    Ok(Status::Ok.code())
                }
                Err(status) => Ok(status.code()),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_buffer_bytes",
        |mut caller: Caller<'_, HostState>,
         kind: i32,
         start: i32,
         size: i32,
         data_ptr: i32,
         data_len: i32| {
            const NAME: &str = "proxy_set_buffer_bytes";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let data = bytes(mem, data_ptr, data_len, NAME)?;
            let result = BufferType::from_raw(kind).and_then(|k| {
                set_buffer_bytes(&mut state.buffers, k, start as u32, size as u32, data)
            });
            Ok(finish(result))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(bytes: &[u8]) -> Buffers {
        Buffers {
            plugin_configuration: Some(bytes.to_vec()),
            ..Buffers::default()
        }
    }

    const PLUGIN: BufferType = BufferType::PluginConfiguration;

    #[test]
    fn sdk_reads_whole_buffer_with_u32_max() {
        let buffers = config(b"{\"a\":1}");
        assert_eq!(
            get_buffer_bytes(&buffers, PLUGIN, 0, u32::MAX),
            Ok(b"{\"a\":1}".to_vec())
        );
    }

    #[test]
    fn reads_clamp_in_u64() {
        let buffers = config(b"abcdef");
        assert_eq!(
            get_buffer_bytes(&buffers, PLUGIN, 2, 3),
            Ok(b"cde".to_vec())
        );
        assert_eq!(
            get_buffer_bytes(&buffers, PLUGIN, 4, u32::MAX),
            Ok(b"ef".to_vec())
        );
        assert_eq!(
            get_buffer_bytes(&buffers, PLUGIN, u32::MAX, u32::MAX),
            Ok(Vec::new())
        );
        assert_eq!(get_buffer_bytes(&buffers, PLUGIN, 6, 1), Ok(Vec::new()));
        assert_eq!(get_buffer_bytes(&buffers, PLUGIN, 0, 0), Ok(Vec::new()));
    }

    #[test]
    fn absent_buffers_are_not_found() {
        let buffers = Buffers::default();
        assert_eq!(
            get_buffer_bytes(&buffers, PLUGIN, 0, 10),
            Err(Status::NotFound)
        );
        assert_eq!(
            get_buffer_bytes(&buffers, BufferType::VmConfiguration, 0, 10),
            Ok(Vec::new())
        );
        assert_eq!(get_buffer_status(&config(b"xyz"), PLUGIN), Ok((3, 0)));
    }

    #[test]
    fn body_writes_follow_envoy_copy_from() {
        let mut buffers = Buffers {
            request_body: Some(b"body".to_vec()),
            ..Buffers::default()
        };
        let kind = BufferType::HttpRequestBody;
        set_buffer_bytes(&mut buffers, kind, 0, 0, b">").unwrap();
        set_buffer_bytes(&mut buffers, kind, 5, 0, b"<").unwrap();
        assert_eq!(buffers.request_body.as_deref(), Some(&b">body<"[..]));
        set_buffer_bytes(&mut buffers, kind, 0, 100, b"new").unwrap();
        assert_eq!(buffers.request_body.as_deref(), Some(&b"new"[..]));
        assert_eq!(
            set_buffer_bytes(&mut buffers, kind, 1, 1, b"x"),
            Err(Status::BadArgument)
        );
        let mut config = config(b"c");
        assert_eq!(
            set_buffer_bytes(&mut config, PLUGIN, 0, 1, b"x"),
            Err(Status::BadArgument)
        );
        assert_eq!(
            set_buffer_bytes(&mut config, BufferType::HttpResponseBody, 0, 0, b"x"),
            Err(Status::NotFound)
        );
    }
}
