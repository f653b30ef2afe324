//! Backends an Istio sidecar cannot reach in `authority` mode, named with the fix.
//!
//! A sidecar routes an outbound request by the route configuration of the port the caller
//! dialled: its virtual hosts are the Services listening on that port, and ports are ignored in
//! host matching. After gatewasm rewrites `:authority` to a backend on another port, either
//! the backend's Service also listens on the dialled port (the request silently goes there), or
//! no virtual host matches and Istio's catch-all takes it: `allow_any` sends it on to the
//! Service the caller dialled, `REGISTRY_ONLY` answers 502. `clusterHeader` mode, with the
//! sidecar route patch `host-sim config --format istio` writes, names the cluster itself and
//! reaches every port. This module only reports; compiling the rule is `rules`' job.

use crate::effect::Backend;
use crate::problem::Problem;
use crate::table::WeightedBackend;

use super::mesh::MeshParents;

/// Warns about each backendRef of one rule whose port differs from a port callers dial to
/// reach the route (`scopes`: the mesh scopes the route attached to).
pub(super) fn check(
    mesh: &MeshParents<'_>,
    scopes: &[usize],
    label: &str,
    rule_index: usize,
    weighted: &[WeightedBackend],
    backends: &[Backend],
    problems: &mut Vec<Problem>,
) {
    for (i, w) in weighted.iter().enumerate() {
        let Some(backend) = w
            .backend
            .and_then(|id| backends.get(usize::try_from(id).ok()?))
        else {
            continue;
        };
        let Some((service, port)) = backend.key.rsplit_once(':') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        for &scope in scopes {
            let Some((parent, dialled)) = mesh.scope_service(scope) else {
                continue;
            };
            let parent = format!("Service {parent}");
            let Some(dialled) = dialled.filter(|&d| d != port) else {
                continue;
            };
            let (namespace, name) = service.split_once('/').unwrap_or(("", service));
            let lands = if mesh.has_port(namespace, name, dialled) == Some(true) {
                format!("so Envoy sends the request to Service {service}:{dialled} instead")
            } else {
                format!(
                    "so Envoy's catch-all takes it: with outboundTrafficPolicy ALLOW_ANY it goes \
                     on to {parent}:{dialled}, the Service the caller dialled; with REGISTRY_ONLY \
                     it gets 502"
                )
            };
            problems.push(
                Problem::warning(
                    label,
                    format!("spec.rules[{rule_index}].backendRefs[{i}]"),
                    format!(
                        "{} is on port {port}, but callers dial {parent} on port {dialled}: in \
                         authority mode a sidecar looks the rewritten authority up in the route \
                         configuration of port {dialled}, which ignores ports and has no virtual \
                         host for Service {service} on {port}, {lands}",
                        backend.key
                    ),
                )
                .with_hint(format!(
                    "use target mode clusterHeader with the sidecar route patch that `host-sim \
                     config --format istio` writes, or send to a port {dialled} of the backend"
                )),
            );
        }
    }
}
