//! Backend references resolved: kind and port checks, ReferenceGrant for other namespaces,
//! known Services, and one table entry per distinct backend (reference §5, §9).
//!
//! A reference is judged for the parent this proxy serves the route through: through a Gateway
//! another namespace needs a ReferenceGrant (§9); in the mesh, where the route's parent is a
//! Service, it does not (§8.1, GEP-1294), for backendRefs, mirrors and authorization servers
//! alike. A route with both kinds of parent is compiled once per proxy, so the same backendRef
//! can be refused through its Gateway and served through its Service.

use std::collections::BTreeSet;

use crate::config::{BackendRef, ClusterSplit, ReferenceGrant, GATEWAY_GROUP};
use crate::effect::Backend;
use crate::fnv::FnvHashMap;

use super::Names;

/// What backend resolution needs from the rest of the configuration.
pub(crate) struct BackendContext<'c> {
    pub(crate) route_kind: &'static str,
    pub(crate) route_namespace: &'c str,
    pub(crate) services: Option<&'c BTreeSet<String>>,
    pub(crate) grants: &'c [&'c ReferenceGrant],
    /// Whether another namespace needs a ReferenceGrant: through a Gateway yes, in the mesh no.
    pub(crate) grants_required: bool,
    pub(crate) names: &'c Names,
    pub(crate) backends: &'c mut Vec<Backend>,
    pub(crate) backend_ids: &'c mut FnvHashMap<String, u32>,
    /// The ClusterSplits a backendRef's `ExtensionRef` may name.
    pub(crate) splits: &'c [&'c ClusterSplit],
    /// The first reference of the route that could not be resolved: reason and message.
    pub(crate) unresolved: Option<(&'static str, String)>,
}

impl<'c> BackendContext<'c> {
    /// The table index of the backend a reference names, or why it cannot be used (also kept
    /// as the route's `ResolvedRefs` reason when it is the first).
    pub(crate) fn resolve(&mut self, b: &BackendRef) -> Result<u32, String> {
        let (key, namespace, port) = match self.check(b) {
            Ok(checked) => checked,
            Err((reason, message)) => {
                self.unresolved.get_or_insert((reason, message.clone()));
                return Err(message);
            }
        };
        if let Some(&id) = self.backend_ids.get(&key) {
            return Ok(id);
        }
        let id = u32::try_from(self.backends.len()).unwrap_or(u32::MAX);
        self.backend_ids.insert(key.clone(), id);
        self.backends.push(Backend {
            cluster: self.names.cluster(&b.name, namespace, port),
            authority: self.names.authority(&b.name, namespace, port),
            key,
        });
        Ok(id)
    }

    /// The reference's key (`namespace/name:port`), namespace and port, once every check holds.
    fn check<'b>(&self, b: &'b BackendRef) -> Result<(String, &'b str, u16), (&'static str, String)>
    where
        'c: 'b,
    {
        let (group, kind) = (b.group(), b.kind());
        match (group, kind) {
            ("", "Service") | ("multicluster.x-k8s.io", "ServiceImport") => {}
            _ => {
                let message = format!(
                    "backend kind {kind} in group {group:?} is not supported (InvalidKind)"
                );
                return Err(("InvalidKind", message));
            }
        }
        let port = match b.port.map(u16::try_from) {
            Some(Ok(port)) if port > 0 => port,
            _ => {
                let message = format!("{kind} {:?} needs a port between 1 and 65535", b.name);
                return Err(("UnsupportedValue", message));
            }
        };
        let namespace = b.namespace(self.route_namespace);
        if self.grants_required
            && namespace != self.route_namespace
            && !self.granted(group, kind, namespace, &b.name)
        {
            return Err(("RefNotPermitted", format!(
                "{kind} {namespace}/{} is in another namespace and no ReferenceGrant in {namespace} allows {} from {} (RefNotPermitted)",
                b.name, self.route_kind, self.route_namespace
            )));
        }
        let key = format!("{namespace}/{}:{port}", b.name);
        if let Some(services) = self.services {
            if !services.contains(&key) && !services.contains(&format!("{namespace}/{}", b.name)) {
                let message =
                    format!("{kind} {key} is not among the known services (BackendNotFound)");
                return Err(("BackendNotFound", message));
            }
        }
        Ok((key, namespace, port))
    }

    /// Whether a ReferenceGrant in the target namespace allows the reference (all four parts).
    fn granted(&self, group: &str, kind: &str, namespace: &str, name: &str) -> bool {
        self.grants
            .iter()
            .filter(|g| g.metadata.namespace() == namespace)
            .any(|g| {
                g.permits(
                    (GATEWAY_GROUP, self.route_kind, self.route_namespace),
                    (group, kind, name),
                )
            })
    }
}
