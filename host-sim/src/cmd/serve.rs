//! `host-sim serve` and `host-sim echo`: a local gateway on real sockets and a backend for it;
//! the work is in [`crate::serve`].

use anyhow::Result;

use super::Exit;
use crate::cli::{EchoArgs, ServeArgs};

/// Runs `host-sim serve` until the process is stopped.
///
/// # Errors
///
/// When the module, the first configuration or a listener cannot be set up.
pub fn serve(args: &ServeArgs) -> Result<Exit> {
    crate::serve::run(args)?;
    Ok(Exit::Success)
}

/// Runs `host-sim echo` until the process is stopped.
///
/// # Errors
///
/// When the address cannot be bound.
pub fn echo(args: &EchoArgs) -> Result<Exit> {
    crate::serve::echo(args.listen, &args.name)?;
    Ok(Exit::Success)
}
