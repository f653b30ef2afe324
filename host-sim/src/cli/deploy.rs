//! Parsing of `host-sim config` and `host-sim package`: flags in, validated arguments out, no
//! I/O (reading `--package-dir` is the command's job).
//!
//! Every flag belongs to some formats; a flag given with a format it does not apply to is an
//! error rather than silently ignored.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lexopt::prelude::*;

use crate::deploy::envoy::{Address, EnvoyOptions, Runtime, Tls};
use crate::deploy::istio::IstioOptions;
use crate::deploy::FailStrategy;

/// What `host-sim config` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The plugin configuration JSON.
    Json,
    /// A WasmPlugin, plus the EnvoyFilter route patch in gateway mode.
    Istio,
    /// A static Envoy bootstrap.
    Envoy,
}

/// Arguments of `host-sim config`.
#[derive(Debug)]
pub struct ConfigArgs {
    /// Manifests.
    pub config: PathBuf,
    /// Gateway to implement; `None` takes the only one, or mesh mode when there is none.
    pub gateway: Option<String>,
    /// IngressClass to serve.
    pub ingress_class: Option<String>,
    /// Output format.
    pub format: Format,
    /// `--format envoy` choices.
    pub envoy: EnvoyOptions,
    /// `--format istio` choices.
    pub istio: IstioOptions,
    /// An OCI layout written by `host-sim package`, whose manifest digest becomes `sha256`.
    pub package_dir: Option<PathBuf>,
}

/// Arguments of `host-sim package`.
#[derive(Debug)]
pub struct PackageArgs {
    /// Module to package; the workspace's build by default.
    pub wasm: Option<PathBuf>,
    /// The OCI layout folder; the tarball is written beside it as `<DIR>.tar`.
    pub out: PathBuf,
    /// Tag recorded in the layout's index.
    pub tag: String,
}

impl PackageArgs {
    /// `<out>.tar`, beside the layout folder.
    pub fn tarball(&self) -> PathBuf {
        let mut name = self.out.file_name().unwrap_or_default().to_os_string();
        name.push(".tar");
        self.out.with_file_name(name)
    }
}

pub(super) fn config(parser: &mut lexopt::Parser) -> Result<ConfigArgs> {
    let (mut config, mut gateway, mut format) = (None, None, None);
    let mut ingress_class = None;
    let mut envoy = EnvoyOptions::default();
    let mut istio = IstioOptions::default();
    let mut package_dir = None;
    // Flags given, with the formats each applies to, checked once the format is known.
    let mut given: Vec<(&'static str, &'static [Format])> = Vec::new();
    const ISTIO: &[Format] = &[Format::Istio];
    const ENVOY: &[Format] = &[Format::Envoy];
    while let Some(arg) = parser.next()? {
        match arg {
            Value(path) if config.is_none() => config = Some(PathBuf::from(path)),
            Long("config") => config = Some(PathBuf::from(parser.value()?)),
            Long("gateway") => gateway = Some(parser.value()?.string()?),
            Long("ingress-class") => ingress_class = Some(parser.value()?.string()?),
            Long("format") => {
                format = Some(match parser.value()?.string()?.as_str() {
                    "json" => Format::Json,
                    "istio" => Format::Istio,
                    "envoy" => Format::Envoy,
                    other => bail!("unknown --format {other:?} (expected json, istio or envoy)"),
                });
            }
            Long("fail-strategy") => {
                let fail = FailStrategy::parse(&parser.value()?.string()?)?;
                (envoy.fail, istio.fail) = (fail, fail);
                given.push(("--fail-strategy", &[Format::Istio, Format::Envoy]));
            }
            Long("image") => {
                istio.image = parser.value()?.string()?;
                given.push(("--image", ISTIO));
            }
            Long("sha256") => {
                istio.sha256 = Some(parser.value()?.string()?);
                given.push(("--sha256", ISTIO));
            }
            Long("package-dir") => {
                package_dir = Some(PathBuf::from(parser.value()?));
                given.push(("--package-dir", ISTIO));
            }
            Long("name") => {
                istio.name = parser.value()?.string()?;
                given.push(("--name", ISTIO));
            }
            Long("namespace") => {
                istio.namespace = Some(parser.value()?.string()?);
                given.push(("--namespace", ISTIO));
            }
            Long("selector") => {
                let label = parser.value()?.string()?;
                let (key, value) = label
                    .split_once('=')
                    .with_context(|| format!("--selector {label:?} must be KEY=VALUE"))?;
                istio.selector.insert(key.to_owned(), value.to_owned());
                given.push(("--selector", ISTIO));
            }
            Long("runtime") => {
                envoy.runtime = Runtime::parse(&parser.value()?.string()?)?;
                given.push(("--runtime", ENVOY));
            }
            Long("module") => {
                envoy.module = parser.value()?.string()?;
                given.push(("--module", ENVOY));
            }
            Long("address") => {
                let mapping = parser.value()?.string()?;
                let (key, address) = mapping.split_once('=').with_context(|| {
                    format!("--address {mapping:?} must be NAMESPACE/NAME:PORT=HOST:PORT")
                })?;
                if !key.contains('/') || !key.contains(':') {
                    bail!("--address {mapping:?}: {key:?} must be NAMESPACE/NAME:PORT");
                }
                envoy
                    .addresses
                    .insert(key.to_owned(), Address::parse(address)?);
                given.push(("--address", ENVOY));
            }
            Long("admin") => {
                envoy.admin = Address::parse(&parser.value()?.string()?)?;
                given.push(("--admin", ENVOY));
            }
            Long("tls-dir") => {
                envoy.tls = Tls::Files(parser.value()?.string()?);
                given.push(("--tls-dir", ENVOY));
            }
            Long("plaintext-https") => {
                envoy.tls = Tls::Plaintext;
                given.push(("--plaintext-https", ENVOY));
            }
            other => return Err(other.unexpected().into()),
        }
    }
    let config = config.context("config needs the manifests: host-sim config PATH --format ...")?;
    let format = format.context("config needs --format json, istio or envoy")?;
    for (flag, formats) in &given {
        if !formats.contains(&format) {
            let names: Vec<_> = formats
                .iter()
                .map(|f| format!("--format {}", format_name(*f)))
                .collect();
            bail!("{flag} applies to {} only", names.join(" and "));
        }
    }
    if package_dir.is_some() && istio.sha256.is_some() {
        bail!("give --package-dir or --sha256, not both");
    }
    if given.iter().any(|(f, _)| *f == "--tls-dir")
        && given.iter().any(|(f, _)| *f == "--plaintext-https")
    {
        bail!("give --tls-dir or --plaintext-https, not both");
    }
    Ok(ConfigArgs {
        config,
        gateway,
        ingress_class,
        format,
        envoy,
        istio,
        package_dir,
    })
}

pub(super) fn package(parser: &mut lexopt::Parser) -> Result<PackageArgs> {
    let (mut wasm, mut out) = (None, None);
    let mut tag = env!("CARGO_PKG_VERSION").to_owned();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("wasm") => wasm = Some(PathBuf::from(parser.value()?)),
            Long("out") => out = Some(PathBuf::from(parser.value()?)),
            Long("tag") => tag = parser.value()?.string()?,
            other => return Err(other.unexpected().into()),
        }
    }
    let out = out.context("package needs --out DIR (the OCI image layout folder to write)")?;
    if out.file_name().is_none() {
        bail!("--out {} must name a folder", out.display());
    }
    Ok(PackageArgs { wasm, out, tag })
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Json => "json",
        Format::Istio => "istio",
        Format::Envoy => "envoy",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::cli::{parse_from, Command};
    use crate::deploy::envoy::Tls;
    use crate::deploy::FailStrategy;

    use super::Format;

    #[test]
    fn config_reads_every_envoy_flag() {
        let Command::Config(args) = parse_from([
            "config",
            "m.yaml",
            "--format",
            "envoy",
            "--address",
            "app/api:8080=api:80",
            "--fail-strategy",
            "close",
            "--plaintext-https",
            "--admin",
            "0.0.0.0:9901",
        ])
        .unwrap() else {
            panic!("not a config command")
        };
        assert_eq!(args.format, Format::Envoy);
        assert_eq!(args.config, Path::new("m.yaml"));
        assert_eq!(args.envoy.addresses["app/api:8080"].port, 80);
        assert_eq!(args.envoy.fail, FailStrategy::Close);
        assert_eq!(args.envoy.tls, Tls::Plaintext);
        assert_eq!(args.envoy.admin.host, "0.0.0.0");
    }

    #[test]
    fn flags_of_another_format_are_refused() {
        let err =
            parse_from(["config", "m.yaml", "--format", "json", "--image", "oci://x"]).unwrap_err();
        assert_eq!(err.to_string(), "--image applies to --format istio only");
        let err = parse_from([
            "config",
            "m.yaml",
            "--format",
            "istio",
            "--address",
            "a/b:1=c:2",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--format envoy"), "{err}");
        assert!(parse_from(["config", "m.yaml"]).is_err());
        assert!(parse_from(["config", "--format", "json"]).is_err());
        assert!(parse_from(["config", "m.yaml", "--format", "yaml"]).is_err());
        assert!(parse_from([
            "config",
            "m.yaml",
            "--format",
            "istio",
            "--sha256",
            "x",
            "--package-dir",
            "d"
        ])
        .is_err());
    }

    #[test]
    fn package_writes_a_tarball_beside_the_folder() {
        let Command::Package(args) = parse_from(["package", "--out", "dist/oci"]).unwrap() else {
            panic!("not a package command")
        };
        assert_eq!(args.tarball(), Path::new("dist/oci.tar"));
        assert_eq!(args.tag, env!("CARGO_PKG_VERSION"));
        assert!(parse_from(["package"]).is_err());
    }
}
