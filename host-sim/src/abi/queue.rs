//! Shared queues: `proxy_register_shared_queue`, `proxy_resolve_shared_queue`,
//! `proxy_enqueue_shared_queue` and `proxy_dequeue_shared_queue` (reference §1.8).
//!
//! Queues live in the proxy-wide `SharedStore`. An enqueue only records that the queue became
//! ready; the engine calls `proxy_on_queue_ready` on the owning root context after the current
//! callback returns, never from inside the hostcall.

use std::collections::VecDeque;

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter, finish, finish_bytes, finish_u32, split};
use super::shared_data::SharedStore;
use super::types::{HostResult, Status};
use super::HostState;

/// One registered queue.
#[derive(Clone, Debug, Default)]
pub struct SharedQueue {
    /// The `vm_id` it was registered under.
    pub vm_id: String,
    /// Its name.
    pub name: String,
    /// The VM that registered it last (the engine's VM serial number).
    pub owner_vm: u64,
    /// The root context that registered it last; it receives `on_queue_ready`.
    pub owner_root: u32,
    /// Pending items, oldest first.
    pub items: VecDeque<Vec<u8>>,
}

/// Who is asking: the VM, its `vm_id` and the current root context.
#[derive(Clone, Copy, Debug)]
pub struct QueueOwner<'a> {
    /// `vm_id`.
    pub vm_id: &'a str,
    /// The VM's serial number.
    pub vm: u64,
    /// The root context of the running callback.
    pub root: u32,
}

/// `proxy_register_shared_queue`: returns the queue id for (`vm_id`, name), creating it if needed;
/// registering again moves ownership to the caller's root context.
pub fn register_shared_queue(
    store: &mut SharedStore,
    owner: QueueOwner<'_>,
    name: &[u8],
) -> HostResult<u32> {
    let name = String::from_utf8_lossy(name).into_owned();
    let index = match store
        .queues
        .iter()
        .position(|q| q.vm_id == owner.vm_id && q.name == name)
    {
        Some(index) => index,
        None => {
            store.queues.push(SharedQueue {
                vm_id: owner.vm_id.to_string(),
                name,
                ..SharedQueue::default()
            });
            store.queues.len() - 1
        }
    };
    let queue = &mut store.queues[index];
    queue.owner_vm = owner.vm;
    queue.owner_root = owner.root;
    Ok(index as u32 + 1)
}

/// `proxy_resolve_shared_queue`: the id of (`vm_id`, name), `NotFound` if never registered.
pub fn resolve_shared_queue(store: &SharedStore, vm_id: &[u8], name: &[u8]) -> HostResult<u32> {
    store
        .queues
        .iter()
        .position(|q| q.vm_id.as_bytes() == vm_id && q.name.as_bytes() == name)
        .map(|index| index as u32 + 1)
        .ok_or(Status::NotFound)
}

fn queue(store: &mut SharedStore, id: u32) -> HostResult<&mut SharedQueue> {
    let index = (id as usize).checked_sub(1).ok_or(Status::NotFound)?;
    store.queues.get_mut(index).ok_or(Status::NotFound)
}

/// `proxy_enqueue_shared_queue`: appends; `NotFound` for an unknown id.
pub fn enqueue_shared_queue(store: &mut SharedStore, id: u32, value: &[u8]) -> HostResult<()> {
    queue(store, id)?.items.push_back(value.to_vec());
    Ok(())
}

/// `proxy_dequeue_shared_queue`: pops the oldest item; `Empty` when there is none, `NotFound` for
/// an unknown id.
pub fn dequeue_shared_queue(store: &mut SharedStore, id: u32) -> HostResult<Vec<u8>> {
    queue(store, id)?.items.pop_front().ok_or(Status::Empty)
}

/// Registers the four queue imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_register_shared_queue",
        |mut caller: Caller<'_, HostState>, name_ptr: i32, name_len: i32, ret_id: i32| {
            const NAME: &str = "proxy_register_shared_queue";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let name = bytes(mem, name_ptr, name_len, NAME)?;
            let owner = QueueOwner {
                vm_id: &state.properties.plugin_vm_id,
                vm: state.vm_serial,
                root: state.lifecycle.root_context,
            };
            let result = register_shared_queue(&mut state.shared.lock(), owner, name);
            finish_u32(&mut caller, result, ret_id, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_resolve_shared_queue",
        |mut caller: Caller<'_, HostState>,
         vm_id_ptr: i32,
         vm_id_len: i32,
         name_ptr: i32,
         name_len: i32,
         ret_id: i32| {
            const NAME: &str = "proxy_resolve_shared_queue";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let vm_id = bytes(mem, vm_id_ptr, vm_id_len, NAME)?;
            let name = bytes(mem, name_ptr, name_len, NAME)?;
            let result = resolve_shared_queue(&state.shared.lock(), vm_id, name);
            finish_u32(&mut caller, result, ret_id, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_enqueue_shared_queue",
        |mut caller: Caller<'_, HostState>, id: i32, value_ptr: i32, value_len: i32| {
            const NAME: &str = "proxy_enqueue_shared_queue";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let value = bytes(mem, value_ptr, value_len, NAME)?;
            let result = enqueue_shared_queue(&mut state.shared.lock(), id as u32, value);
            if result.is_ok() {
                state.queues_ready.push(id as u32);
            }
            Ok(finish(result))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_dequeue_shared_queue",
        |mut caller: Caller<'_, HostState>, id: i32, ret_ptr: i32, ret_size: i32| {
            const NAME: &str = "proxy_dequeue_shared_queue";
            enter(&mut caller, NAME)?;
            let result = dequeue_shared_queue(&mut caller.data().shared.lock(), id as u32);
            finish_bytes(&mut caller, result, ret_ptr, ret_size, NAME)
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: QueueOwner<'static> = QueueOwner {
        vm_id: "vm",
        vm: 1,
        root: 1,
    };

    #[test]
    fn register_resolve_enqueue_dequeue() {
        let mut store = SharedStore::default();
        let id = register_shared_queue(&mut store, OWNER, b"q").unwrap();
        assert_eq!(register_shared_queue(&mut store, OWNER, b"q"), Ok(id));
        assert_eq!(resolve_shared_queue(&store, b"vm", b"q"), Ok(id));
        assert_eq!(
            resolve_shared_queue(&store, b"other", b"q"),
            Err(Status::NotFound)
        );
        assert_eq!(dequeue_shared_queue(&mut store, id), Err(Status::Empty));
        enqueue_shared_queue(&mut store, id, b"a").unwrap();
        enqueue_shared_queue(&mut store, id, b"b").unwrap();
        assert_eq!(dequeue_shared_queue(&mut store, id), Ok(b"a".to_vec()));
        assert_eq!(
            enqueue_shared_queue(&mut store, 0, b"x"),
            Err(Status::NotFound)
        );
        assert_eq!(dequeue_shared_queue(&mut store, 9), Err(Status::NotFound));
    }
}
