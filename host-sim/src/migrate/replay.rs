//! Proof by replay: the same requests through the real `.wasm` twice, once serving the Ingresses
//! and once serving their conversion, and every request whose outcome differs.
//!
//! An outcome is what a client and a backend can tell apart: the status, the backend (or the
//! split between backends over many requests), the upstream path and authority, the headers the
//! filter set or removed, and the headers the client receives (`Location` included). Which route
//! or rule answered is not compared: the two configurations name them differently by design.
//! Which probes to send is [`super::probes`]'s business; why a difference exists is
//! [`super::explain`]'s.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result};

use crate::cases::RANDOM_SEED;
use crate::envoy::{PluginOptions, Proxy, WasmModule};
use crate::observe::Observed;

use super::probes::Probe;

/// Requests sent per side for a probe whose outcome varies (a weight split, a sticky choice).
pub const SPLIT_REQUESTS: u32 = 1000;
/// Requests sent per side to find out whether a probe's outcome varies at all.
const VARIATION_REQUESTS: u32 = 16;
/// Largest difference between two shares of one outcome that still counts as the same split.
pub const SPLIT_TOLERANCE: f64 = 0.05;

/// What one side did with one probe: each distinct outcome and its share of the requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcomes {
    /// Outcome → share (0..=1), in outcome order.
    pub shares: BTreeMap<Outcome, f64>,
    /// The observation of the first request (for naming the Ingress that served it).
    pub first: Observed,
}

/// The comparable part of an [`Observed`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outcome {
    /// 200 when forwarded, else the local reply's status.
    pub status: u32,
    /// `namespace/name:port` of the backend.
    pub backend: Option<String>,
    /// Upstream `:path`.
    pub path: Option<String>,
    /// Upstream `:authority`, when the filter changed it.
    pub authority: Option<String>,
    /// Headers the filter set on the request (the routing header left out: the backend says it).
    pub set: Vec<(String, String)>,
    /// Headers the filter removed from the request.
    pub removed: Vec<String>,
    /// Headers the client receives.
    pub response: Vec<(String, String)>,
}

impl Outcome {
    fn new(o: &Observed, cluster_header: &str) -> Self {
        Self {
            status: o.status,
            backend: o.backend.clone(),
            path: o.upstream_header(":path").map(str::to_owned),
            authority: o
                .changed
                .iter()
                .find(|(name, _)| name == ":authority")
                .map(|(_, value)| value.clone()),
            set: o
                .changed
                .iter()
                .filter(|(name, _)| !matches!(name.as_str(), ":path" | ":authority"))
                .filter(|(name, _)| name != cluster_header)
                .cloned()
                .collect(),
            removed: o.removed.clone(),
            response: o
                .response_headers
                .iter()
                .filter(|(name, _)| !name.starts_with(':'))
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        }
    }

    /// The outcome in one line: `200 app/api-v1:8080 /api/x`, then what else happened.
    pub fn summary(&self) -> String {
        let mut line = self.status.to_string();
        if let Some(backend) = &self.backend {
            let _ = write!(line, " {backend}");
        }
        if let Some(path) = &self.path {
            let _ = write!(line, " {path}");
        }
        if let Some(authority) = &self.authority {
            let _ = write!(line, " authority={authority}");
        }
        for (name, value) in &self.set {
            let _ = write!(line, " +{name}: {value}");
        }
        for name in &self.removed {
            let _ = write!(line, " -{name}");
        }
        for (name, value) in &self.response {
            let _ = write!(line, " <{name}: {value}");
        }
        line
    }
}

/// A probe whose outcomes differ between the Ingresses and their conversion.
#[derive(Clone, Debug)]
pub struct Difference {
    /// Index of the probe.
    pub probe: usize,
    /// What ingress-nginx's semantics gave (the filter serving the Ingresses).
    pub ingress: Outcomes,
    /// What the converted Gateway API objects gave.
    pub converted: Outcomes,
}

/// One side of the replay: the filter running one configuration.
pub struct Side {
    proxy: Proxy,
    cluster_header: String,
}

impl Side {
    /// Starts the filter with a plugin configuration.
    ///
    /// # Errors
    ///
    /// When the filter refuses the configuration; `what` names it in the message.
    pub fn start(module: &WasmModule, configuration: Vec<u8>, what: &str) -> Result<Self> {
        let options = PluginOptions {
            configuration,
            random_seed: RANDOM_SEED,
            ..PluginOptions::default()
        };
        let proxy = Proxy::start(module, options)
            .map_err(|e| anyhow::anyhow!("the filter refused {what}: {e}"))?;
        Ok(Self {
            proxy,
            cluster_header: gatewasm_core::DEFAULT_CLUSTER_HEADER.to_owned(),
        })
    }

    fn observe(&mut self, probe: &Probe, requests: u32) -> Result<Outcomes> {
        let spec = &probe.request;
        let request = spec
            .build()
            .with_context(|| format!("probe {} {}", spec.method, spec.url))?;
        let mut counts: BTreeMap<Outcome, u32> = BTreeMap::new();
        let mut first = None;
        for _ in 0..requests.max(1) {
            let observed =
                Observed::new(&request, &self.proxy.stream(&request), &self.cluster_header);
            *counts
                .entry(Outcome::new(&observed, &self.cluster_header))
                .or_default() += 1;
            first.get_or_insert(observed);
        }
        let total = f64::from(requests.max(1));
        Ok(Outcomes {
            shares: counts
                .into_iter()
                .map(|(outcome, n)| (outcome, f64::from(n) / total))
                .collect(),
            first: first.unwrap_or_default(),
        })
    }
}

/// Sends every probe through both sides and returns the probes whose outcomes differ.
///
/// A probe is sent a few times first; when either side's outcome varies (or the probe expects a
/// split) it is sent [`SPLIT_REQUESTS`] times and the shares are compared within
/// [`SPLIT_TOLERANCE`].
///
/// # Errors
///
/// When a probe's request cannot be built.
pub fn replay(
    ingress: &mut Side,
    converted: &mut Side,
    probes: &[Probe],
) -> Result<Vec<Difference>> {
    let mut differences = Vec::new();
    for (index, probe) in probes.iter().enumerate() {
        let mut a = ingress.observe(probe, VARIATION_REQUESTS)?;
        let mut b = converted.observe(probe, VARIATION_REQUESTS)?;
        if probe.split || a.shares.len() > 1 || b.shares.len() > 1 {
            a = ingress.observe(probe, SPLIT_REQUESTS)?;
            b = converted.observe(probe, SPLIT_REQUESTS)?;
        }
        if !same(&a, &b) {
            differences.push(Difference {
                probe: index,
                ingress: a,
                converted: b,
            });
        }
    }
    Ok(differences)
}

/// The same outcomes with shares within tolerance of each other.
fn same(a: &Outcomes, b: &Outcomes) -> bool {
    let share = |o: &Outcomes, key: &Outcome| o.shares.get(key).copied().unwrap_or(0.0);
    a.shares
        .keys()
        .chain(b.shares.keys())
        .all(|key| (share(a, key) - share(b, key)).abs() <= SPLIT_TOLERANCE)
}
