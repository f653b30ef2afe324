//! The Istio DestinationRules that give a `ClusterSplit`'s subset clusters their endpoints: one
//! per split Service, with one subset per mesh cluster, selected by `topology.istio.io/cluster`.
//!
//! The filter sends a split backend's requests to `outbound|PORT|CLUSTER|HOST`; Istio builds that
//! Envoy cluster only when a DestinationRule for HOST defines subset CLUSTER. The subsets come
//! from the compiled route table, so they are exactly the clusters the filter can choose.
//! Splitting itself is the core's (`compile::cluster_split`); the rest of the Istio output is
//! `istio`'s.

use std::collections::BTreeMap;

use serde_norway::Value as Yaml;

use super::Plan;

/// The label Istio puts on every endpoint with the name of the cluster it runs in.
pub const CLUSTER_LABEL: &str = "topology.istio.io/cluster";

/// One DestinationRule per Service host that has subset clusters, sorted by host.
pub fn destination_rules(plan: &Plan, labels: &Yaml) -> Vec<Yaml> {
    let mut hosts: BTreeMap<&str, (String, Vec<&str>)> = BTreeMap::new();
    for backend in &plan.backends {
        let parts: Vec<&str> = backend.cluster.split('|').collect();
        let [_, _, subset, host] = parts.as_slice() else {
            continue;
        };
        if subset.is_empty() {
            continue;
        }
        let namespace = backend
            .key
            .split_once('/')
            .map_or("default", |(ns, _)| ns)
            .to_owned();
        let entry = hosts.entry(host).or_insert_with(|| (namespace, Vec::new()));
        if !entry.1.contains(subset) {
            entry.1.push(subset);
        }
    }
    hosts
        .into_iter()
        .map(|(host, (namespace, subsets))| {
            let service = host.split('.').next().unwrap_or(host);
            let subsets: Vec<Yaml> = subsets
                .into_iter()
                .map(|subset| {
                    map! {
                        "name" => subset,
                        "labels" => map! { CLUSTER_LABEL => subset },
                    }
                })
                .collect();
            map! {
                "apiVersion" => "networking.istio.io/v1",
                "kind" => "DestinationRule",
                "metadata" => map! {
                    "name" => format!("{service}-clusters"),
                    "namespace" => namespace,
                    "labels" => labels.clone(),
                },
                "spec" => map! {
                    "host" => host,
                    "subsets" => subsets,
                },
            }
        })
        .collect()
}
