//! Time: the controllable clock, `proxy_get_current_time_nanoseconds` and
//! `proxy_set_tick_period_milliseconds` (reference §1.3, §1.8 "Ticks").
//!
//! The clock never moves on its own (Envoy's may look frozen within a callback too); the engine
//! advances it when a test asks. WASI `clock_time_get` reads the same clock (`wasi.rs`).

use std::collections::BTreeMap;

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{enter, finish, finish_u64};
use super::types::HostResult;
use super::HostState;

/// 2024-01-01T00:00:00Z in Unix nanoseconds: the default fixed instant.
pub const DEFAULT_REALTIME_NS: u64 = 1_704_067_200_000_000_000;

/// Wall and monotonic time as the plugin sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Unix time in nanoseconds (WASI clock 0, `proxy_get_current_time_nanoseconds`).
    pub realtime_ns: u64,
    /// Monotonic time in nanoseconds (WASI clock 1).
    pub monotonic_ns: u64,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            realtime_ns: DEFAULT_REALTIME_NS,
            monotonic_ns: 1_000_000_000,
        }
    }
}

impl Clock {
    /// Moves both clocks forward.
    pub fn advance(&mut self, nanos: u64) {
        self.realtime_ns = self.realtime_ns.saturating_add(nanos);
        self.monotonic_ns = self.monotonic_ns.saturating_add(nanos);
    }
}

/// The clock and the tick period of each root context.
#[derive(Clone, Debug, Default)]
pub struct Timers {
    /// The clock.
    pub clock: Clock,
    /// Root context id -> tick period in milliseconds (absent or 0: no ticks).
    pub tick_periods: BTreeMap<u32, u32>,
}

/// `proxy_get_current_time_nanoseconds`.
pub fn current_time(timers: &Timers) -> HostResult<u64> {
    Ok(timers.clock.realtime_ns)
}

/// `proxy_set_tick_period_milliseconds`: applies to the caller's root context; 0 stops ticks.
pub fn set_tick_period(timers: &mut Timers, root_context: u32, period_ms: u32) -> HostResult<()> {
    if period_ms == 0 {
        timers.tick_periods.remove(&root_context);
    } else {
        timers.tick_periods.insert(root_context, period_ms);
    }
    Ok(())
}

/// Registers the two time imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_get_current_time_nanoseconds",
        |mut caller: Caller<'_, HostState>, ret_time: i32| {
            const NAME: &str = "proxy_get_current_time_nanoseconds";
            enter(&mut caller, NAME)?;
            let result = current_time(&caller.data().timers);
            finish_u64(&mut caller, result, ret_time, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_set_tick_period_milliseconds",
        |mut caller: Caller<'_, HostState>, period: i32| {
            enter(&mut caller, "proxy_set_tick_period_milliseconds")?;
            let state = caller.data_mut();
            let root = state.lifecycle.root_context;
            Ok(finish(set_tick_period(
                &mut state.timers,
                root,
                period as u32,
            )))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_periods_are_per_root_and_zero_stops() {
        let mut timers = Timers::default();
        set_tick_period(&mut timers, 1, 500).unwrap();
        set_tick_period(&mut timers, 3, 100).unwrap();
        set_tick_period(&mut timers, 1, 0).unwrap();
        assert_eq!(
            timers.tick_periods.into_iter().collect::<Vec<_>>(),
            [(3, 100)]
        );
    }

    #[test]
    fn clock_is_fixed_until_advanced() {
        let mut timers = Timers::default();
        assert_eq!(current_time(&timers), Ok(DEFAULT_REALTIME_NS));
        timers.clock.advance(5);
        assert_eq!(current_time(&timers), Ok(DEFAULT_REALTIME_NS + 5));
        assert_eq!(timers.clock.monotonic_ns, 1_000_000_005);
    }
}
