//! The proxy-wasm ABI v0.2.1 host: every `env.proxy_*` import and the WASI subset Envoy provides,
//! each a short shim over a plain function that holds Envoy's semantics (reference §1, STYLE 11-14).
//!
//! This module owns the per-VM state ([`HostState`]) and the linker wiring. It never calls back
//! into the guest except to allocate result buffers; callbacks, deferred actions and the VM
//! lifecycle belong to [`crate::envoy`].

pub mod buffers;
pub mod grpc;
pub mod headers;
pub mod http_call;
pub mod lifecycle;
pub mod log;
pub(crate) mod memory;
pub mod metrics;
pub mod properties;
pub mod queue;
pub mod shared_data;
pub mod timers;
pub mod types;
pub mod wasi;

use wasmtime::{bail, Result};
use wasmtime::{ExternType, Linker, Memory, Module, TypedFunc, Val, ValType};

/// Everything one VM (one wasmtime `Store`) knows, split by ABI area.
#[derive(Default)]
pub struct HostState {
    /// True while `_initialize`/`main` run: only `proxy_log` and WASI may be called.
    pub restricted: bool,
    /// Names of the imports called, in order (cleared per stream by the engine).
    pub calls: Vec<&'static str>,
    /// Distinguishes the VMs of one proxy (canary, worker, reloaded worker).
    pub vm_serial: u64,
    /// `log.rs`.
    pub log: log::LogState,
    /// `wasi.rs`.
    pub wasi: wasi::WasiState,
    /// `timers.rs` (also the clock WASI reads).
    pub timers: timers::Timers,
    /// `buffers.rs`.
    pub buffers: buffers::Buffers,
    /// `headers.rs`.
    pub headers: headers::HeaderMaps,
    /// `properties.rs`.
    pub properties: properties::Properties,
    /// `http_call.rs`.
    pub http_calls: http_call::HttpCalls,
    /// `grpc.rs`.
    pub grpc: grpc::GrpcCalls,
    /// `shared_data.rs` and `queue.rs`: shared by every VM of one proxy.
    pub shared: shared_data::SharedHandle,
    /// Queue ids enqueued during the running callback (`queue.rs`); the engine notifies owners.
    pub queues_ready: Vec<u32>,
    /// `lifecycle.rs`.
    pub lifecycle: lifecycle::Lifecycle,
    pub(crate) guest: Guest,
}

/// Handles into the instance the shims need: its memory and its allocator.
#[derive(Default)]
pub(crate) struct Guest {
    pub(crate) memory: Option<Memory>,
    pub(crate) alloc: Option<TypedFunc<i32, i32>>,
}

/// Registers every import this host implements, one area file at a time (context and stream
/// control, log, time, buffers, header maps, callouts, shared data, queues, metrics, properties,
/// then WASI).
///
/// # Errors
///
/// Fails only if a name is registered twice without shadowing allowed (a host bug).
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    lifecycle::add_to_linker(linker)?;
    log::add_to_linker(linker)?;
    timers::add_to_linker(linker)?;
    buffers::add_to_linker(linker)?;
    headers::add_to_linker(linker)?;
    http_call::add_to_linker(linker)?;
    grpc::add_to_linker(linker)?;
    shared_data::add_to_linker(linker)?;
    queue::add_to_linker(linker)?;
    metrics::add_to_linker(linker)?;
    properties::add_to_linker(linker)?;
    wasi::add_to_linker(linker)?;
    Ok(())
}

/// Defines a stand-in for every function import of `module`, to be shadowed by
/// [`add_to_linker`]: WASI functions Envoy has but this host does not implement return `ENOSYS`;
/// anything else (an ABI 0.1.0 import, an unknown `env` function) traps naming the import when
/// called, so the module still instantiates as it would on a lenient host.
///
/// # Errors
///
/// Fails if a non-function import (memory, table, global) is requested: Envoy provides none.
pub fn define_fallbacks(linker: &mut Linker<HostState>, module: &Module) -> Result<()> {
    for import in module.imports() {
        let (module_name, name) = (import.module().to_string(), import.name().to_string());
        let ExternType::Func(ty) = import.ty() else {
            bail!("the module imports {module_name}.{name}, which is not a function: Envoy provides only functions");
        };
        if wasi::MODULES.contains(&module_name.as_str()) {
            let results: Vec<ValType> = ty.results().collect();
            linker.func_new(&module_name, &name, ty.clone(), move |_, _, out| {
                for (slot, ty) in out.iter_mut().zip(&results) {
                    *slot = Val::default_for_ty(ty).unwrap_or(Val::I32(0));
                }
                if let Some(first) = out.first_mut() {
                    *first = Val::I32(wasi::errno::NOSYS);
                }
                Ok(())
            })?;
        } else {
            let label = format!("{module_name}.{name}");
            linker.func_new(&module_name, &name, ty.clone(), move |_, _, _| {
                bail!("{label}: import not provided by this host (Envoy would refuse to load the module)")
            })?;
        }
    }
    Ok(())
}
