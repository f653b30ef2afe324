//! Shared data: `proxy_get_shared_data` and `proxy_set_shared_data`, the process-wide key/value
//! store with compare-and-swap (reference §1.8 "Shared data and queues").
//!
//! One store is shared by every VM of a `Proxy` (canary, worker, reloaded worker), as Envoy shares
//! it across workers for one `vm_id`. Queues and metrics live in the same store but are handled in
//! `queue.rs` and `metrics.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter, finish, put_u32, return_bytes, split};
use super::metrics::Metrics;
use super::queue::SharedQueue;
use super::types::{HostResult, Status};
use super::HostState;

/// The process-wide store behind shared data and shared queues.
#[derive(Debug)]
pub struct SharedStore {
    // Key -> (value, cas).
    data: BTreeMap<Vec<u8>, (Vec<u8>, u32)>,
    // The next CAS value; never 0 (the SDK reads 0 as "no CAS").
    next_cas: u32,
    /// Registered queues; a queue's id is its index plus one.
    pub queues: Vec<SharedQueue>,
    /// The plugin's metrics, which Envoy keeps process-wide.
    pub metrics: Metrics,
}

impl Default for SharedStore {
    fn default() -> Self {
        Self {
            data: BTreeMap::new(),
            next_cas: 1,
            queues: Vec::new(),
            metrics: Metrics::default(),
        }
    }
}

impl SharedStore {
    fn cas(&mut self) -> u32 {
        let cas = self.next_cas;
        self.next_cas = self.next_cas.wrapping_add(1).max(1);
        cas
    }
}

/// A handle every VM of one proxy holds.
#[derive(Clone, Debug, Default)]
pub struct SharedHandle(Arc<Mutex<SharedStore>>);

impl SharedHandle {
    /// Locks the store; a poisoned lock (a panicking test thread) is still usable.
    pub fn lock(&self) -> MutexGuard<'_, SharedStore> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `proxy_get_shared_data`: the value and its CAS; `NotFound` for an unknown key.
pub fn get_shared_data(store: &SharedStore, key: &[u8]) -> HostResult<(Vec<u8>, u32)> {
    store.data.get(key).cloned().ok_or(Status::NotFound)
}

/// `proxy_set_shared_data`: a non-zero `cas` must match the stored one (`CasMismatch`); every
/// write gets a fresh CAS. Writing a missing key always succeeds.
pub fn set_shared_data(
    store: &mut SharedStore,
    key: &[u8],
    value: &[u8],
    cas: u32,
) -> HostResult<()> {
    if let Some((_, current)) = store.data.get(key) {
        if cas != 0 && cas != *current {
            return Err(Status::CasMismatch);
        }
    }
    let next = store.cas();
    store.data.insert(key.to_vec(), (value.to_vec(), next));
    Ok(())
}

/// Registers the two shared-data imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_shared_data",
        |mut caller: Caller<'_, HostState>,
         key_ptr: i32,
         key_len: i32,
         ret_ptr: i32,
         ret_size: i32,
         ret_cas: i32| {
            const NAME: &str = "proxy_get_shared_data";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let key = bytes(mem, key_ptr, key_len, NAME)?;
            let result = get_shared_data(&state.shared.lock(), key);
            match result {
                Ok((value, cas)) => {
                    return_bytes(&mut caller, &value, ret_ptr, ret_size, NAME)?;
                    let (mem, _) = split(&mut caller, NAME)?;
                    put_u32(mem, ret_cas, cas, NAME)?;
                    Ok(Status::Ok.code())
                }
                Err(status) => Ok(status.code()),
            }
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_shared_data",
        |mut caller: Caller<'_, HostState>,
         key_ptr: i32,
         key_len: i32,
         value_ptr: i32,
         value_len: i32,
         cas: i32| {
            const NAME: &str = "proxy_set_shared_data";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let key = bytes(mem, key_ptr, key_len, NAME)?;
            let value = bytes(mem, value_ptr, value_len, NAME)?;
            Ok(finish(set_shared_data(
                &mut state.shared.lock(),
                key,
                value,
                cas as u32,
            )))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_guards_updates() {
        let mut store = SharedStore::default();
        assert_eq!(get_shared_data(&store, b"k"), Err(Status::NotFound));
        set_shared_data(&mut store, b"k", b"v1", 0).unwrap();
        let (value, cas) = get_shared_data(&store, b"k").unwrap();
        assert_eq!((value.as_slice(), cas), (&b"v1"[..], 1));
        assert_eq!(
            set_shared_data(&mut store, b"k", b"v2", cas + 7),
            Err(Status::CasMismatch)
        );
        assert_eq!(set_shared_data(&mut store, b"k", b"v2", cas), Ok(()));
        assert_eq!(get_shared_data(&store, b"k"), Ok((b"v2".to_vec(), 2)));
        assert_eq!(set_shared_data(&mut store, b"k", b"v3", 0), Ok(()));
    }
}
