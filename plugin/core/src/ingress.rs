//! Ingresses served with ingress-nginx's semantics, beside the Gateway API routes.
//!
//! [`NginxModel`] is what the ingress-nginx controller makes of the Ingresses of one class
//! (servers, locations in nginx's order, canaries); the table compiles it into matchers and the
//! request path answers in nginx's order. A request reaches the Ingresses only when no Gateway
//! API route matched it (no listener or no rule), so configurations without Ingresses never
//! run any of this; a request both could serve goes to the Gateway API route.

mod decide;
mod model;
mod rewrite;
mod table;

pub use model::{
    needs_rewrite, CanaryRef, Location, LocationKind, NginxModel, ServedIngress, Server,
    ServiceRef, CATCH_ALL,
};
pub(crate) use table::{IngressTable, ResolveService};
