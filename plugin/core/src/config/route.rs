//! An HTTPRoute or a GRPCRoute, seen through what the two kinds share: metadata, parents and
//! hostnames. Attachment and status treat both alike; their rules differ.

use super::{BackendRef, GrpcRoute, HttpRoute, ObjectMeta, ParentRef, Resource};

/// An HTTPRoute or a GRPCRoute.
#[derive(Clone, Copy, Debug)]
pub enum Route<'c> {
    /// An HTTPRoute.
    Http(&'c HttpRoute),
    /// A GRPCRoute.
    Grpc(&'c GrpcRoute),
}

impl<'c> Route<'c> {
    /// The route of a resource, if it is one.
    pub fn of(resource: &'c Resource) -> Option<Self> {
        match resource {
            Resource::HttpRoute(r) => Some(Self::Http(r)),
            Resource::GrpcRoute(r) => Some(Self::Grpc(r)),
            _ => None,
        }
    }

    /// `HTTPRoute` or `GRPCRoute`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Http(_) => "HTTPRoute",
            Self::Grpc(_) => "GRPCRoute",
        }
    }

    /// Name, namespace, labels and creation time.
    pub fn metadata(&self) -> &'c ObjectMeta {
        match self {
            Self::Http(r) => &r.metadata,
            Self::Grpc(r) => &r.metadata,
        }
    }

    /// `spec.parentRefs`.
    pub fn parent_refs(&self) -> &'c [ParentRef] {
        match self {
            Self::Http(r) => &r.spec.parent_refs,
            Self::Grpc(r) => &r.spec.parent_refs,
        }
    }

    /// `spec.hostnames`, as written.
    pub fn hostnames(&self) -> &'c [String] {
        match self {
            Self::Http(r) => &r.spec.hostnames,
            Self::Grpc(r) => &r.spec.hostnames,
        }
    }

    /// Each rule's `name`, in rule order.
    pub fn rule_names(&self) -> Vec<Option<&'c str>> {
        match self {
            Self::Http(r) => r
                .spec
                .rules
                .iter()
                .flatten()
                .map(|rule| rule.name.as_deref())
                .collect(),
            Self::Grpc(r) => r
                .spec
                .rules
                .iter()
                .map(|rule| rule.name.as_deref())
                .collect(),
        }
    }

    /// Each rule's `backendRefs`, with the rule's index.
    pub fn backend_refs(&self) -> Vec<(usize, &'c [BackendRef])> {
        match self {
            Self::Http(r) => r
                .spec
                .rules
                .iter()
                .flatten()
                .map(|rule| rule.backend_refs.as_slice())
                .enumerate()
                .collect(),
            Self::Grpc(r) => r
                .spec
                .rules
                .iter()
                .map(|rule| rule.backend_refs.as_slice())
                .enumerate()
                .collect(),
        }
    }

    /// `Kind namespace/name`, as problems name the route.
    pub fn label(&self) -> String {
        self.metadata().label(self.kind())
    }
}
