//! Metric names: what the filter counts, and how each name carries its labels.
//!
//! A name is its labels, each written `label=.=value;.;`, followed by the metric itself:
//! `route_kind=.=HTTPRoute;.;route=.=shop/api;.;backend=.=shop/api-v1:8080;.;gatewasm_requests_total`.
//! That is Istio's tag syntax: Envoy's tag extraction (Istio's `extraStatTags`, the `stats_tags`
//! that `host-sim config --format envoy` writes) cuts every `label=.=value;.;` out of the name
//! and makes it a Prometheus label, leaving `gatewasm_requests_total`. Envoy files the filter's
//! metrics under `wasmcustom.`, a prefix its Prometheus output drops.
//!
//! Every label value comes from the configuration (object names, backend keys) or from a fixed
//! list (reply reasons, gRPC codes, results), never from a request, so the number of series is
//! bounded by the configuration: a route set with R route–backend pairs has at most R request
//! counters, and `rule` labels (one series per rule) only when `metrics.rules` asks for them.

/// Counter: requests forwarded, by `route_kind`, `route`, `backend` (and `rule` when asked).
pub const REQUESTS: &str = "gatewasm_requests_total";
/// Counter: local replies, by `reason` (and `grpc_status` for gRPC requests).
pub const LOCAL_REPLIES: &str = "gatewasm_local_replies_total";
/// Counter: mirror copies sent, by `backend`.
pub const MIRRORS: &str = "gatewasm_mirrors_total";
/// Counter: configurations received, by `result` (`accepted` or `rejected`).
pub const CONFIGURATIONS: &str = "gatewasm_configurations_total";
/// Gauge: 1 while the last configuration received was rejected (the one before keeps serving).
pub const CONFIGURATION_REJECTED: &str = "gatewasm_configuration_rejected";
/// Gauge: which configuration is serving, as [`configuration_generation`] of its bytes.
pub const CONFIGURATION_GENERATION: &str = "gatewasm_configuration_generation";
/// Gauge: routes (HTTPRoutes, GRPCRoutes, Ingresses) in the table serving.
pub const ROUTES: &str = "gatewasm_routes";
/// Gauge: rules in the table serving.
pub const RULES: &str = "gatewasm_rules";
/// Gauge: problems the serving configuration's compile found, by `severity`.
pub const PROBLEMS: &str = "gatewasm_configuration_problems";

/// Every label a metric name can carry, for the proxy's tag extraction.
pub const LABELS: [&str; 8] = [
    "route_kind",
    "route",
    "rule",
    "backend",
    "reason",
    "grpc_status",
    "result",
    "severity",
];

/// Writes the name of `metric` with `labels` into `out`, replacing what it held. A value is
/// written in parts, so `("route", &["shop", "/", "api"])` needs no joined string.
pub fn write_name(out: &mut String, metric: &str, labels: &[(&str, &[&str])]) {
    out.clear();
    for (label, value) in labels {
        out.push_str(label);
        out.push_str("=.=");
        for part in *value {
            out.push_str(part);
        }
        out.push_str(";.;");
    }
    out.push_str(metric);
}

/// The generation of a configuration: the top 53 bits of the FNV-1a hash of its bytes, so
/// that it is the same on every proxy and worker serving it (a count of configurations would
/// differ per VM and restart) and exact in Prometheus' floating-point samples.
#[must_use]
pub fn configuration_generation(configuration: &[u8]) -> u64 {
    crate::fnv::hash(configuration) >> 11
}

/// The `reason` label of a local reply: its response details without the `gatewasm_` prefix.
#[must_use]
pub fn reply_reason(details: &str) -> &str {
    details.strip_prefix("gatewasm_").unwrap_or(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_first_in_istios_tag_syntax() {
        let mut name = String::from("left over");
        write_name(
            &mut name,
            REQUESTS,
            &[
                ("route", &["shop", "/", "api"]),
                ("backend", &["shop/api-v1:8080"]),
            ],
        );
        assert_eq!(
            name,
            "route=.=shop/api;.;backend=.=shop/api-v1:8080;.;gatewasm_requests_total"
        );
        write_name(&mut name, ROUTES, &[]);
        assert_eq!(name, "gatewasm_routes");
    }

    #[test]
    fn reasons_drop_the_prefix() {
        assert_eq!(reply_reason("gatewasm_no_route"), "no_route");
        assert_eq!(reply_reason("ext_authz_denied"), "ext_authz_denied");
    }
}
