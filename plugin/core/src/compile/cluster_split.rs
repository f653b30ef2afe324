//! A backendRef's share split across the clusters of a multi-cluster mesh, by a `ClusterSplit`
//! that the backendRef names in an `ExtensionRef` filter.
//!
//! Gateway API has no field for per-cluster weights. With Istio multi-cluster, one cluster's
//! endpoints of a Service are a subset labelled `topology.istio.io/cluster`, and Envoy has one
//! cluster per subset (`outbound|8080|us-west-1|api-v1.app.svc.cluster.local`). So the split is
//! done here, once per configuration: the backendRef becomes one weighted backend per subset
//! cluster, and the rule's weights are scaled so every share stays exact. The subsets themselves
//! are written by `host-sim config --format istio` (a DestinationRule). Reading the object is
//! `config::cluster_split`'s job.

use crate::config::{ClusterSplit, HttpRouteFilter, GATEWASM_GROUP};
use crate::effect::Backend;
use crate::filters::Filters;
use crate::table::WeightedBackend;

use super::backends::BackendContext;

/// The kind gatewasm's extension object goes by.
pub(crate) const KIND: &str = "ClusterSplit";

/// Whether a filter is an `ExtensionRef` to a `ClusterSplit`.
pub(crate) fn names_split(filter: &HttpRouteFilter) -> bool {
    filter.kind == "ExtensionRef"
        && filter
            .extension_ref
            .as_ref()
            .is_some_and(|r| r.group == GATEWASM_GROUP && r.kind == KIND)
}

/// One backendRef of a rule, before its weight is final: its weight and the (backend, weight
/// within the ref, filters) of each cluster it goes to (one entry without a split).
pub(crate) struct Share {
    pub(crate) weight: u32,
    pub(crate) entries: Vec<(Option<u32>, u32, Filters)>,
}

/// The subset backends of `base` (a resolved backend of the table) for the `ClusterSplit` the
/// filter names: (table index, weight) per cluster, or why the split cannot be done.
pub(crate) fn subsets(
    filter: &HttpRouteFilter,
    base: u32,
    ctx: &mut BackendContext<'_>,
) -> Result<Vec<(u32, u32)>, String> {
    let name = filter
        .extension_ref
        .as_ref()
        .map_or("", |r| r.name.as_str());
    let split: &ClusterSplit = ctx
        .splits
        .iter()
        .find(|s| s.metadata.namespace() == ctx.route_namespace && s.metadata.name == name)
        .ok_or_else(|| {
            format!(
                "{KIND} {}/{name} is not in the configuration",
                ctx.route_namespace
            )
        })?;
    let template = ctx.names.subset_cluster().ok_or_else(|| {
        String::from("a ClusterSplit needs the clusterHeader target mode: in authority mode the mesh picks the Service's cluster by :authority, so no subset can be chosen")
    })?;
    if split.clusters.is_empty() {
        return Err(format!(
            "{KIND} {}/{name} lists no clusters",
            ctx.route_namespace
        ));
    }
    let Some(base) = usize::try_from(base)
        .ok()
        .and_then(|i| ctx.backends.get(i))
        .cloned()
    else {
        return Err(String::from("the backend could not be resolved"));
    };
    let (service, port) = base.key.rsplit_once(':').unwrap_or((&base.key, ""));
    let (namespace, service) = service.split_once('/').unwrap_or(("", service));
    let mut out = Vec::with_capacity(split.clusters.len());
    for cluster in &split.clusters {
        let id = u32::try_from(ctx.backends.len()).unwrap_or(u32::MAX);
        ctx.backends.push(Backend {
            key: base.key.clone(),
            cluster: template
                .replace("{name}", service)
                .replace("{namespace}", namespace)
                .replace("{port}", port)
                .replace("{subset}", &cluster.name),
            authority: base.authority.clone(),
        });
        out.push((id, cluster.weight.unwrap_or(1)));
    }
    Ok(out)
}

/// Final weights: entry `j` of share `i` gets `W_i * w_ij * Π_{k≠i} S_k`, where `S_k` is the sum
/// of share `k`'s entry weights, so each share keeps `W_i / ΣW` and splits it `w_ij / S_i`.
/// `Err` when the scaled weights do not fit in 32 bits.
pub(crate) fn flatten(shares: Vec<Share>) -> Result<Vec<WeightedBackend>, String> {
    let too_large = || {
        String::from("the weights, scaled to split backends across clusters, exceed 32 bits: use smaller weights")
    };
    let sums: Vec<u64> = shares
        .iter()
        .map(|s| {
            s.entries
                .iter()
                .map(|(_, w, _)| u64::from(*w))
                .sum::<u64>()
                .max(1)
        })
        .collect();
    let product = sums
        .iter()
        .try_fold(1u64, |p, s| p.checked_mul(*s))
        .ok_or_else(too_large)?;
    let mut out = Vec::new();
    for (share, sum) in shares.into_iter().zip(sums) {
        let factor = product / sum;
        for (backend, weight, filters) in share.entries {
            let weight = u64::from(share.weight)
                .checked_mul(u64::from(weight))
                .and_then(|w| w.checked_mul(factor))
                .and_then(|w| u32::try_from(w).ok())
                .ok_or_else(too_large)?;
            out.push(WeightedBackend {
                weight,
                backend,
                filters,
            });
        }
    }
    Ok(out)
}
