//! Command-line parsing: turns arguments into a validated [`Command`] without doing any I/O.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lexopt::prelude::*;

use crate::deploy::MeshTarget;
use crate::envoy::connection_manager::ConnectionManager;
use crate::request::RequestSpec;

mod deploy;
mod serve;

pub use deploy::{ConfigArgs, Format, PackageArgs};
pub use serve::{EchoArgs, Listen, ServeArgs, Source, TlsFiles, UpstreamSpec};

/// Printed for `--help` and on usage errors.
pub const USAGE: &str = "\
host-sim: run gatewasm.wasm with Envoy's proxy-wasm semantics

USAGE:
    host-sim route --config PATH --request 'METHOD URL' [-H 'Name: value']... [--port N]
                   [--client IP] [--gateway NAMESPACE/NAME | --namespace NS]
                   [--target clusterHeader|authority] [--ingress-class NAME] [--json]
                   [--wasm FILE]
                   [--path-normalization edge|base|merge-slashes|decode-and-merge-slashes|none]
    host-sim test [--verbose] [--ingress-class NAME] [--wasm FILE] CASE_FILE...
    host-sim check PATH [--output text|json] [--controller NAME]... [--ingress-class NAME]
                   [--target clusterHeader|authority]
    host-sim config PATH --format json|istio|envoy [--gateway NAMESPACE/NAME]
                   [--ingress-class NAME] [OPTIONS]
    host-sim migrate PATH [--verify] [--ingress-class NAME] [--watch-without-class]
                   [--gateway NAMESPACE/NAME] [--gateway-class NAME] [--wasm FILE]
    host-sim package --out DIR [--wasm FILE] [--tag TAG]
    host-sim bench [--rules N]... [--streams N] [--warmup N] [--seed N] [--json]
                   [--wasm FILE] [--floor FILE] [--configuration]
    host-sim bench --config PATH [--gateway NAMESPACE/NAME] [--requests CASE_FILE] [OPTIONS]
    host-sim serve --config PATH [--gateway NAMESPACE/NAME] --listen ADDR:PORT[=GATEWAY_PORT]...
                   --upstream NAMESPACE/NAME:PORT=HOST:PORT... [--admin ADDR:PORT] [--workers N]
                   [--wasm FILE] [--cert FILE --key FILE] [--poll-ms N] [--cluster-header NAME]
    host-sim serve --wasm FILE --plugin-config STRING|@FILE --listen ADDR:PORT...
                   --upstream CLUSTER|*=HOST:PORT... [OPTIONS]
    host-sim echo --listen ADDR:PORT [--name NAME]

COMMANDS:
    route   send one request through the filter and show where it went
    test    run case files; prints failures and `N passed, N failed`
    check   show the status a controller would give each object, then every problem with a fix;
            exits 1 when something is not fully accepted; --controller sets the controllerNames
            gatewasm runs under (default istio.io/gateway-controller); --target judges mesh
            routes in the target mode `config` writes (default clusterHeader)
    config  print the plugin configuration, Istio objects or an Envoy bootstrap
    migrate print the Gateway, HTTPRoutes and ReferenceGrants that replace the Ingresses in PATH,
            and on stderr every annotation they cannot express; --verify replays generated
            requests through the filter serving the Ingresses and serving the conversion, prints
            every request whose outcome differs, grouped by cause, and exits 1 when one does
    package write gatewasm.wasm as the OCI image Istio pulls: layout folder DIR and DIR.tar;
            prints the manifest digest (the WasmPlugin's sha256)
    bench   time gatewasm against the floor filter at 10 to 10,000 generated rules, or on
            your --config manifests with the requests of a case file (default: one request per
            route rule's first match); --configuration: sizes of the plain and compact
            configurations and their WasmPlugins, and on_configure with each, at 1,000 to
            50,000 rules
    serve   a local gateway on real sockets (for local runs and tests, not production): every
            request goes through the filter and on to the upstream its cluster names; the
            configuration is reloaded when it changes; https://ADDR:PORT listeners use --cert
            and --key; =GATEWAY_PORT is the port the filter sees (default: the bound one)
    echo    a backend answering every request with what it received, as JSON (for serve)

--config takes a YAML file or a folder of manifests, as `kubectl apply -f` does.
--ingress-class is the IngressClass whose Ingresses the filter serves (default: the only
ingress-nginx IngressClass in the manifests, else nginx); a case file's ingress_class wins.
--client is the client address Envoy reports (source.address; default 10.0.0.10).
--wasm runs another module instead of the one built from this workspace; any proxy-wasm module
(ABI 0.2.1) runs, with --plugin-config as its configuration instead of manifests.

config chooses the only Gateway in the manifests unless --gateway says otherwise; manifests
without a Gateway mean mesh (sidecar) mode. It writes the configuration compressed (zlib,
base64) when the plain document would be over 128 KiB; --compact or --plain decide instead.
It states the WasmPlugin's size against Kubernetes' limits, and with --format istio fails when
even the compact one is over etcd's 1.5 MiB. Options by format:
    json    --target clusterHeader|authority (mesh mode; default clusterHeader)
    istio   --image URL  --sha256 HEX | --package-dir DIR  --fail-strategy reload|close|open
            --namespace NS  --name NAME  --selector KEY=VALUE (mesh mode, repeatable)
            --target clusterHeader|authority (mesh mode; clusterHeader adds the route patch)
    envoy   --address NAMESPACE/NAME:PORT=HOST:PORT (repeatable; default: the Service's DNS name)
            --runtime v8|wamr|wasmtime  --module PATH  --admin HOST:PORT
            --tls-dir DIR | --plaintext-https  --upstream-ca FILE  --fail-strategy reload|close
            --path-normalization edge|base|merge-slashes|decode-and-merge-slashes|none
            --no-edge-limits (no use_remote_address, HTTP/2 limits or timeouts)
Exit status: 0 success, 1 a case failed, no route matched or check found a problem,
2 usage or configuration error (for check: unreadable manifests).";

/// What the user asked for.
#[derive(Debug)]
pub enum Command {
    /// `host-sim route`.
    Route(RouteArgs),
    /// `host-sim test`.
    Test(TestArgs),
    /// `host-sim check`.
    Check(CheckArgs),
    /// `host-sim bench`.
    Bench(BenchArgs),
    /// `host-sim config`.
    Config(ConfigArgs),
    /// `host-sim package`.
    Package(PackageArgs),
    /// `host-sim migrate`.
    Migrate(MigrateArgs),
    /// `host-sim serve`.
    Serve(ServeArgs),
    /// `host-sim echo`.
    Echo(EchoArgs),
    /// `--help`.
    Help,
}

/// Arguments of `host-sim route`.
#[derive(Debug)]
pub struct RouteArgs {
    /// Manifests, or a plugin configuration for another module (`--plugin-config`).
    pub config: Source,
    /// IngressClass to serve.
    pub ingress_class: Option<String>,
    /// Mesh mode: the namespace of the calling workload, whose sidecar runs the filter.
    pub namespace: Option<String>,
    /// Mesh mode: how decisions reach Envoy's router, as `config` writes it.
    pub target: MeshTarget,
    /// The request.
    pub request: RequestSpec,
    /// Print JSON.
    pub json: bool,
    /// Module to run.
    pub wasm: Option<PathBuf>,
    /// What the connection manager does to the request before the filter.
    pub connection_manager: ConnectionManager,
}

/// Arguments of `host-sim test`.
#[derive(Debug)]
pub struct TestArgs {
    /// Case files.
    pub files: Vec<PathBuf>,
    /// Print every case's outcome.
    pub verbose: bool,
    /// IngressClass to serve in files that do not name one.
    pub ingress_class: Option<String>,
    /// Module to run.
    pub wasm: Option<PathBuf>,
}

/// Arguments of `host-sim check`.
#[derive(Debug)]
pub struct CheckArgs {
    /// Manifests.
    pub path: PathBuf,
    /// Print JSON instead of text.
    pub json: bool,
    /// GatewayClass `controllerName`s gatewasm runs under.
    pub controllers: Vec<String>,
    /// IngressClass to serve.
    pub ingress_class: Option<String>,
    /// How mesh routes' decisions reach Envoy's router, as `config --target` writes it.
    pub target: MeshTarget,
}

/// Arguments of `host-sim migrate`.
#[derive(Debug)]
pub struct MigrateArgs {
    /// Manifests holding the Ingresses.
    pub path: PathBuf,
    /// Replay instead of printing the objects.
    pub verify: bool,
    /// Class, Gateway and its class.
    pub options: crate::migrate::Options,
    /// Module to run.
    pub wasm: Option<PathBuf>,
}

/// The controller gatewasm runs under unless `--controller` says otherwise: Istio's.
pub const DEFAULT_CONTROLLER: &str = "istio.io/gateway-controller";

/// Arguments of `host-sim bench`.
#[derive(Debug)]
pub struct BenchArgs {
    /// Route-set sizes (rules), in order.
    pub rules: Vec<usize>,
    /// Measured streams per filter per size.
    pub streams: usize,
    /// Unmeasured streams per filter per size, first.
    pub warmup: usize,
    /// Route-set and request-mix seed.
    pub seed: u64,
    /// Print JSON.
    pub json: bool,
    /// gatewasm module to run.
    pub wasm: Option<PathBuf>,
    /// Floor filter module to run.
    pub floor: Option<PathBuf>,
    /// A user's manifests instead of generated route sets.
    pub config: Option<PathBuf>,
    /// The Gateway to implement, with `config`.
    pub gateway: Option<String>,
    /// A case file whose requests are the mix, with `config`.
    pub requests: Option<PathBuf>,
    /// Measure the plugin configuration (sizes, forms, on_configure) instead of requests.
    pub configuration: bool,
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
        "check" => check(&mut parser).map(Command::Check),
        "config" => deploy::config(&mut parser).map(Command::Config),
        "package" => deploy::package(&mut parser).map(Command::Package),
        "bench" => bench(&mut parser).map(Command::Bench),
        "migrate" => migrate(&mut parser).map(Command::Migrate),
        "serve" => serve::serve(&mut parser).map(Command::Serve),
        "echo" => serve::echo(&mut parser).map(Command::Echo),
        other => bail!("unknown command {other:?} (host-sim --help lists them)"),
    }
}

fn route(parser: &mut lexopt::Parser) -> Result<RouteArgs> {
    let (mut config, mut gateway, mut request, mut json, mut wasm) =
        (None, None, None, false, None);
    let mut plugin_config = None;
    let (mut ingress_class, mut namespace) = (None, None);
    let mut target = MeshTarget::default();
    let mut spec = RequestSpec::default();
    let mut connection_manager = ConnectionManager::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("config") => config = Some(PathBuf::from(parser.value()?)),
            Long("namespace") => namespace = Some(parser.value()?.string()?),
            Long("target") => target = MeshTarget::parse(&parser.value()?.string()?)?,
            Long("plugin-config") => plugin_config = Some(parser.value()?.string()?),
            Long("gateway") => gateway = Some(parser.value()?.string()?),
            Long("ingress-class") => ingress_class = Some(parser.value()?.string()?),
            Long("client") => spec.client = Some(parser.value()?.string()?),
            Long("request") => request = Some(parser.value()?.string()?),
            Long("path-normalization") => {
                connection_manager = ConnectionManager::preset(&parser.value()?.string()?)?;
            }
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
    if namespace.is_some() && (gateway.is_some() || plugin_config.is_some()) {
        bail!(
            "--namespace runs the manifests in a sidecar: give it with --config, without --gateway"
        );
    }
    let config = match (config, plugin_config) {
        (None, Some(value)) if wasm.is_some() && gateway.is_none() => Source::plugin_config(value),
        (Some(path), None) => Source::Manifests { path, gateway },
        (None, Some(_)) => {
            bail!("--plugin-config is for another module: pass it with --wasm FILE, without --gateway")
        }
        (Some(_), Some(_)) => bail!("route takes --config PATH or --plugin-config, not both"),
        (None, None) => {
            bail!("route needs --config PATH (or --wasm FILE --plugin-config STRING|@FILE)")
        }
    };
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
        ingress_class,
        namespace,
        target,
        request: spec,
        json,
        wasm,
        connection_manager,
    })
}

fn test(parser: &mut lexopt::Parser) -> Result<TestArgs> {
    let mut args = TestArgs {
        files: Vec::new(),
        verbose: false,
        ingress_class: None,
        wasm: None,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Value(file) => args.files.push(PathBuf::from(file)),
            Long("verbose") | Short('v') => args.verbose = true,
            Long("ingress-class") => args.ingress_class = Some(parser.value()?.string()?),
            Long("wasm") => args.wasm = Some(PathBuf::from(parser.value()?)),
            other => return Err(other.unexpected().into()),
        }
    }
    if args.files.is_empty() {
        bail!("test needs at least one case file");
    }
    Ok(args)
}

fn check(parser: &mut lexopt::Parser) -> Result<CheckArgs> {
    let (mut path, mut json, mut controllers) = (None, false, Vec::new());
    let mut ingress_class = None;
    let mut target = MeshTarget::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Value(value) if path.is_none() => path = Some(PathBuf::from(value)),
            Long("target") => target = MeshTarget::parse(&parser.value()?.string()?)?,
            Long("output") | Short('o') => match parser.value()?.string()?.as_str() {
                "text" => json = false,
                "json" => json = true,
                other => bail!("unknown --output {other:?} (expected text or json)"),
            },
            Long("controller") => controllers.push(parser.value()?.string()?),
            Long("ingress-class") => ingress_class = Some(parser.value()?.string()?),
            other => return Err(other.unexpected().into()),
        }
    }
    if controllers.is_empty() {
        controllers.push(DEFAULT_CONTROLLER.to_owned());
    }
    Ok(CheckArgs {
        path: path.context("check needs a PATH to manifests")?,
        json,
        controllers,
        ingress_class,
        target,
    })
}

fn migrate(parser: &mut lexopt::Parser) -> Result<MigrateArgs> {
    let (mut path, mut verify, mut wasm) = (None, false, None);
    let mut options = crate::migrate::Options::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Value(value) if path.is_none() => path = Some(PathBuf::from(value)),
            Long("verify") => verify = true,
            Long("ingress-class") => options.class = Some(parser.value()?.string()?),
            Long("watch-without-class") => options.without_class = true,
            Long("gateway") => {
                let gateway = parser.value()?.string()?;
                if !gateway.contains('/') {
                    bail!("--gateway {gateway:?} must be NAMESPACE/NAME");
                }
                options.gateway = Some(gateway);
            }
            Long("gateway-class") => options.gateway_class = parser.value()?.string()?,
            Long("wasm") => wasm = Some(PathBuf::from(parser.value()?)),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(MigrateArgs {
        path: path.context("migrate needs a PATH to manifests")?,
        verify,
        options,
        wasm,
    })
}

fn bench(parser: &mut lexopt::Parser) -> Result<BenchArgs> {
    let mut args = BenchArgs {
        rules: Vec::new(),
        streams: 20_000,
        warmup: 2_000,
        seed: 5,
        json: false,
        wasm: None,
        floor: None,
        config: None,
        gateway: None,
        requests: None,
        configuration: false,
    };
    while let Some(arg) = parser.next()? {
        match arg {
            Long("rules") => args.rules.push(parser.value()?.parse()?),
            Long("streams") => args.streams = parser.value()?.parse()?,
            Long("warmup") => args.warmup = parser.value()?.parse()?,
            Long("seed") => args.seed = parser.value()?.parse()?,
            Long("json") => args.json = true,
            Long("wasm") => args.wasm = Some(PathBuf::from(parser.value()?)),
            Long("floor") => args.floor = Some(PathBuf::from(parser.value()?)),
            Long("config") => args.config = Some(PathBuf::from(parser.value()?)),
            Long("gateway") => args.gateway = Some(parser.value()?.string()?),
            Long("requests") => args.requests = Some(PathBuf::from(parser.value()?)),
            Long("configuration") => args.configuration = true,
            other => return Err(other.unexpected().into()),
        }
    }
    if args.config.is_some() && !args.rules.is_empty() {
        bail!("bench takes --config PATH (your routes) or --rules N (generated ones), not both");
    }
    if args.config.is_none() && (args.requests.is_some() || args.gateway.is_some()) {
        bail!("--requests and --gateway go with --config PATH");
    }
    if args.config.is_some() && args.configuration {
        bail!("bench --configuration measures generated route sets; it does not take --config");
    }
    if args.rules.is_empty() && args.configuration {
        args.rules = vec![1_000, 10_000, 50_000];
    } else if args.rules.is_empty() {
        args.rules = vec![10, 100, 1_000, 10_000];
    }
    if args.streams == 0 {
        bail!("bench needs --streams of at least 1");
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
    fn bench_defaults_to_four_sizes() {
        let Command::Bench(args) = parse_from(["bench", "--json"]).unwrap() else {
            panic!("not a bench command")
        };
        assert_eq!(args.rules, [10, 100, 1_000, 10_000]);
        assert!(args.json);
        let Command::Bench(args) = parse_from(["bench", "--rules", "50", "--rules", "7"]).unwrap()
        else {
            panic!("not a bench command")
        };
        assert_eq!(args.rules, [50, 7]);
        assert!(parse_from(["bench", "--streams", "0"]).is_err());
    }

    #[test]
    fn check_reads_output_and_controllers() {
        let Command::Check(args) = parse_from(["check", "m.yaml"]).unwrap() else {
            panic!("not a check command")
        };
        assert!(!args.json);
        assert_eq!(args.controllers, [super::DEFAULT_CONTROLLER]);
        let Command::Check(args) = parse_from([
            "check",
            "--output",
            "json",
            "dir",
            "--controller",
            "a/b",
            "--controller",
            "c/d",
        ])
        .unwrap() else {
            panic!("not a check command")
        };
        assert!(args.json);
        assert_eq!(args.path.to_str(), Some("dir"));
        assert_eq!(args.controllers, ["a/b", "c/d"]);
        assert!(parse_from(["check"])
            .unwrap_err()
            .to_string()
            .contains("PATH"));
        assert!(parse_from(["check", "m.yaml", "--output", "yaml"]).is_err());
        assert!(parse_from(["check", "a.yaml", "b.yaml"]).is_err());
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
