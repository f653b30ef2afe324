//! The manifests' Gateway API objects as the filter reads them: the core's own reader, so a
//! parentRef's or a backendRef's defaults, what a selector selects or what a grant allows are
//! the core's rules, not repeated here. The kinds the filter never reads (classes, Secrets,
//! Istio's and the multi-cluster API's objects) and the fields its types leave out are read as
//! written ([`crate::written`]).

use std::collections::BTreeMap;

use anyhow::Result;
use gatewasm_core::config::{
    Gateway, Listener, ListenerSet, ObjectMeta, ParentRef, PluginConfig, ReferenceGrant, Resource,
    Route, Service,
};
use serde_json::{json, Value};

use crate::written;

/// The typed objects, in creation order, beside the objects as written.
#[derive(Debug)]
pub(crate) struct Objects<'m> {
    written: &'m [Value],
    resources: Vec<Resource>,
}

impl<'m> Objects<'m> {
    /// Reads the plugin configuration's resources ([`Manifests::resources`]) as the filter
    /// would. An object the reader cannot read is left out here; the compile reports it with
    /// the field at fault.
    ///
    /// [`Manifests::resources`]: crate::manifests::Manifests::resources
    pub(crate) fn read(written: &'m [Value]) -> Result<Self> {
        let config = serde_json::to_vec(&json!({ "resources": written }))?;
        let resources = PluginConfig::parse(&config)?.objects(&mut Vec::new());
        Ok(Self { written, resources })
    }

    /// An object as written, by `Kind namespace/name`: for the fields the core's types do not
    /// keep (unknown ones, which problems quote back).
    pub(crate) fn written(&self, label: &str) -> Option<&'m Value> {
        self.written.iter().find(|o| written::label(o) == label)
    }

    /// The value a problem's field path (`spec.rules[0].matches[1]`) points at, as written.
    pub(crate) fn written_at(&self, label: &str, field: &str) -> Option<&'m Value> {
        let mut pointer = String::new();
        for part in field.split(['.', '[', ']']).filter(|p| !p.is_empty()) {
            pointer.push('/');
            pointer.push_str(part);
        }
        self.written(label)?.pointer(&pointer)
    }

    /// Gateways.
    pub(crate) fn gateways(&self) -> impl Iterator<Item = &Gateway> + '_ {
        self.resources.iter().filter_map(|r| match r {
            Resource::Gateway(g) => Some(g),
            _ => None,
        })
    }

    /// The Gateway `namespace/name`.
    pub(crate) fn gateway(&self, namespace: &str, name: &str) -> Option<&Gateway> {
        self.gateways()
            .find(|g| g.metadata.namespace() == namespace && g.metadata.name == name)
    }

    /// ListenerSets.
    pub(crate) fn listener_sets(&self) -> impl Iterator<Item = &ListenerSet> + '_ {
        self.resources.iter().filter_map(|r| match r {
            Resource::ListenerSet(s) => Some(s),
            _ => None,
        })
    }

    /// The objects that declare listeners, Gateways first and then ListenerSets: kind, metadata
    /// and listeners.
    pub(crate) fn listener_owners(
        &self,
    ) -> impl Iterator<Item = (&'static str, &ObjectMeta, &[Listener])> + '_ {
        let gateways = self
            .gateways()
            .map(|g| ("Gateway", &g.metadata, g.spec.listeners.as_slice()));
        let sets = self
            .listener_sets()
            .map(|s| ("ListenerSet", &s.metadata, s.spec.listeners.as_slice()));
        gateways.chain(sets)
    }

    /// HTTPRoutes and GRPCRoutes.
    pub(crate) fn routes(&self) -> impl Iterator<Item = Route<'_>> + '_ {
        self.resources.iter().filter_map(Route::of)
    }

    /// The route `kind namespace/name`.
    pub(crate) fn route(&self, kind: &str, namespace: &str, name: &str) -> Option<Route<'_>> {
        self.routes().find(|r| {
            r.kind() == kind && r.metadata().namespace() == namespace && r.metadata().name == name
        })
    }

    /// Services and ServiceImports.
    pub(crate) fn services(&self) -> impl Iterator<Item = &Service> + '_ {
        self.resources.iter().filter_map(|r| match r {
            Resource::Service(s) => Some(s),
            _ => None,
        })
    }

    /// ReferenceGrants.
    pub(crate) fn grants(&self) -> impl Iterator<Item = &ReferenceGrant> + '_ {
        self.resources.iter().filter_map(|r| match r {
            Resource::ReferenceGrant(g) => Some(g),
            _ => None,
        })
    }

    /// The labels of the Namespace objects, by name.
    pub(crate) fn namespace_labels(&self) -> BTreeMap<&str, &BTreeMap<String, String>> {
        self.resources
            .iter()
            .filter_map(|r| match r {
                Resource::Namespace(n) => Some((n.metadata.name.as_str(), &n.metadata.labels)),
                _ => None,
            })
            .collect()
    }

    /// Listeners a parentRef selects: of the Gateway it names, by `sectionName` and `port`
    /// (reference §8.1). Whether they accept the route is another matter.
    pub(crate) fn selected_listeners(
        &self,
        route: Route<'_>,
        parent: &ParentRef,
    ) -> Vec<ListenerRef<'_>> {
        if !parent.is_gateway() {
            return Vec::new();
        }
        let namespace = parent.namespace(route.metadata().namespace());
        let Some(gateway) = self.gateway(namespace, &parent.name) else {
            return Vec::new();
        };
        gateway
            .spec
            .listeners
            .iter()
            .enumerate()
            .map(|(index, listener)| ListenerRef {
                gateway,
                index,
                listener,
            })
            .filter(|l| {
                parent
                    .section_name
                    .as_ref()
                    .is_none_or(|s| *s == l.listener.name)
                    && parent.port.is_none_or(|p| Some(p) == l.listener.port)
            })
            .collect()
    }
}

/// A listener and the Gateway it belongs to.
#[derive(Debug)]
pub(crate) struct ListenerRef<'a> {
    /// The Gateway.
    pub(crate) gateway: &'a Gateway,
    /// Index in `spec.listeners`.
    pub(crate) index: usize,
    /// The listener.
    pub(crate) listener: &'a Listener,
}
