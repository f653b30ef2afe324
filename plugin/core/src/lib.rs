//! Gateway API routing, compiled: the pure core of the gatewasm proxy-wasm filter.
//!
//! It reads the plugin configuration (Gateway, HTTPRoute and friends as JSON), compiles it into
//! a [`RouteTable`], and decides each request: the matching rule, the backend by weight, the
//! header edits, or a local reply. It never calls the host; the filter crate turns host calls
//! into a [`RequestView`] and a [`Decision`] back into host calls.
//!
//! ```
//! use gatewasm_core::{compile_bytes, Action, RequestView};
//!
//! let config = br#"{"gateway": "infra/gw", "resources": [
//!   {"kind": "Gateway", "metadata": {"name": "gw", "namespace": "infra"},
//!    "spec": {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
//!                            "allowedRoutes": {"namespaces": {"from": "All"}}}]}},
//!   {"kind": "HTTPRoute", "metadata": {"name": "api", "namespace": "app"},
//!    "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
//!             "hostnames": ["app.example.com"],
//!             "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
//!                        "backendRefs": [{"name": "api-v1", "port": 8080}]}]}}
//! ]}"#;
//! let compiled = compile_bytes(config)?;
//! assert!(compiled.problems.is_empty());
//! let headers: [(&str, &[u8]); 2] = [(":authority", b"app.example.com"), (":path", b"/api/users")];
//! let decision = compiled.table.decide(&RequestView::new(&headers, Some(80)), 0);
//! assert!(matches!(decision.action, Action::Forward(f) if f.backend.key == "app/api-v1:8080"));
//! # Ok::<(), gatewasm_core::ConfigError>(())
//! ```
//!
//! # Pipeline
//!
//! [`PluginConfig::parse`] (bytes → typed objects) → [`compile`] (defaults, attachment,
//! validation, index) → [`RouteTable::decide`] (request → [`Decision`]).
//!
//! # Precedence
//!
//! Hostname specificity, then Exact path, longest PathPrefix (RegularExpression paths rank with
//! prefixes by the length of their value, losing ties), method, header count, query count,
//! oldest route, `{namespace}/{name}`, rule order, match order.
//!
//! # Limits
//!
//! Regular expressions are RE2-style (`regex-lite`: no backtracking, ASCII classes), always match
//! the whole value, and are capped in compiled size.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod age;
mod auth;
#[cfg(feature = "bench")]
pub mod baseline;
#[cfg(feature = "bench")]
pub mod bench;
mod compile;
pub mod config;
mod decide;
mod decision;
mod effect;
mod filters;
mod fnv;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod hostname;
pub mod ingress;
mod matcher;
pub mod metrics;
mod precedence;
mod problem;
pub mod proto;
mod request;
mod session;
mod splitmix;
mod status;
mod table;

pub use auth::{
    AuthAnswer, AuthCheck, CheckRequest, Verdict, AUTHZ_METHOD, AUTHZ_SERVICE, AUTHZ_TIMEOUT_MS,
};
pub use compile::{
    compile, compile_bytes, Compiled, DEFAULT_AUTHORITY_TEMPLATE, DEFAULT_CLUSTER_TEMPLATE,
    DEFAULT_SUBSET_CLUSTER_TEMPLATE,
};
pub use config::{ConfigError, PluginConfig};
pub use decision::{Action, Decision, Forward, RuleRef};
pub use effect::{
    Backend, HeaderEdits, LocalReply, Target, DEFAULT_CLUSTER_HEADER, GRPC_UNAVAILABLE,
    GRPC_UNIMPLEMENTED,
};
pub use hostname::hostnames_intersect;
pub use problem::{Problem, Severity};
pub use request::{borrow_pairs, HeaderPairs, RequestView};
pub use splitmix::SplitMix64;
pub use status::{
    Condition, GatewayStatus, ListenerSetStatus, ListenerStatus, ParentStatus, PolicyStatus,
    PolicyTargetStatus, RouteStatus, Status,
};
pub use table::RouteTable;
