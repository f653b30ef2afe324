//! The subcommands, each receiving fully parsed arguments.

mod bench;
mod check;
mod config;
mod package;
mod route;
mod serve;
mod test;

pub use bench::bench;
pub use check::check;
pub use config::config;
pub use package::package;
pub use route::route;
pub use serve::{echo, serve};
pub use test::test;

/// How a command ended, as the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything passed / the request was routed.
    Success = 0,
    /// A case failed, no route matched, or check found a problem.
    Failure = 1,
}
