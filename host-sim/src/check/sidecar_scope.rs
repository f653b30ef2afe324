//! Mesh backends an Istio `Sidecar` resource hides from the sidecars that would route to them.
//!
//! A `Sidecar` with `egress` limits the Services the sidecars of its namespace know: a backend
//! outside every `egress[].hosts` entry has no cluster and no virtual host there, so a decision
//! for it fails in either target mode (clusterHeader: Envoy answers 503 for the unknown cluster;
//! authority: the catch-all takes the call). Which workloads a route's decisions run in follows
//! GEP-1294: a consumer route's in its own namespace, a producer route's in every namespace.
//! `workloadSelector` is not narrowed further: a selected Sidecar is taken to cover the
//! namespace, which can only add warnings. The filter itself never sees these objects.

use serde_json::Value;

use crate::manifests::Manifests;
use crate::objects::Objects;
use crate::sidecar::egress_admits;
use crate::written::{kind, name, namespace};
use gatewasm_core::Problem;

/// Warns about every backendRef of a mesh route that a `Sidecar` in a calling namespace hides.
pub(super) fn check(manifests: &Manifests, objects: &Objects<'_>, problems: &mut Vec<Problem>) {
    let sidecars: Vec<&Value> = manifests
        .others
        .iter()
        .filter(|o| kind(o) == "Sidecar" && o.pointer("/spec/egress").is_some())
        .collect();
    if sidecars.is_empty() {
        return;
    }
    for route in objects.routes() {
        let route_ns = route.metadata().namespace();
        let mut producer = false;
        let mut consumer = false;
        for parent in route.parent_refs().iter().filter(|p| p.is_service()) {
            producer |= parent.namespace(route_ns) == route_ns;
            consumer |= parent.namespace(route_ns) != route_ns;
        }
        if !producer && !consumer {
            continue;
        }
        for sidecar in &sidecars {
            let callers = namespace(sidecar);
            if !producer && callers != route_ns {
                continue; // a consumer route's decisions run in its own namespace only
            }
            for (r, backends) in route.backend_refs() {
                for (b, backend) in backends.iter().enumerate() {
                    let service = backend.name.as_str();
                    let service_ns = backend.namespace(route_ns);
                    if egress_admits(sidecar, service_ns, service) {
                        continue;
                    }
                    let fqdn = format!("{service}.{service_ns}.svc.cluster.local");
                    problems.push(
                        Problem::warning(
                            route.label(),
                            format!("spec.rules[{r}].backendRefs[{b}]"),
                            format!(
                                "Service {service_ns}/{service} is outside the egress hosts of \
                                 Sidecar {callers}/{}, so the sidecars of namespace {callers} \
                                 have no cluster for it: a call this rule sends there gets 503 \
                                 in clusterHeader mode and goes to the catch-all in authority \
                                 mode",
                                name(sidecar)
                            ),
                        )
                        .with_hint(format!(
                            "add \"{service_ns}/{fqdn}\" (or \"{service_ns}/*\") to the \
                             Sidecar's egress hosts"
                        )),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::manifests::Manifests;
    use crate::objects::Objects;

    const MESH: &str = "kind: Service\nmetadata: {name: api, namespace: app}\nspec: {ports: [{name: http, port: 8080}]}\n---\nkind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec:\n  parentRefs: [{group: \"\", kind: Service, name: api, port: 8080}]\n  rules: [{backendRefs: [{name: api-v2, port: 8080}, {name: pay, namespace: payments, port: 8080}]}]\n---\n";

    fn problems(sidecar: &str) -> Vec<String> {
        let mut m = Manifests::default();
        m.add_yaml(&format!("{MESH}{sidecar}")).unwrap();
        let mut problems = Vec::new();
        check(&m, &Objects::read(&m.resources).unwrap(), &mut problems);
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_backend_outside_the_egress_hosts_is_named_with_the_fix() {
        let narrow = problems("apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: client}\nspec: {egress: [{hosts: [\"./*\", \"app/*\"]}]}\n");
        assert_eq!(narrow.len(), 1, "{narrow:?}");
        assert!(
            narrow[0].contains("backendRefs[1]: Service payments/pay is outside the egress hosts of Sidecar client/default"),
            "{narrow:?}"
        );
        assert!(narrow[0].contains("payments/pay.payments.svc.cluster.local"));
        let wide = problems("kind: Sidecar\nmetadata: {name: default, namespace: client}\nspec: {egress: [{hosts: [\"*/*\"]}]}\n");
        assert!(wide.is_empty(), "{wide:?}");
        let suffix = problems("kind: Sidecar\nmetadata: {name: default, namespace: client}\nspec: {egress: [{hosts: [\"app/*\", \"payments/*.payments.svc.cluster.local\"]}]}\n");
        assert!(suffix.is_empty(), "{suffix:?}");
    }
}
