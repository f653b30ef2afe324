//! Command-line parsing: turns arguments into a validated [`Command`] without doing any I/O.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lexopt::prelude::*;

use crate::request::RequestSpec;

mod deploy;

pub use deploy::{ConfigArgs, Format, PackageArgs};

/// Printed for `--help` and on usage errors.
pub const USAGE: &str = "\
host-sim: run gatewasm.wasm with Envoy's proxy-wasm semantics

USAGE:
    host-sim route --config PATH --request 'METHOD URL' [-H 'Name: value']... [--port N]
                   [--gateway NAMESPACE/NAME] [--json] [--wasm FILE]
    host-sim test [--verbose] [--wasm FILE] CASE_FILE...
    host-sim config PATH --format json|istio|envoy [--gateway NAMESPACE/NAME] [OPTIONS]
    host-sim package --out DIR [--wasm FILE] [--tag TAG]

COMMANDS:
    route   send one request through the filter and show where it went
    test    run case files; prints failures and `N passed, N failed`
    config  print the plugin configuration, Istio objects or an Envoy bootstrap
    package write gatewasm.wasm as the OCI image Istio pulls: layout folder DIR and DIR.tar;
            prints the manifest digest (the WasmPlugin's sha256)

--config takes a YAML file or a folder of manifests, as `kubectl apply -f` does.
--wasm runs another module instead of the one built from this workspace.

config chooses the only Gateway in the manifests unless --gateway says otherwise; manifests
without a Gateway mean mesh (sidecar) mode. Options by format:
    istio   --image URL  --sha256 HEX | --package-dir DIR  --fail-strategy reload|close|open
            --namespace NS  --name NAME  --selector KEY=VALUE (mesh mode, repeatable)
    envoy   --address NAMESPACE/NAME:PORT=HOST:PORT (repeatable; default: the Service's DNS name)
            --runtime v8|wamr|wasmtime  --module PATH  --admin HOST:PORT
            --tls-dir DIR | --plaintext-https  --fail-strategy reload|close
Exit status: 0 success, 1 a case failed or no route matched, 2 usage or configuration error.";

/// What the user asked for.
#[derive(Debug)]
pub enum Command {
    /// `host-sim route`.
    Route(RouteArgs),
    /// `host-sim test`.
    Test(TestArgs),
    /// `host-sim config`.
    Config(ConfigArgs),
    /// `host-sim package`.
    Package(PackageArgs),
    /// `--help`.
    Help,
}

/// Arguments of `host-sim route`.
#[derive(Debug)]
pub struct RouteArgs {
    /// Manifests.
    pub config: PathBuf,
    /// Gateway to implement.
    pub gateway: Option<String>,
    /// The request.
    pub request: RequestSpec,
    /// Print JSON.
    pub json: bool,
    /// Module to run.
    pub wasm: Option<PathBuf>,
}

/// Arguments of `host-sim test`.
#[derive(Debug)]
pub struct TestArgs {
    /// Case files.
    pub files: Vec<PathBuf>,
    /// Print every case's outcome.
    pub verbose: bool,
    /// Module to run.
    pub wasm: Option<PathBuf>,
}

/// Parses `std::env::args`.
///
/// # Errors
///
/// On unknown flags, missing values or a missing subcommand.
pub fn parse() -> Result<Command> {
    parse_from(std::env::args_os().skip(1))
}

/// Parses an argument list (without the program name).
///
/// # Errors
///
/// On unknown flags, missing values or a missing subcommand.
pub fn parse_from<I>(args: I) -> Result<Command>
where
    I: IntoIterator,
    I::Item: Into<std::ffi::OsString>,
{
    let mut parser = lexopt::Parser::from_args(args);
    let command = match parser.next()? {
        Some(Value(cmd)) => cmd.string()?,
        Some(Long("help") | Short('h')) | None => return Ok(Command::Help),
        Some(other) => return Err(other.unexpected().into()),
    };
    match command.as_str() {
        "route" => route(&mut parser).map(Command::Route),
        "test" => test(&mut parser).map(Command::Test),
        "config" => deploy::config(&mut parser).map(Command::Config),
        "package" => deploy::package(&mut parser).map(Command::Package),
        other => bail!("unknown command {other:?} (host-sim --help lists them)"),
    }
}

fn route(parser: &mut lexopt::Parser) -> Result<RouteArgs> {
    let (mut config, mut gateway, mut request, mut json, mut wasm) =
        (None, None, None, false, None);
    let mut spec = RequestSpec::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("config") => config = Some(PathBuf::from(parser.value()?)),
            Long("gateway") => gateway = Some(parser.value()?.string()?),
            Long("request") => request = Some(parser.value()?.string()?),
            Short('H') | Long("header") => {
                let header = parser.value()?.string()?;
                let (name, value) = header
                    .split_once(':')
                    .with_context(|| format!("header {header:?} must look like 'Name: value'"))?;
                spec.headers
                    .push((name.trim().to_owned(), value.trim().to_owned()));
            }
            Long("port") => spec.port = Some(parser.value()?.parse()?),
            Long("json") => json = true,
            Long("wasm") => wasm = Some(PathBuf::from(parser.value()?)),
            other => return Err(other.unexpected().into()),
        }
    }
    let config = config.context("route needs --config PATH")?;
    let request = request.context("route needs --request 'METHOD URL'")?;
    match request.split_once(' ') {
        Some((method, url)) => {
            spec.method = method.to_ascii_uppercase();
            spec.url = url.trim().to_owned();
        }
        None => spec.url = request,
    }
    Ok(RouteArgs {
        config,
        gateway,
        request: spec,
        json,
        wasm,
    })
}

fn test(parser: &mut lexopt::Parser) -> Result<TestArgs> {
    let mut args = TestArgs {
        files: Vec::new(),
        verbose: false,
        wasm: None,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Value(file) => args.files.push(PathBuf::from(file)),
            Long("verbose") | Short('v') => args.verbose = true,
            Long("wasm") => args.wasm = Some(PathBuf::from(parser.value()?)),
            other => return Err(other.unexpected().into()),
        }
    }
    if args.files.is_empty() {
        bail!("test needs at least one case file");
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::{parse_from, Command};

    #[test]
    fn route_reads_method_url_and_headers() {
        let Command::Route(args) = parse_from([
            "route",
            "--config",
            "m.yaml",
            "--request",
            "post https://a.com/x",
            "-H",
            "X-Canary: true",
            "--json",
        ])
        .unwrap() else {
            panic!("not a route command")
        };
        assert_eq!(args.request.method, "POST");
        assert_eq!(args.request.url, "https://a.com/x");
        assert_eq!(
            args.request.headers,
            [("X-Canary".to_owned(), "true".to_owned())]
        );
        assert!(args.json);
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(parse_from(["route", "--request", "GET http://a/"])
            .unwrap_err()
            .to_string()
            .contains("--config"));
        assert!(parse_from(["test"]).is_err());
        assert!(parse_from(["frobnicate"])
            .unwrap_err()
            .to_string()
            .contains("unknown command"));
        assert!(parse_from(["test", "--nope", "x"]).is_err());
        assert!(matches!(
            parse_from(Vec::<String>::new()).unwrap(),
            Command::Help
        ));
    }
}
