//! `host-sim bench --config PATH`: the same measurement as the generated route sets, on a
//! team's own manifests and request mix, so it can see what its routes cost per request.
//!
//! The mix is the requests of a case file (`--requests`; its expectations are not checked), or
//! by default one request per route rule: the route's first hostname (`example.com` without
//! one), the rule's first match's path, method and Exact header values, a gRPC call for a
//! GRPCRoute rule, sent to the port of the listener the route's first parentRef names (its
//! `port`, or its `sectionName`), else the Gateway's first listener (80 in mesh mode).

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::cases::CaseFile;
use crate::deploy::{MeshTarget, Plan};
use crate::manifests::Manifests;
use crate::request::RequestSpec;

/// The plugin configuration and the request mix for `config`.
///
/// # Errors
///
/// When the manifests or the requests file cannot be read, or the mix is empty.
pub(super) fn load(
    config: &Path,
    gateway: Option<&str>,
    requests: Option<&Path>,
) -> Result<(Vec<u8>, Vec<RequestSpec>)> {
    let manifests = Manifests::load(config)?;
    let plan = Plan::new(&manifests, gateway, MeshTarget::default())?;
    let configuration = plan.plugin_config_json()?.into_bytes();
    let specs: Vec<RequestSpec> = match requests {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            let file: CaseFile = serde_norway::from_str(&text)
                .with_context(|| format!("{}: not a valid case file", path.display()))?;
            file.cases
                .iter()
                .map(crate::cases::Case::request_spec)
                .collect()
        }
        None => {
            let listeners: Vec<(String, u16)> = plan
                .gateway
                .iter()
                .flat_map(|g| g.spec.listeners.iter())
                .filter_map(|l| Some((l.name.clone(), u16::try_from(l.port?).ok()?)))
                .collect();
            manifests
                .resources
                .iter()
                .flat_map(|object| rule_requests(object, &listeners))
                .collect()
        }
    };
    if specs.is_empty() {
        bail!(
            "no requests to send: the manifests hold no HTTPRoute or GRPCRoute rules; pass \
             --requests CASE_FILE"
        );
    }
    Ok((configuration, specs))
}

/// One request per rule of an HTTPRoute or GRPCRoute object; `listeners` are the Gateway's
/// (name, port).
fn rule_requests(object: &Value, listeners: &[(String, u16)]) -> Vec<RequestSpec> {
    let kind = object["kind"].as_str().unwrap_or_default();
    if kind != "HTTPRoute" && kind != "GRPCRoute" {
        return Vec::new();
    }
    let parent = &object["spec"]["parentRefs"][0];
    let named = parent["sectionName"]
        .as_str()
        .and_then(|name| listeners.iter().find(|(n, _)| n == name));
    let port = parent["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .or(named.map(|(_, p)| *p))
        .or(listeners.first().map(|(_, p)| *p))
        .unwrap_or(80);
    let host = object["spec"]["hostnames"][0]
        .as_str()
        .unwrap_or("example.com")
        .replace('*', "any");
    let rules = object["spec"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rules
        .iter()
        .map(|rule| {
            let first = &rule["matches"][0];
            let mut spec = RequestSpec {
                method: first["method"].as_str().unwrap_or("GET").to_owned(),
                port: Some(port),
                ..RequestSpec::default()
            };
            let path = if kind == "GRPCRoute" {
                let service = first["method"]["service"].as_str().unwrap_or("pkg.Service");
                let method = first["method"]["method"].as_str().unwrap_or("Call");
                spec.method = String::from("POST");
                spec.headers
                    .push(("content-type".to_owned(), "application/grpc".to_owned()));
                format!("/{service}/{method}")
            } else {
                first["path"]["value"].as_str().unwrap_or("/").to_owned()
            };
            for header in first["headers"].as_array().into_iter().flatten() {
                let exact = header["type"].as_str().unwrap_or("Exact") == "Exact";
                if let (true, Some(name), Some(value)) =
                    (exact, header["name"].as_str(), header["value"].as_str())
                {
                    spec.headers.push((name.to_owned(), value.to_owned()));
                }
            }
            spec.url = format!("http://{host}{path}");
            spec
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn one_request_per_rule_from_its_first_match() {
        let route = json!({"kind": "HTTPRoute", "spec": {"hostnames": ["a.example.com"], "rules": [
            {"matches": [{"path": {"value": "/v2"}, "headers": [{"name": "X-Canary", "value": "true"}]}]},
            {"matches": [{"method": "POST"}]},
        ]}});
        let listeners = [("http".to_owned(), 80), ("https".to_owned(), 443)];
        let specs = super::rule_requests(&route, &listeners);
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].url, "http://a.example.com/v2");
        assert_eq!(
            specs[0].headers,
            [("X-Canary".to_owned(), "true".to_owned())]
        );
        assert_eq!(specs[1].method, "POST");
        assert_eq!(specs[1].port, Some(80));
        let mut named = route;
        named["spec"]["parentRefs"] = json!([{"name": "gw", "sectionName": "https"}]);
        assert_eq!(super::rule_requests(&named, &listeners)[0].port, Some(443));
        let grpc = json!({"kind": "GRPCRoute", "spec": {"rules": [
            {"matches": [{"method": {"service": "pkg.S", "method": "M"}}]}]}});
        assert_eq!(
            super::rule_requests(&grpc, &[])[0].url,
            "http://example.com/pkg.S/M"
        );
        assert!(super::rule_requests(&json!({"kind": "Service"}), &[]).is_empty());
    }
}
