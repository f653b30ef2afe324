//! Guest linear memory access shared by every shim: bounds-checked reads and writes, and the one
//! helper that allocates in the guest to hand results back (reference §1.1, §3.5).
//!
//! Nothing here knows proxy-wasm semantics; the area files decide what to read and return.
//! Out-of-bounds pointers become traps whose message names the ABI function, never a status:
//! the Rust SDK would panic on cpp-host's `InvalidMemoryAccess` (6) anyway.

use wasmtime::error::Context as _;
use wasmtime::Caller;
use wasmtime::{bail, format_err, Result};

use super::types::{HostResult, Status};
use super::HostState;

/// Records a `proxy_*` call in the trace, and traps if the VM is still starting: cpp-host allows
/// only `proxy_log` and WASI while `_initialize`/`main` run ("restricted_callback").
pub(crate) fn enter(caller: &mut Caller<'_, HostState>, name: &'static str) -> Result<()> {
    let state = caller.data_mut();
    if state.restricted {
        bail!(
            "restricted_callback: env.{name} called while the VM starts (_initialize/main); \
             only proxy_log and WASI are allowed there, move the call to on_vm_start or on_configure"
        );
    }
    state.calls.push(name);
    Ok(())
}

/// Records a call that is allowed during VM start (`proxy_log`, WASI).
pub(crate) fn enter_unrestricted(caller: &mut Caller<'_, HostState>, name: &'static str) {
    caller.data_mut().calls.push(name);
}

/// Borrows guest memory and host state at once (the wiggle split borrow).
pub(crate) fn split<'a>(
    caller: &'a mut Caller<'_, HostState>,
    name: &str,
) -> Result<(&'a mut [u8], &'a mut HostState)> {
    let memory = caller.data().guest.memory.ok_or_else(|| {
        format_err!("{name}: the module exports no linear memory named \"memory\"")
    })?;
    Ok(memory.data_and_store_mut(caller))
}

fn range(mem_len: usize, ptr: i32, len: usize, name: &str) -> Result<std::ops::Range<usize>> {
    // Guest pointers and sizes are u32 on wasm32; the i32 is only how wasmtime passes them.
    let start = ptr as u32 as usize;
    match start.checked_add(len) {
        Some(end) if end <= mem_len => Ok(start..end),
        _ => bail!(
            "{name}: guest pointer {start:#x} + {len} bytes is outside linear memory ({mem_len} bytes)"
        ),
    }
}

/// The guest bytes at `ptr..ptr+len`.
pub(crate) fn bytes<'m>(mem: &'m [u8], ptr: i32, len: i32, name: &str) -> Result<&'m [u8]> {
    let range = range(mem.len(), ptr, len as u32 as usize, name)?;
    Ok(&mem[range])
}

/// Writes raw bytes at `ptr`.
pub(crate) fn put_bytes(mem: &mut [u8], ptr: i32, data: &[u8], name: &str) -> Result<()> {
    let range = range(mem.len(), ptr, data.len(), name)?;
    mem[range].copy_from_slice(data);
    Ok(())
}

/// Writes a little-endian u32 (a wasm32 pointer or size word).
pub(crate) fn put_u32(mem: &mut [u8], ptr: i32, value: u32, name: &str) -> Result<()> {
    put_bytes(mem, ptr, &value.to_le_bytes(), name)
}

/// Writes a little-endian u64.
pub(crate) fn put_u64(mem: &mut [u8], ptr: i32, value: u64, name: &str) -> Result<()> {
    put_bytes(mem, ptr, &value.to_le_bytes(), name)
}

/// Reads a little-endian u32.
pub(crate) fn get_u32(mem: &[u8], ptr: i32, name: &str) -> Result<u32> {
    let raw = bytes(mem, ptr, 4, name)?;
    let mut word = [0u8; 4];
    word.copy_from_slice(raw);
    Ok(u32::from_le_bytes(word))
}

/// Allocates exactly `len` bytes in the guest (`malloc` first, else `proxy_on_memory_allocate`)
/// and returns the guest pointer.
fn allocate(caller: &mut Caller<'_, HostState>, len: usize, name: &str) -> Result<i32> {
    let alloc = caller
        .data()
        .guest
        .alloc
        .clone()
        .ok_or_else(|| format_err!("{name}: Wasm module is missing malloc function"))?;
    let size = u32::try_from(len)
        .with_context(|| format!("{name}: result of {len} bytes does not fit wasm32"))?;
    let ptr = alloc
        .call(&mut *caller, size as i32)
        .with_context(|| format!("{name}: guest allocator failed for {len} bytes"))?;
    if ptr == 0 {
        bail!("{name}: guest allocator returned null for {len} bytes");
    }
    Ok(ptr)
}

/// Hands `data` to the guest: allocates exactly its size, copies it, and writes the pointer and
/// size words. An empty result is written as pointer 0 / size 0, as Envoy's `copyToPointerSize`.
pub(crate) fn return_bytes(
    caller: &mut Caller<'_, HostState>,
    data: &[u8],
    ptr_ptr: i32,
    size_ptr: i32,
    name: &str,
) -> Result<()> {
    let ptr = if data.is_empty() {
        0
    } else {
        allocate(caller, data.len(), name)?
    };
    // The allocation may have grown memory: borrow it afresh.
    let (mem, _) = split(caller, name)?;
    if !data.is_empty() {
        put_bytes(mem, ptr, data, name)?;
    }
    put_u32(mem, ptr_ptr, ptr as u32, name)?;
    put_u32(mem, size_ptr, data.len() as u32, name)
}

/// Ends a shim whose result is bytes: writes them back on success, returns the status code.
pub(crate) fn finish_bytes(
    caller: &mut Caller<'_, HostState>,
    result: HostResult<Vec<u8>>,
    ptr_ptr: i32,
    size_ptr: i32,
    name: &str,
) -> Result<i32> {
    match result {
        Ok(data) => {
            return_bytes(caller, &data, ptr_ptr, size_ptr, name)?;
            Ok(Status::Ok.code())
        }
        Err(status) => Ok(status.code()),
    }
}

/// Ends a shim whose result is one u32 word.
pub(crate) fn finish_u32(
    caller: &mut Caller<'_, HostState>,
    result: HostResult<u32>,
    ptr: i32,
    name: &str,
) -> Result<i32> {
    match result {
        Ok(value) => {
            let (mem, _) = split(caller, name)?;
            put_u32(mem, ptr, value, name)?;
            Ok(Status::Ok.code())
        }
        Err(status) => Ok(status.code()),
    }
}

/// Ends a shim whose result is one u64.
pub(crate) fn finish_u64(
    caller: &mut Caller<'_, HostState>,
    result: HostResult<u64>,
    ptr: i32,
    name: &str,
) -> Result<i32> {
    match result {
        Ok(value) => {
            let (mem, _) = split(caller, name)?;
            put_u64(mem, ptr, value, name)?;
            Ok(Status::Ok.code())
        }
        Err(status) => Ok(status.code()),
    }
}

/// Ends a shim that writes nothing back.
pub(crate) fn finish(result: HostResult<()>) -> i32 {
    match result {
        Ok(()) => Status::Ok.code(),
        Err(status) => status.code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let mem = [1u8, 2, 3, 4];
        assert_eq!(bytes(&mem, 1, 2, "f").unwrap(), &[2, 3]);
        assert_eq!(bytes(&mem, 4, 0, "f").unwrap(), &[] as &[u8]);
        let err = bytes(&mem, 3, 2, "proxy_log").unwrap_err().to_string();
        assert!(err.starts_with("proxy_log: guest pointer 0x3"), "{err}");
        // A negative i32 is a large u32 pointer, not a negative offset.
        assert!(bytes(&mem, -1, 1, "f").is_err());
        assert!(bytes(&mem, 0, -1, "f").is_err());
    }

    #[test]
    fn words_are_little_endian() {
        let mut mem = [0u8; 12];
        put_u32(&mut mem, 0, 0x0403_0201, "f").unwrap();
        put_u64(&mut mem, 4, 0x0807_0605_0403_0201, "f").unwrap();
        assert_eq!(mem, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(get_u32(&mem, 0, "f").unwrap(), 0x0403_0201);
        assert!(put_u32(&mut mem, 9, 1, "f").is_err());
    }
}
