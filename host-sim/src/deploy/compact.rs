//! The compact plugin configuration, and what generated documents weigh against the limits of
//! Kubernetes.
//!
//! The compact form is the plain JSON compressed with zlib and carried as base64 in a small JSON
//! object (`{"compressed": "zlib", "size": N, "data": "..."}`), which the filter expands in
//! `on_configure` (`gatewasm_core::config`'s `compact` module reads it). `config` writes it when
//! asked to (`--compact`), or by itself when the plain document would be larger than
//! [`COMPACT_ABOVE`]. zlib because the filter's inflater costs 18 KiB of the module where a zstd
//! decoder costs 87 KiB and decodes 14× slower, and zlib's ratio already fits 50,000 rules in a
//! WasmPlugin (BENCHMARKS.md). Generating the documents is `deploy`'s; printing sizes and failing
//! is `cmd::config`'s and `cmd::check`'s.

use std::io::Write as _;

use anyhow::Result;
use base64::Engine as _;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use gatewasm_core::config::COMPRESSED_FORMAT;
use gatewasm_core::Problem;
use serde::Serialize;
use serde_norway::Value as Yaml;

use super::{istio, MeshTarget, Plan};
use crate::manifests::Manifests;

/// etcd's default limit on one stored object (`--max-request-bytes`), 1.5 MiB.
pub const ETCD_OBJECT_LIMIT: usize = 1_572_864;

/// The API server's limit on one request body, 3 MiB.
pub const API_REQUEST_LIMIT: usize = 3 << 20;

/// The limit on an object's annotations, which client-side `kubectl apply` fills with a copy of
/// the whole object (`kubectl.kubernetes.io/last-applied-configuration`), 256 KiB.
pub const LAST_APPLIED_LIMIT: usize = 256 << 10;

/// `config` writes the compact form by itself when the plain document is larger than this, half
/// of what client-side `kubectl apply` can store.
pub const COMPACT_ABOVE: usize = 128 << 10;

/// Which form of the plugin configuration `config` writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConfigForm {
    /// Compact when the plain document would be larger than [`COMPACT_ABOVE`].
    #[default]
    Auto,
    /// Always the plain JSON (`--plain`).
    Plain,
    /// Always the compact form (`--compact`).
    Compact,
}

/// The compact form of a plain configuration's JSON text.
///
/// # Errors
///
/// Never in practice: compression writes to memory.
pub fn compact(plain: &[u8]) -> Result<Yaml> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(plain)?;
    let zlib = encoder.finish()?;
    Ok(map! {
        "compressed" => COMPRESSED_FORMAT,
        "size" => plain.len() as u64,
        "data" => base64::engine::general_purpose::STANDARD.encode(zlib),
    })
}

/// What the WasmPlugin for one Gateway (or for the mesh) weighs, in both forms.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SizeReport {
    /// `Gateway namespace/name`, or `mesh` for sidecars.
    pub object: String,
    /// The plugin configuration as minified JSON, bytes.
    pub plain_config: usize,
    /// Its compact form as JSON, bytes.
    pub compact_config: usize,
    /// The WasmPlugin YAML with the plain configuration, bytes.
    pub plain_wasm_plugin: usize,
    /// The WasmPlugin YAML with the compact configuration, bytes.
    pub compact_wasm_plugin: usize,
}

impl SizeReport {
    /// Measures the WasmPlugin of `plan` in both forms, with `config --format istio`'s defaults.
    ///
    /// # Errors
    ///
    /// When the WasmPlugin cannot be generated (mesh routes in several namespaces, say).
    pub fn measure(plan: &Plan) -> Result<Self> {
        let object = match &plan.mode {
            super::Mode::Gateway { namespace, name } => format!("Gateway {namespace}/{name}"),
            super::Mode::Mesh => "mesh".to_owned(),
        };
        let plugin_size = |plan: &Plan| -> Result<usize> {
            let generated = istio::objects(plan, &istio::IstioOptions::default())?;
            let plugin = generated.documents.first().map(serde_norway::to_string);
            Ok(plugin.transpose()?.map_or(0, |text| text.len()))
        };
        let mut plan = plan.clone();
        plan.compact = false;
        let plain_wasm_plugin = plugin_size(&plan)?;
        plan.compact = true;
        let compact_wasm_plugin = plugin_size(&plan)?;
        Ok(Self {
            object,
            plain_config: serde_json::to_vec(&plan.plugin_config)?.len(),
            compact_config: serde_json::to_vec(&plan.delivered_config()?)?.len(),
            plain_wasm_plugin,
            compact_wasm_plugin,
        })
    }

    /// One line for people: both sizes, and whether each fits.
    pub fn statement(&self) -> String {
        format!(
            "{}: WasmPlugin {} with the compact configuration ({} of JSON as {}), {} with the \
             plain one; {}",
            self.object,
            human(self.compact_wasm_plugin),
            human(self.plain_config),
            human(self.compact_config),
            human(self.plain_wasm_plugin),
            verdict(self.plain_wasm_plugin, self.compact_wasm_plugin),
        )
    }

    /// An error when even the compact WasmPlugin is over etcd's limit.
    pub fn problem(&self) -> Option<Problem> {
        (self.compact_wasm_plugin > ETCD_OBJECT_LIMIT).then(|| {
            Problem::error(
                self.object.clone(),
                "",
                format!(
                    "its WasmPlugin is {} even with the compact configuration, over etcd's {} \
                     limit per object, so Kubernetes refuses it",
                    human(self.compact_wasm_plugin),
                    human(ETCD_OBJECT_LIMIT),
                ),
            )
            .with_hint(TOO_LARGE_FIX)
        })
    }
}

/// What to do when even the compact form is too large for Kubernetes.
pub const TOO_LARGE_FIX: &str = "split the routes over several Gateways (each gets a WasmPlugin \
     of its own), or raise etcd's --max-request-bytes (the API server still refuses requests \
     over 3 MiB), or run Envoy from a bootstrap (`--format envoy`), which has no such limit";

/// The sizes of every WasmPlugin `config --format istio` would write for the manifests: one per
/// Gateway, or the mesh's when there is no Gateway.
///
/// # Errors
///
/// When a configuration cannot be compiled at all.
pub fn size_reports(manifests: &Manifests) -> Result<Vec<SizeReport>> {
    let gateways = manifests.gateways();
    let keys: Vec<Option<&str>> = if gateways.is_empty() {
        vec![None]
    } else {
        gateways.iter().map(|g| Some(g.as_str())).collect()
    };
    let mut reports = Vec::new();
    for key in keys {
        let plan = Plan::new(manifests, key, MeshTarget::default())?;
        // A mesh WasmPlugin needs one namespace; without one there is nothing to measure.
        if let Ok(report) = SizeReport::measure(&plan) {
            reports.push(report);
        }
    }
    Ok(reports)
}

/// What `check` says about sizes: a note per WasmPlugin too large for its plain form, and an
/// error per WasmPlugin too large even in its compact form.
///
/// # Errors
///
/// When a configuration cannot be compiled at all.
pub fn check_findings(manifests: &Manifests) -> Result<(Vec<String>, Vec<Problem>)> {
    let reports = size_reports(manifests)?;
    let notes = reports
        .iter()
        .filter(|r| r.plain_wasm_plugin > COMPACT_ABOVE)
        .map(|r| format!("size: {}", r.statement()))
        .collect();
    let problems = reports.iter().filter_map(SizeReport::problem).collect();
    Ok((notes, problems))
}

/// Where a WasmPlugin of `plain` bytes, `compact` with the compact form, stands.
fn verdict(plain: usize, compact: usize) -> String {
    let limits = format!(
        "Kubernetes stores objects up to {} (etcd) and takes requests up to {} (API server)",
        human(ETCD_OBJECT_LIMIT),
        human(API_REQUEST_LIMIT)
    );
    if compact > ETCD_OBJECT_LIMIT {
        format!("both are too large: {limits}")
    } else if plain > ETCD_OBJECT_LIMIT {
        format!("only the compact one fits: {limits}")
    } else if plain > LAST_APPLIED_LIMIT {
        format!(
            "both fit ({limits}), but the plain one is over the {} client-side `kubectl apply` \
             can record: use `kubectl apply --server-side`",
            human(LAST_APPLIED_LIMIT)
        )
    } else {
        format!("both fit: {limits}")
    }
}

/// Bytes as people read them: `812 B`, `94.3 KiB`, `3.96 MiB`.
pub fn human(bytes: usize) -> String {
    let value = bytes as f64;
    if bytes < 1 << 10 {
        format!("{bytes} B")
    } else if bytes < 1 << 20 {
        format!("{:.1} KiB", value / 1024.0)
    } else {
        format!("{:.2} MiB", value / f64::from(1u32 << 20))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use base64::Engine as _;

    use super::{compact, human, verdict, SizeReport, ETCD_OBJECT_LIMIT};
    use crate::deploy::{MeshTarget, Plan};
    use crate::manifests::Manifests;

    #[test]
    fn the_compact_form_carries_the_plain_bytes() {
        let plain = br#"{"gateway":"infra/gw","resources":[]}"#;
        let value = serde_json::to_value(compact(plain).unwrap()).unwrap();
        assert_eq!(value["compressed"], "zlib");
        assert_eq!(value["size"], plain.len());
        let zlib = base64::engine::general_purpose::STANDARD
            .decode(value["data"].as_str().unwrap())
            .unwrap();
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(zlib.as_slice())
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, plain);
    }

    #[test]
    fn sizes_are_stated_against_the_limits() {
        assert_eq!(human(812), "812 B");
        assert_eq!(human(96_563), "94.3 KiB");
        assert_eq!(human(ETCD_OBJECT_LIMIT), "1.50 MiB");
        assert!(
            verdict(1000, 500).starts_with("both fit: Kubernetes stores objects up to 1.50 MiB")
        );
        assert!(verdict(300_000, 500).contains("kubectl apply --server-side"));
        assert!(verdict(2_000_000, 500).starts_with("only the compact one fits"));
        assert!(verdict(9_000_000, 2_000_000).starts_with("both are too large"));
    }

    #[test]
    fn a_gateway_is_measured_in_both_forms_and_too_large_is_an_error() {
        let mut m = Manifests::default();
        m.add_yaml("kind: Gateway\nmetadata: {name: gw, namespace: infra}\nspec: {listeners: [{name: http, port: 80, protocol: HTTP}]}\n").unwrap();
        let plan = Plan::new(&m, None, MeshTarget::default()).unwrap();
        let report = SizeReport::measure(&plan).unwrap();
        assert_eq!(report.object, "Gateway infra/gw");
        assert!(report.plain_config > 50 && report.compact_wasm_plugin > 0);
        assert!(report.problem().is_none());
        let huge = SizeReport {
            compact_wasm_plugin: ETCD_OBJECT_LIMIT + 1,
            ..report
        };
        let problem = huge.problem().unwrap().to_string();
        assert!(
            problem.starts_with(
                "Gateway infra/gw: its WasmPlugin is 1.50 MiB even with the compact configuration"
            ),
            "{problem}"
        );
        assert!(
            problem.contains("split the routes over several Gateways"),
            "{problem}"
        );
    }
}
