//! A compiled proxy-wasm module, checked for the exports Envoy needs and with its imports
//! resolved once, ready to instantiate a VM many times.
//!
//! Running VMs is `vm`'s job and the imports are `crate::abi`'s.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module};

use super::ABI_MARKER;
use crate::abi::{self, HostState};

/// A compiled proxy-wasm module with its imports resolved, ready to instantiate many times.
/// Cloning is cheap (the compiled code is shared).
#[derive(Clone)]
pub struct WasmModule {
    engine: Engine,
    module: Module,
    pre: InstancePre<HostState>,
}

impl WasmModule {
    /// Reads and compiles a `.wasm` file.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not WebAssembly, lacks the `proxy_abi_version_0_2_1` marker,
    /// memory or allocator exports, or imports something with a type this host cannot provide.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Self::from_bytes(&bytes).with_context(|| format!("failed to load {}", path.display()))
    }

    /// Compiles a module from its bytes.
    ///
    /// # Errors
    ///
    /// As [`WasmModule::from_file`], without the read.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let engine = Engine::default();
        let module = Module::new(&engine, bytes)
            .map_err(anyhow::Error::from)
            .context("not a valid WebAssembly module")?;
        check_exports(&module)?;
        let mut linker = Linker::new(&engine);
        // Stand-ins first, then the real imports shadow them.
        linker.allow_shadowing(true);
        abi::define_fallbacks(&mut linker, &module)?;
        abi::add_to_linker(&mut linker)?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(anyhow::Error::from)
            .context("the module's imports do not match the proxy-wasm ABI v0.2.1 host")?;
        Ok(Self {
            engine,
            module,
            pre,
        })
    }

    /// The wasmtime engine the module was compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled module (for inspecting imports and exports).
    pub fn module(&self) -> &Module {
        &self.module
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<HostState> {
        &self.pre
    }
}

/// cpp-host's load-time checks: ABI marker, memory, allocator.
fn check_exports(module: &Module) -> Result<()> {
    let has = |name: &str| module.get_export(name).is_some();
    if !has(ABI_MARKER) {
        let other = ["proxy_abi_version_0_1_0", "proxy_abi_version_0_2_0"]
            .into_iter()
            .find(|marker| has(marker));
        match other {
            Some(marker) => bail!(
                "the module declares {marker}; host-sim implements proxy-wasm ABI v0.2.1 only \
                 (build with the proxy-wasm 0.2.x Rust SDK)"
            ),
            None => bail!(
                "Missing or unknown Proxy-Wasm ABI version: the module does not export \
                 {ABI_MARKER}; is it a proxy-wasm filter?"
            ),
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        bail!("the module exports no memory named \"memory\"");
    }
    if !has("malloc") && !has("proxy_on_memory_allocate") {
        bail!("Wasm module is missing malloc function (neither malloc nor proxy_on_memory_allocate is exported)");
    }
    Ok(())
}
