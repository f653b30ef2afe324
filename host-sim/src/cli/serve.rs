//! Parsing of `host-sim serve`: listeners, upstream addresses, workers and what the plugin is
//! configured with. No I/O: reading the manifests or an `@FILE` plugin configuration is the
//! command's job, so a file that changes is read again on every reload.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lexopt::prelude::*;

use crate::deploy::envoy::Address;

/// Arguments of `host-sim serve`.
#[derive(Debug)]
pub struct ServeArgs {
    /// Where the plugin configuration comes from.
    pub source: Source,
    /// Sockets to accept requests on.
    pub listeners: Vec<Listen>,
    /// Where each backend (or raw Envoy cluster) is, in the order given.
    pub upstreams: Vec<UpstreamSpec>,
    /// The admin listener (`/stats`), if any.
    pub admin: Option<SocketAddr>,
    /// Worker threads, each with its own VM.
    pub workers: usize,
    /// Module to run.
    pub wasm: Option<PathBuf>,
    /// How often the configuration is looked at for changes, in milliseconds.
    pub poll_ms: u64,
}

/// Where `serve` reads the plugin configuration from; read again whenever it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Gateway API manifests (`--config PATH [--gateway NAMESPACE/NAME]`).
    Manifests {
        /// A YAML file or a folder of them.
        path: PathBuf,
        /// The Gateway to implement.
        gateway: Option<String>,
    },
    /// A plugin configuration given as is (`--plugin-config STRING`).
    Inline(Vec<u8>),
    /// A plugin configuration read from a file (`--plugin-config @FILE`).
    File(PathBuf),
}

/// One listener: `[http://|https://]ADDR:PORT[=GATEWAY_PORT]`, with a certificate for https.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    /// The socket; port 0 lets the OS choose.
    pub address: SocketAddr,
    /// The port the filter sees as `destination.port` (the Gateway listener's port); the bound
    /// port when not given.
    pub gateway_port: Option<u16>,
    /// Certificate chain and private key (PEM files) for an HTTPS listener.
    pub tls: Option<TlsFiles>,
}

/// A certificate chain and its private key, PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// `--upstream KEY=HOST:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamSpec {
    /// `NAMESPACE/NAME:PORT` of a backend, an Envoy cluster name, or `*` for requests whose
    /// cluster no other mapping names.
    pub key: String,
    /// Where it is.
    pub address: Address,
}

/// Arguments of `host-sim echo`.
#[derive(Debug)]
pub struct EchoArgs {
    /// The socket; port 0 lets the OS choose.
    pub listen: SocketAddr,
    /// The name the backend answers with.
    pub name: String,
}

/// Parses the flags after `echo`.
pub(super) fn echo(parser: &mut lexopt::Parser) -> Result<EchoArgs> {
    let (mut listen, mut name) = (None, String::from("echo"));
    while let Some(arg) = parser.next()? {
        match arg {
            Long("listen") => {
                let value = parser.value()?.string()?;
                listen = Some(socket(&value).with_context(|| format!("--listen {value:?}"))?);
            }
            Long("name") => name = parser.value()?.string()?,
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(EchoArgs {
        listen: listen.context("echo needs --listen ADDR:PORT (for example 127.0.0.1:9001)")?,
        name,
    })
}

/// Parses the flags after `serve`.
pub(super) fn serve(parser: &mut lexopt::Parser) -> Result<ServeArgs> {
    let (mut config, mut gateway, mut plugin_config) = (None, None, None);
    let (mut cert, mut key) = (None, None);
    let mut listens = Vec::new();
    let mut args = ServeArgs {
        source: Source::Inline(Vec::new()),
        listeners: Vec::new(),
        upstreams: Vec::new(),
        admin: None,
        workers: 2,
        wasm: None,
        poll_ms: 200,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("config") => config = Some(PathBuf::from(parser.value()?)),
            Long("gateway") => gateway = Some(parser.value()?.string()?),
            Long("plugin-config") => plugin_config = Some(parser.value()?.string()?),
            Long("listen") => listens.push(parser.value()?.string()?),
            Long("upstream") => args.upstreams.push(upstream(&parser.value()?.string()?)?),
            Long("admin") => {
                let value = parser.value()?.string()?;
                args.admin = Some(socket(&value).with_context(|| format!("--admin {value:?}"))?);
            }
            Long("workers") => args.workers = parser.value()?.parse()?,
            Long("wasm") => args.wasm = Some(PathBuf::from(parser.value()?)),
            Long("cert") => cert = Some(PathBuf::from(parser.value()?)),
            Long("key") => key = Some(PathBuf::from(parser.value()?)),
            Long("poll-ms") => args.poll_ms = parser.value()?.parse()?,
            other => return Err(other.unexpected().into()),
        }
    }
    args.source = match (config, plugin_config) {
        (Some(path), None) => Source::Manifests { path, gateway },
        (None, Some(value)) if gateway.is_none() => match value.strip_prefix('@') {
            Some(file) => Source::File(PathBuf::from(file)),
            None => Source::Inline(value.into_bytes()),
        },
        (None, Some(_)) => bail!("--gateway applies to --config manifests, not --plugin-config"),
        (Some(_), Some(_)) => {
            bail!("serve takes --config PATH or --plugin-config STRING|@FILE, not both")
        }
        (None, None) => bail!(
            "serve needs --config PATH (Gateway API manifests), or --wasm FILE with \
             --plugin-config STRING|@FILE for another proxy-wasm module"
        ),
    };
    if matches!(args.source, Source::Inline(_) | Source::File(_)) && args.wasm.is_none() {
        bail!("--plugin-config is for another module: pass it with --wasm FILE");
    }
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => bail!("--cert FILE and --key FILE go together"),
    };
    for value in listens {
        args.listeners.push(listen(&value, tls.as_ref())?);
    }
    if args.listeners.is_empty() {
        bail!("serve needs at least one --listen ADDR:PORT (for example 127.0.0.1:8080)");
    }
    if tls.is_some() && args.listeners.iter().all(|l| l.tls.is_none()) {
        bail!("--cert and --key are for https:// listeners, and no --listen starts with https://");
    }
    if args.workers == 0 {
        bail!("serve needs --workers of at least 1");
    }
    if args.poll_ms == 0 {
        bail!("serve needs --poll-ms of at least 1");
    }
    Ok(args)
}

/// `[http://|https://]ADDR:PORT[=GATEWAY_PORT]`.
fn listen(value: &str, tls: Option<&TlsFiles>) -> Result<Listen> {
    let (https, rest) = match value.split_once("://") {
        Some(("http", rest)) => (false, rest),
        Some(("https", rest)) => (true, rest),
        Some((scheme, _)) => bail!("--listen {value:?}: {scheme}:// is not http:// or https://"),
        None => (false, value),
    };
    let (socket_text, gateway_port) = match rest.split_once('=') {
        Some((socket_text, port)) => {
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .with_context(|| {
                    format!("--listen {value:?}: {port:?} is not a Gateway listener port")
                })?;
            (socket_text, Some(port))
        }
        None => (rest, None),
    };
    let address = socket(socket_text).with_context(|| {
        format!(
            "--listen {value:?} must be [https://]ADDR:PORT[=GATEWAY_PORT], e.g. 127.0.0.1:8080=80"
        )
    })?;
    let tls = match (https, tls) {
        (true, Some(files)) => Some(files.clone()),
        (true, None) => bail!("--listen {value:?} is HTTPS: pass --cert FILE and --key FILE"),
        (false, _) => None,
    };
    Ok(Listen {
        address,
        gateway_port,
        tls,
    })
}

fn socket(value: &str) -> Result<SocketAddr> {
    let value = value
        .strip_prefix("localhost:")
        .map_or_else(|| value.to_owned(), |port| format!("127.0.0.1:{port}"));
    value
        .parse()
        .with_context(|| format!("{value:?} is not an IP address and port"))
}

/// `KEY=HOST:PORT`.
fn upstream(value: &str) -> Result<UpstreamSpec> {
    let (key, address) = value.rsplit_once('=').with_context(|| {
        format!("--upstream {value:?} must be NAMESPACE/NAME:PORT=HOST:PORT (or CLUSTER=HOST:PORT)")
    })?;
    if key.is_empty() {
        bail!("--upstream {value:?}: name a backend NAMESPACE/NAME:PORT, a cluster, or *");
    }
    Ok(UpstreamSpec {
        key: key.to_owned(),
        address: Address::parse(address).with_context(|| format!("--upstream {value:?}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::Source;
    use crate::cli::{parse_from, Command};

    fn serve(args: &[&str]) -> anyhow::Result<super::ServeArgs> {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        match parse_from(all)? {
            Command::Serve(args) => Ok(args),
            other => anyhow::bail!("not serve: {other:?}"),
        }
    }

    #[test]
    fn listeners_upstreams_and_manifests() {
        let args = serve(&[
            "--config",
            "m.yaml",
            "--listen",
            "127.0.0.1:0=443",
            "--listen",
            "localhost:8080",
            "--upstream",
            "app/api-v1:8080=127.0.0.1:9001",
            "--admin",
            "127.0.0.1:0",
        ])
        .unwrap();
        assert_eq!(args.listeners[0].gateway_port, Some(443));
        assert_eq!(args.listeners[1].address.port(), 8080);
        assert_eq!(args.listeners[1].gateway_port, None);
        assert_eq!(args.upstreams[0].key, "app/api-v1:8080");
        assert_eq!(args.upstreams[0].address.port, 9001);
        assert!(matches!(args.source, Source::Manifests { .. }));
        assert_eq!(args.workers, 2);
    }

    #[test]
    fn another_module_takes_a_plugin_configuration() {
        let args = serve(&[
            "--wasm",
            "x.wasm",
            "--plugin-config",
            "@c.json",
            "--listen",
            "127.0.0.1:0",
        ])
        .unwrap();
        assert_eq!(args.source, Source::File("c.json".into()));
        let args = serve(&[
            "--wasm",
            "x.wasm",
            "--plugin-config",
            "{}",
            "--listen",
            "127.0.0.1:0",
        ])
        .unwrap();
        assert_eq!(args.source, Source::Inline(b"{}".to_vec()));
    }

    #[test]
    fn mistakes_name_the_flag() {
        let err = |args: &[&str]| serve(args).unwrap_err().to_string();
        assert!(err(&["--listen", "127.0.0.1:0"]).contains("--config"));
        assert!(err(&["--config", "m.yaml"]).contains("--listen"));
        assert!(err(&["--config", "m", "--listen", "nowhere"]).contains("--listen"));
        assert!(err(&["--config", "m", "--listen", "https://127.0.0.1:0"]).contains("--cert"));
        assert!(err(&[
            "--config",
            "m",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "x"
        ])
        .contains("--upstream"));
        assert!(err(&["--plugin-config", "{}", "--listen", "127.0.0.1:0"]).contains("--wasm"));
    }
}
