//! Where routes attach: the listeners of the Gateway this proxy implements, or (mesh mode) the
//! Services the routes name, with the names and shapes the table is built from.
//!
//! Which parentRef a listener accepts is decided in `attach` and `mesh`; this file only picks
//! the side and answers the questions the pipeline asks of either.

use super::attach::{self, Attachment, GatewaySide, RouteSide};
use super::mesh::MeshParents;
use crate::hostname::Hostname;
use crate::problem::Problem;

/// Where routes attach: the listeners of the Gateway this proxy implements, or (mesh mode) the
/// Services the routes name.
pub(super) enum Parents<'c> {
    Gateway(GatewaySide<'c>),
    Mesh(MeshParents<'c>),
}

impl Parents<'_> {
    /// The listeners (or mesh scopes) one route attaches to, and what each parentRef got.
    pub(super) fn attach(
        &mut self,
        route: &RouteSide<'_>,
        problems: &mut Vec<Problem>,
    ) -> Attachment {
        match self {
            Self::Gateway(gateway) => attach::attach(route, gateway, problems),
            Self::Mesh(mesh) => mesh.attach(route, problems),
        }
    }

    /// Names a listener or scope in messages.
    pub(super) fn scope_name(&self, scope: usize) -> String {
        match self {
            Self::Gateway(g) => match g.listeners.get(scope).and_then(Option::as_ref) {
                Some(l) => format!(
                    "{} {}/{} listener {}",
                    l.owner.kind, l.owner.namespace, l.owner.name, l.name
                ),
                None => format!("Gateway {}/{}", g.namespace, g.name),
            },
            Self::Mesh(mesh) => mesh.scope_name(scope),
        }
    }

    /// (port, hostname) of each listener or scope, by index; `None` where a listener is invalid.
    pub(super) fn shapes(&self) -> Vec<Option<(Option<u16>, Option<Hostname>)>> {
        match self {
            Self::Gateway(g) => g
                .listeners
                .iter()
                .map(|l| l.as_ref().map(|l| (l.port, l.hostname.clone())))
                .collect(),
            Self::Mesh(mesh) => mesh
                .scope_ports()
                .into_iter()
                .map(|port| Some((port, None)))
                .collect(),
        }
    }
}

/// Whether some port has more than one HTTPS listener, so the SNI can choose another listener
/// than the Host.
pub(super) fn shares_https_port(parents: &Parents<'_>) -> bool {
    let Parents::Gateway(gateway) = parents else {
        return false;
    };
    let ports: Vec<u16> = gateway
        .listeners
        .iter()
        .flatten()
        .filter(|l| l.is_https())
        .filter_map(|l| l.port)
        .collect();
    ports
        .iter()
        .enumerate()
        .any(|(i, p)| ports[i + 1..].contains(p))
}
