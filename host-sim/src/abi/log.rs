//! Logging: `proxy_log` and `proxy_get_log_level`, kept as an in-memory list instead of Envoy's
//! `wasm log` lines (reference §1.3).
//!
//! WASI `fd_write` lands here too (from `wasi.rs`). Which lines belong to a stream and which to
//! the VM is the engine's business (`crate::envoy` drains this list after each callback).

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter, enter_unrestricted, finish, finish_u32, split};
use super::types::{HostResult, LogLevel};
use super::HostState;

/// One line the plugin logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The level it was logged at.
    pub level: LogLevel,
    /// The text (lossily decoded if it was not UTF-8).
    pub message: String,
}

/// The VM's log sink.
#[derive(Clone, Debug, Default)]
pub struct LogState {
    /// Lines at or above `level`, oldest first.
    pub entries: Vec<LogEntry>,
    /// Envoy's log level for the wasm logger: lower lines are dropped, and
    /// `proxy_get_log_level` reports it.
    pub level: LogLevel,
}

impl LogState {
    /// Keeps `message` if `level` passes the threshold, as Envoy's logger would.
    pub fn push(&mut self, level: LogLevel, message: &[u8]) {
        if level >= self.level {
            let message = String::from_utf8_lossy(message).into_owned();
            self.entries.push(LogEntry { level, message });
        }
    }
}

/// `proxy_log`: an unknown level is `BadArgument`; everything else is `Ok` (even when filtered).
pub fn log(state: &mut LogState, level: i32, message: &[u8]) -> HostResult<()> {
    state.push(LogLevel::from_raw(level)?, message);
    Ok(())
}

/// `proxy_get_log_level`: the configured threshold.
pub fn get_log_level(state: &LogState) -> HostResult<u32> {
    Ok(state.level.code())
}

/// Registers the two log imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_log",
        |mut caller: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| {
            const NAME: &str = "proxy_log";
            enter_unrestricted(&mut caller, NAME);
            let (mem, state) = split(&mut caller, NAME)?;
            let message = bytes(mem, ptr, len, NAME)?;
            Ok(finish(log(&mut state.log, level, message)))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_log_level",
        |mut caller: Caller<'_, HostState>, ret_level: i32| {
            const NAME: &str = "proxy_get_log_level";
            enter(&mut caller, NAME)?;
            let result = get_log_level(&caller.data().log);
            finish_u32(&mut caller, result, ret_level, NAME)
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::types::Status;

    #[test]
    fn lines_below_the_level_are_dropped_but_ok() {
        let mut state = LogState {
            level: LogLevel::Info,
            ..LogState::default()
        };
        assert_eq!(log(&mut state, 1, b"debug line"), Ok(()));
        assert_eq!(log(&mut state, 3, b"warn line"), Ok(()));
        assert_eq!(
            state.entries,
            [LogEntry {
                level: LogLevel::Warn,
                message: "warn line".into()
            }]
        );
        assert_eq!(get_log_level(&state), Ok(2));
    }

    #[test]
    fn unknown_level_is_bad_argument() {
        let mut state = LogState::default();
        assert_eq!(log(&mut state, 9, b"x"), Err(Status::BadArgument));
        assert!(state.entries.is_empty());
    }
}
