//! The options of the generated Envoy bootstrap: the wasm runtime, where the module and the
//! certificates are, the addresses of backends and admin, and the connection managers' settings.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::deploy::FailStrategy;
use crate::envoy::connection_manager::ConnectionManager;

/// The Envoy wasm runtime that runs the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `envoy.wasm.runtime.v8`, built into the official Envoy images.
    V8,
    /// `envoy.wasm.runtime.wamr`.
    Wamr,
    /// `envoy.wasm.runtime.wasmtime`.
    Wasmtime,
}

impl Runtime {
    /// Reads `v8`, `wamr` or `wasmtime` (or the full extension name).
    ///
    /// # Errors
    ///
    /// On any other value.
    pub fn parse(value: &str) -> Result<Self> {
        match value.trim_start_matches("envoy.wasm.runtime.") {
            "v8" => Ok(Self::V8),
            "wamr" => Ok(Self::Wamr),
            "wasmtime" => Ok(Self::Wasmtime),
            _ => bail!("unknown wasm runtime {value:?} (expected v8, wamr or wasmtime)"),
        }
    }

    /// The name of Envoy's runtime extension.
    pub(super) fn extension(self) -> &'static str {
        match self {
            Self::V8 => "envoy.wasm.runtime.v8",
            Self::Wamr => "envoy.wasm.runtime.wamr",
            Self::Wasmtime => "envoy.wasm.runtime.wasmtime",
        }
    }
}

/// How HTTPS listeners get their certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Files under this folder: `<dir>/<namespace>/<secret>/tls.crt` and `tls.key`.
    Files(String),
    /// No TLS: HTTPS listeners are served in plain text on their own port (local testing only).
    Plaintext,
}

/// A `host:port` an Envoy cluster connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// DNS name or IP address.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Address {
    /// Reads `host:port` or `[ipv6]:port`.
    ///
    /// # Errors
    ///
    /// When the port is missing or not a number.
    pub fn parse(value: &str) -> Result<Self> {
        let Some((host, port)) = value.rsplit_once(':') else {
            bail!("address {value:?} must be HOST:PORT");
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(port) = port.parse::<u16>() else {
            bail!("address {value:?}: {port:?} is not a port number");
        };
        if host.is_empty() || port == 0 {
            bail!("address {value:?} must be HOST:PORT");
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }
}

/// Choices `--format envoy` offers.
#[derive(Clone, Debug)]
pub struct EnvoyOptions {
    /// The wasm runtime.
    pub runtime: Runtime,
    /// `failure_policy`.
    pub fail: FailStrategy,
    /// Where Envoy reads gatewasm.wasm from.
    pub module: String,
    /// Addresses for backends, by `namespace/name:port`; others use the Kubernetes DNS name.
    pub addresses: BTreeMap<String, Address>,
    /// Admin interface address.
    pub admin: Address,
    /// Certificates for HTTPS listeners.
    pub tls: Tls,
    /// CA bundle for TLS backends that no BackendTLSPolicy covers.
    pub upstream_ca: Option<String>,
    /// What the connection manager does to paths and header names before the filter.
    pub connection_manager: ConnectionManager,
    /// Envoy's edge-proxy settings beyond paths: the client's address from the connection
    /// (`use_remote_address`), HTTP/2 stream and window limits, idle and request timeouts.
    pub edge_limits: bool,
}

impl Default for EnvoyOptions {
    fn default() -> Self {
        Self {
            runtime: Runtime::V8,
            fail: FailStrategy::Reload,
            module: DEFAULT_MODULE.to_owned(),
            addresses: BTreeMap::new(),
            admin: Address {
                host: "127.0.0.1".to_owned(),
                port: 9901,
            },
            tls: Tls::Files(DEFAULT_TLS_DIR.to_owned()),
            upstream_ca: None,
            connection_manager: ConnectionManager::default(),
            edge_limits: true,
        }
    }
}

/// Where the bootstrap expects the module, unless told otherwise.
pub const DEFAULT_MODULE: &str = "/etc/envoy/gatewasm.wasm";
/// Where the bootstrap expects certificates, unless told otherwise.
pub const DEFAULT_TLS_DIR: &str = "/etc/envoy/certs";
