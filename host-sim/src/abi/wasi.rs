//! The WASI preview1 subset Envoy gives a proxy-wasm module, written by hand to Envoy's rules
//! rather than taken from `wasmtime-wasi` (reference §1.4, §3.5).
//!
//! stdout and stderr become log lines (info and error), clocks read the simulator's clock, random
//! bytes are deterministic from the seed, the environment is only what the plugin options list.
//! There is no filesystem: every other WASI import a module declares returns `ENOSYS`
//! (`mod.rs` registers those), and `proc_exit` traps.

use gatewasm_core::SplitMix64;
use wasmtime::{bail, Result};
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter_unrestricted, get_u32, put_bytes, put_u32, put_u64, split};
use super::timers::Timers;
use super::types::LogLevel;
use super::HostState;

/// The import module names cpp-host registers WASI under.
pub const MODULES: [&str; 2] = ["wasi_snapshot_preview1", "wasi_unstable"];

/// WASI errno values used here.
pub mod errno {
    /// Success.
    pub const SUCCESS: i32 = 0;
    /// Bad file descriptor.
    pub const BADF: i32 = 8;
    /// Invalid argument.
    pub const INVAL: i32 = 28;
    /// Function not implemented.
    pub const NOSYS: i32 = 52;
    /// Not supported.
    pub const NOTSUP: i32 = 58;
}

/// cpp-host's limit for one `random_get` call.
pub const RANDOM_GET_MAX: usize = 64 * 1024;

/// The WASI-only state of a VM (the clock is shared with `timers.rs`).
#[derive(Clone, Debug, Default)]
pub struct WasiState {
    /// The seeded generator behind `random_get`.
    pub rng: SplitMix64,
    /// `environ_get` entries, in order.
    pub env: Vec<(String, String)>,
}

/// `fd_write` on stdout (info) or stderr (error): one log line per call, trailing newline removed;
/// any other descriptor is `BADF`. Returns the byte count written.
pub fn fd_write(state: &mut HostState, fd: i32, data: &[u8]) -> Result<usize, i32> {
    let level = match fd {
        1 => LogLevel::Info,
        2 => LogLevel::Error,
        _ => return Err(errno::BADF),
    };
    if !data.is_empty() {
        let text = data.strip_suffix(b"\n").unwrap_or(data);
        state.log.push(level, text);
    }
    Ok(data.len())
}

/// `clock_time_get`: clock 0 is real time, clock 1 monotonic, anything else `NOTSUP`.
pub fn clock_time_get(timers: &Timers, clock: i32) -> Result<u64, i32> {
    match clock {
        0 => Ok(timers.clock.realtime_ns),
        1 => Ok(timers.clock.monotonic_ns),
        _ => Err(errno::NOTSUP),
    }
}

/// `random_get`: at most 64 KiB per call (`INVAL` above), deterministic from the seed.
pub fn random_get(wasi: &mut WasiState, len: usize) -> Result<Vec<u8>, i32> {
    if len > RANDOM_GET_MAX {
        return Err(errno::INVAL);
    }
    let mut out = vec![0; len];
    for chunk in out.chunks_mut(8) {
        let word = wasi.rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    Ok(out)
}

/// The `KEY=VALUE\0` strings `environ_get` writes, in order.
pub fn environ_strings(env: &[(String, String)]) -> Vec<Vec<u8>> {
    env.iter()
        .map(|(k, v)| format!("{k}={v}\0").into_bytes())
        .collect()
}

fn fd_write_shim(
    mut caller: Caller<'_, HostState>,
    fd: i32,
    iovs: i32,
    iovs_len: i32,
    ret_written: i32,
) -> Result<i32> {
    const NAME: &str = "fd_write";
    enter_unrestricted(&mut caller, NAME);
    let (mem, state) = split(&mut caller, NAME)?;
    let mut data = Vec::new();
    for index in 0..iovs_len.max(0) {
        let iov = iovs.wrapping_add(index.wrapping_mul(8));
        let ptr = get_u32(mem, iov, NAME)?;
        let len = get_u32(mem, iov.wrapping_add(4), NAME)?;
        data.extend_from_slice(bytes(mem, ptr as i32, len as i32, NAME)?);
    }
    match fd_write(state, fd, &data) {
        Ok(written) => {
            put_u32(mem, ret_written, written as u32, NAME)?;
            Ok(errno::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

fn clock_time_get_shim(
    mut caller: Caller<'_, HostState>,
    clock: i32,
    _precision: i64,
    ret_time: i32,
) -> Result<i32> {
    const NAME: &str = "clock_time_get";
    enter_unrestricted(&mut caller, NAME);
    let (mem, state) = split(&mut caller, NAME)?;
    match clock_time_get(&state.timers, clock) {
        Ok(time) => {
            put_u64(mem, ret_time, time, NAME)?;
            Ok(errno::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

fn random_get_shim(mut caller: Caller<'_, HostState>, buf: i32, len: i32) -> Result<i32> {
    const NAME: &str = "random_get";
    enter_unrestricted(&mut caller, NAME);
    let (mem, state) = split(&mut caller, NAME)?;
    match random_get(&mut state.wasi, len as u32 as usize) {
        Ok(random) => {
            put_bytes(mem, buf, &random, NAME)?;
            Ok(errno::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}

fn environ_sizes_get_shim(
    mut caller: Caller<'_, HostState>,
    ret_count: i32,
    ret_size: i32,
) -> Result<i32> {
    const NAME: &str = "environ_sizes_get";
    enter_unrestricted(&mut caller, NAME);
    let (mem, state) = split(&mut caller, NAME)?;
    let strings = environ_strings(&state.wasi.env);
    put_u32(mem, ret_count, strings.len() as u32, NAME)?;
    put_u32(
        mem,
        ret_size,
        strings.iter().map(Vec::len).sum::<usize>() as u32,
        NAME,
    )?;
    Ok(errno::SUCCESS)
}

fn environ_get_shim(mut caller: Caller<'_, HostState>, environ: i32, buf: i32) -> Result<i32> {
    const NAME: &str = "environ_get";
    enter_unrestricted(&mut caller, NAME);
    let (mem, state) = split(&mut caller, NAME)?;
    let (mut slot, mut at) = (environ, buf);
    for entry in environ_strings(&state.wasi.env) {
        put_u32(mem, slot, at as u32, NAME)?;
        put_bytes(mem, at, &entry, NAME)?;
        slot = slot.wrapping_add(4);
        at = at.wrapping_add(entry.len() as i32);
    }
    Ok(errno::SUCCESS)
}

fn args_sizes_get_shim(
    mut caller: Caller<'_, HostState>,
    ret_argc: i32,
    ret_size: i32,
) -> Result<i32> {
    const NAME: &str = "args_sizes_get";
    enter_unrestricted(&mut caller, NAME);
    let (mem, _) = split(&mut caller, NAME)?;
    put_u32(mem, ret_argc, 0, NAME)?;
    put_u32(mem, ret_size, 0, NAME)?;
    Ok(errno::SUCCESS)
}

fn args_get_shim(mut caller: Caller<'_, HostState>, _argv: i32, _buf: i32) -> Result<i32> {
    enter_unrestricted(&mut caller, "args_get");
    Ok(errno::SUCCESS)
}

fn fd_prestat_get_shim(mut caller: Caller<'_, HostState>, _fd: i32, _buf: i32) -> Result<i32> {
    // No preopened directories: BADF ends wasi-libc's preopen scan, as on Envoy.
    enter_unrestricted(&mut caller, "fd_prestat_get");
    Ok(errno::BADF)
}

fn proc_exit_shim(mut caller: Caller<'_, HostState>, code: i32) -> Result<()> {
    enter_unrestricted(&mut caller, "proc_exit");
    bail!("proc_exit({code}): the module exited; Envoy treats this as a VM failure")
}

/// Registers the implemented WASI functions under both WASI module names.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    for module in MODULES {
        linker.func_wrap(module, "fd_write", fd_write_shim)?;
        linker.func_wrap(module, "clock_time_get", clock_time_get_shim)?;
        linker.func_wrap(module, "random_get", random_get_shim)?;
        linker.func_wrap(module, "environ_sizes_get", environ_sizes_get_shim)?;
        linker.func_wrap(module, "environ_get", environ_get_shim)?;
        linker.func_wrap(module, "args_sizes_get", args_sizes_get_shim)?;
        linker.func_wrap(module, "args_get", args_get_shim)?;
        linker.func_wrap(module, "fd_prestat_get", fd_prestat_get_shim)?;
        linker.func_wrap(module, "proc_exit", proc_exit_shim)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_is_deterministic_and_limited() {
        let mut a = WasiState {
            rng: SplitMix64::new(42),
            ..WasiState::default()
        };
        let mut b = WasiState {
            rng: SplitMix64::new(42),
            ..WasiState::default()
        };
        let first = random_get(&mut a, 13).unwrap();
        assert_eq!(first, random_get(&mut b, 13).unwrap());
        assert_ne!(first, random_get(&mut a, 13).unwrap());
        assert_eq!(
            random_get(&mut a, RANDOM_GET_MAX).map(|v| v.len()),
            Ok(RANDOM_GET_MAX)
        );
        assert_eq!(random_get(&mut a, RANDOM_GET_MAX + 1), Err(errno::INVAL));
    }

    #[test]
    fn stdout_and_stderr_become_log_lines() {
        let mut state = HostState::default();
        assert_eq!(fd_write(&mut state, 1, b"hello\n"), Ok(6));
        assert_eq!(fd_write(&mut state, 2, b"oops"), Ok(4));
        assert_eq!(fd_write(&mut state, 3, b"x"), Err(errno::BADF));
        let lines: Vec<(LogLevel, &str)> = state
            .log
            .entries
            .iter()
            .map(|e| (e.level, e.message.as_str()))
            .collect();
        assert_eq!(
            lines,
            [(LogLevel::Info, "hello"), (LogLevel::Error, "oops")]
        );
    }

    #[test]
    fn clocks_zero_and_one_only() {
        let timers = Timers::default();
        assert_eq!(clock_time_get(&timers, 0), Ok(timers.clock.realtime_ns));
        assert_eq!(clock_time_get(&timers, 1), Ok(timers.clock.monotonic_ns));
        assert_eq!(clock_time_get(&timers, 2), Err(errno::NOTSUP));
    }

    #[test]
    fn environ_strings_are_nul_terminated() {
        let env = vec![
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), String::new()),
        ];
        assert_eq!(environ_strings(&env), [b"A=1\0".to_vec(), b"B=\0".to_vec()]);
    }
}
