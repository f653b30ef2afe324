//! One VM: a wasmtime instance of the module with its own `Store`, its exported callbacks, and
//! the calls into them that every Envoy phase shares (start, root contexts, after-call work).
//!
//! Stream phases and failure policies live in the parent module; this file knows nothing about
//! HTTP beyond the callback signatures.

use wasmtime::error::Context as _;
use wasmtime::{format_err, Result};
use wasmtime::{Instance, Store, TypedFunc, WasmParams, WasmResults};

use super::{PluginOptions, WasmModule};
use crate::abi::buffers::Buffers;
use crate::abi::http_call::HttpCalls;
use crate::abi::log::{LogEntry, LogState};
use crate::abi::properties::Properties;
use crate::abi::shared_data::SharedHandle;
use crate::abi::timers::{Clock, Timers};
use crate::abi::wasi::WasiState;
use crate::abi::{Guest, HostState};
use gatewasm_core::SplitMix64;

/// Why a VM operation failed, with the log lines it produced on the way.
#[derive(Debug)]
pub(super) struct VmFailure {
    pub(super) reason: String,
    pub(super) logs: Vec<LogEntry>,
}

/// What a new VM is built from, besides the module.
pub(super) struct VmSetup<'a> {
    pub(super) options: &'a PluginOptions,
    pub(super) shared: SharedHandle,
    pub(super) clock: Clock,
    pub(super) serial: u64,
    pub(super) seed: u64,
}

type Cb1 = Option<TypedFunc<i32, ()>>;
type Cb2 = Option<TypedFunc<(i32, i32), ()>>;
type Cb2Bool = Option<TypedFunc<(i32, i32), i32>>;
type Cb3Action = Option<TypedFunc<(i32, i32, i32), i32>>;
type Cb3 = Option<TypedFunc<(i32, i32, i32), ()>>;
type Cb5 = Option<TypedFunc<(i32, i32, i32, i32, i32), ()>>;

/// The module's exports the host calls; each is optional, as in the spec.
pub(super) struct Callbacks {
    pub(super) context_create: Cb2,
    pub(super) vm_start: Cb2Bool,
    pub(super) configure: Cb2Bool,
    pub(super) tick: Cb1,
    pub(super) queue_ready: Cb2,
    pub(super) done: Option<TypedFunc<i32, i32>>,
    pub(super) log: Cb1,
    pub(super) delete: Cb1,
    pub(super) request_headers: Cb3Action,
    pub(super) request_body: Cb3Action,
    pub(super) response_headers: Cb3Action,
    pub(super) response_body: Cb3Action,
    pub(super) http_call_response: Cb5,
    pub(super) grpc_receive: Cb3,
    pub(super) grpc_close: Cb3,
}

/// A running VM.
pub(super) struct Vm {
    pub(super) store: Store<HostState>,
    pub(super) cb: Callbacks,
    /// Set once the guest trapped; the VM is never called again.
    pub(super) failed: Option<String>,
    next_context: u32,
    // True while after-call work runs, so nested calls leave it to the outer loop.
    settling: bool,
}

fn typed<P: WasmParams, R: WasmResults>(
    instance: &Instance,
    store: &mut Store<HostState>,
    name: &str,
) -> Result<Option<TypedFunc<P, R>>> {
    match instance.get_func(&mut *store, name) {
        None => Ok(None),
        Some(func) => func
            .typed::<P, R>(&*store)
            .with_context(|| format!("export {name} does not have the ABI v0.2.1 signature"))
            .map(Some),
    }
}

fn failure(reason: String, store: &mut Store<HostState>) -> VmFailure {
    VmFailure {
        reason,
        logs: std::mem::take(&mut store.data_mut().log.entries),
    }
}

impl Vm {
    /// Instantiates the module and runs its start-up (`_initialize` then `main(0, 0)` or
    /// `__main_void`, else `_start`) with only `proxy_log` and WASI allowed, as cpp-host does.
    pub(super) fn boot(module: &WasmModule, setup: VmSetup<'_>) -> Result<Vm, VmFailure> {
        let options = setup.options;
        let state = HostState {
            restricted: true,
            vm_serial: setup.serial,
            log: LogState {
                entries: Vec::new(),
                level: options.log_level,
            },
            wasi: WasiState {
                rng: SplitMix64::new(setup.seed),
                env: options.env.clone(),
            },
            timers: Timers {
                clock: setup.clock,
                ..Timers::default()
            },
            buffers: Buffers {
                vm_configuration: options.vm_configuration.clone(),
                ..Buffers::default()
            },
            properties: Properties {
                plugin_name: options.plugin_name().to_string(),
                plugin_root_id: options.root_id.clone(),
                plugin_vm_id: options.vm_id.clone(),
                extra: options.properties.clone(),
                ..Properties::default()
            },
            http_calls: HttpCalls::with_clusters(options.clusters.clone()),
            shared: setup.shared,
            ..HostState::default()
        };
        let mut store = Store::new(module.engine(), state);
        match Self::instantiate(module, &mut store) {
            Ok(cb) => Ok(Vm {
                store,
                cb,
                failed: None,
                next_context: 1,
                settling: false,
            }),
            Err(err) => Err(failure(format!("{err:#}"), &mut store)),
        }
    }

    /// Instantiates, records the guest handles, finds the callbacks and runs start-up.
    fn instantiate(module: &WasmModule, store: &mut Store<HostState>) -> Result<Callbacks> {
        let instance = module
            .instance_pre()
            .instantiate(&mut *store)
            .context("instantiation failed")?;
        let memory = instance
            .get_memory(&mut *store, "memory")
            .ok_or_else(|| format_err!("the module exports no memory named \"memory\""))?;
        let alloc = match typed::<i32, i32>(&instance, store, "malloc")? {
            Some(malloc) => Some(malloc),
            None => typed::<i32, i32>(&instance, store, "proxy_on_memory_allocate")?,
        };
        let alloc = alloc.ok_or_else(|| format_err!("Wasm module is missing malloc function"))?;
        store.data_mut().guest = Guest {
            memory: Some(memory),
            alloc: Some(alloc),
        };
        let cb = Callbacks {
            context_create: typed(&instance, store, "proxy_on_context_create")?,
            vm_start: typed(&instance, store, "proxy_on_vm_start")?,
            configure: typed(&instance, store, "proxy_on_configure")?,
            tick: typed(&instance, store, "proxy_on_tick")?,
            queue_ready: typed(&instance, store, "proxy_on_queue_ready")?,
            done: typed(&instance, store, "proxy_on_done")?,
            log: typed(&instance, store, "proxy_on_log")?,
            delete: typed(&instance, store, "proxy_on_delete")?,
            request_headers: typed(&instance, store, "proxy_on_request_headers")?,
            request_body: typed(&instance, store, "proxy_on_request_body")?,
            response_headers: typed(&instance, store, "proxy_on_response_headers")?,
            response_body: typed(&instance, store, "proxy_on_response_body")?,
            http_call_response: typed(&instance, store, "proxy_on_http_call_response")?,
            grpc_receive: typed(&instance, store, "proxy_on_grpc_receive")?,
            grpc_close: typed(&instance, store, "proxy_on_grpc_close")?,
        };
        if let Some(initialize) = typed::<(), ()>(&instance, store, "_initialize")? {
            initialize
                .call(&mut *store, ())
                .context("_initialize trapped")?;
            if let Some(main) = typed::<(i32, i32), i32>(&instance, store, "main")? {
                main.call(&mut *store, (0, 0)).context("main trapped")?;
            } else if let Some(main) = typed::<(), i32>(&instance, store, "__main_void")? {
                main.call(&mut *store, ()).context("__main_void trapped")?;
            }
        } else if let Some(start) = typed::<(), ()>(&instance, store, "_start")? {
            start.call(&mut *store, ()).context("_start trapped")?;
        }
        store.data_mut().restricted = false;
        Ok(cb)
    }

    /// The host state of this VM.
    pub(super) fn state(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// A fresh context id. Context 0 is the VM context; ids count up from 1 per VM, as cpp-host's.
    pub(super) fn alloc_context(&mut self) -> u32 {
        let id = self.next_context;
        self.next_context += 1;
        id
    }

    /// Takes the log lines produced so far.
    pub(super) fn take_logs(&mut self) -> Vec<LogEntry> {
        std::mem::take(&mut self.state().log.entries)
    }

    /// Linear memory size in bytes.
    pub(super) fn memory_size(&self) -> usize {
        self.store
            .data()
            .guest
            .memory
            .map_or(0, |m| m.data_size(&self.store))
    }

    /// Calls one callback as `context` (under `root`). A trap marks the VM failed for good and
    /// returns the reason; a missing export is `Ok(None)`. After a successful call, roots that
    /// called `proxy_done` are deleted and queue owners get `on_queue_ready`.
    pub(super) fn invoke<P: WasmParams, R: WasmResults>(
        &mut self,
        func: Option<TypedFunc<P, R>>,
        context: u32,
        root: u32,
        args: P,
    ) -> Result<Option<R>, String> {
        if let Some(reason) = &self.failed {
            return Err(reason.clone());
        }
        let Some(func) = func else { return Ok(None) };
        let lifecycle = &mut self.state().lifecycle;
        lifecycle.current_context = context;
        lifecycle.root_context = root;
        lifecycle.local_reply_sent = false;
        match func.call(&mut self.store, args) {
            Ok(value) => {
                self.after_call()?;
                Ok(Some(value))
            }
            Err(err) => {
                let reason = format!("{err:#}");
                self.failed = Some(reason.clone());
                Err(reason)
            }
        }
    }

    fn after_call(&mut self) -> Result<(), String> {
        if self.settling {
            return Ok(()); // the outer after_call picks up whatever this call queued
        }
        self.settling = true;
        let result = self.settle();
        self.settling = false;
        result
    }

    fn settle(&mut self) -> Result<(), String> {
        let serial = self.state().vm_serial;
        let lifecycle = &self.state().lifecycle;
        let saved = (
            lifecycle.current_context,
            lifecycle.root_context,
            lifecycle.local_reply_sent,
        );
        // Bounded: a plugin that enqueues from on_queue_ready forever would otherwise spin.
        for _ in 0..64 {
            let state = self.state();
            let done = std::mem::take(&mut state.lifecycle.done);
            let ready = std::mem::take(&mut state.queues_ready);
            if done.is_empty() && ready.is_empty() {
                break;
            }
            for root in done {
                self.delete_root(root)?;
            }
            for queue in ready {
                let owner = {
                    let shared = self.state().shared.lock();
                    let index = (queue as usize).wrapping_sub(1);
                    shared.queues.get(index).map(|q| (q.owner_vm, q.owner_root))
                };
                if let Some((vm, root)) = owner {
                    if vm == serial && self.state().lifecycle.contexts.contains(&root) {
                        let cb = self.cb.queue_ready.clone();
                        self.invoke(cb, root, root, (root as i32, queue as i32))?;
                    }
                }
            }
        }
        let lifecycle = &mut self.state().lifecycle;
        (
            lifecycle.current_context,
            lifecycle.root_context,
            lifecycle.local_reply_sent,
        ) = saved;
        Ok(())
    }

    /// Creates root context `root` and runs `on_context_create(root, 0)`, `on_vm_start` and
    /// `on_configure` with `configuration` readable as `PLUGIN_CONFIGURATION`.
    pub(super) fn start_root(&mut self, root: u32, configuration: &[u8]) -> Result<(), String> {
        self.state().lifecycle.contexts.insert(root);
        let create = self.cb.context_create.clone();
        self.invoke(create, root, root, (root as i32, 0))?;
        self.state().buffers.plugin_configuration = Some(configuration.to_vec());
        let result = self.configure_root(root, configuration.len());
        self.state().buffers.plugin_configuration = None;
        result
    }

    fn configure_root(&mut self, root: u32, configuration_len: usize) -> Result<(), String> {
        let vm_config_len = self.state().buffers.vm_configuration.len();
        let vm_start = self.cb.vm_start.clone();
        if self.invoke(vm_start, root, root, (root as i32, vm_config_len as i32))? == Some(0) {
            return Err("proxy_on_vm_start returned false".to_string());
        }
        let configure = self.cb.configure.clone();
        if self.invoke(
            configure,
            root,
            root,
            (root as i32, configuration_len as i32),
        )? == Some(0)
        {
            return Err("proxy_on_configure returned false".to_string());
        }
        Ok(())
    }

    /// Shuts a root context down: `on_done`, then `on_delete` unless `on_done` returned false (then
    /// the plugin must call `proxy_done` first).
    pub(super) fn retire_root(&mut self, root: u32) -> Result<(), String> {
        let done = self.cb.done.clone();
        if self.invoke(done, root, root, root as i32)? == Some(0) {
            self.state().lifecycle.pending_done.insert(root);
            return Ok(());
        }
        self.delete_root(root)
    }

    fn delete_root(&mut self, root: u32) -> Result<(), String> {
        let delete = self.cb.delete.clone();
        self.invoke(delete, root, root, root as i32)?;
        let state = self.state();
        state.lifecycle.contexts.remove(&root);
        state.timers.tick_periods.remove(&root);
        Ok(())
    }
}
