//! One access-log line per request on stdout, with the fields of the Envoy example's format
//! (`deploy::envoy`): start time, the request line, the status, Envoy's response flags, the
//! filter's decision from its filter state, and the cluster; then the duration.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the line says about one request.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line<'a> {
    /// When the request arrived.
    pub(super) start: SystemTime,
    /// `:method`.
    pub(super) method: &'a str,
    /// `:authority`.
    pub(super) authority: &'a str,
    /// `:path`.
    pub(super) path: &'a str,
    /// `HTTP/1.1` or `HTTP/2`.
    pub(super) protocol: &'a str,
    /// The status the client got (0: reset).
    pub(super) status: u32,
    /// Envoy's response flag, if any.
    pub(super) flag: Option<&'a str>,
    /// The filter's decision (`namespace/name rule backend`).
    pub(super) decision: Option<&'a str>,
    /// The cluster the request went to.
    pub(super) cluster: Option<&'a str>,
    /// Until the response headers.
    pub(super) duration: Duration,
}

/// Prints `line`.
pub(super) fn print(line: &Line<'_>) {
    let text = format!(
        "[{}] \"{} {}{} {}\" {} {} gatewasm=\"{}\" cluster={} {}ms\n",
        timestamp(line.start),
        line.method,
        line.authority,
        line.path,
        line.protocol,
        line.status,
        line.flag.unwrap_or("-"),
        line.decision.unwrap_or("-"),
        line.cluster.unwrap_or("-"),
        line.duration.as_millis()
    );
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `2026-12-04T19:02:39.123Z`, Envoy's `%START_TIME%`.
pub(super) fn timestamp(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_read_as_utc() {
        assert_eq!(super::timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_796_410_959_123);
        assert_eq!(super::timestamp(t), "2026-12-04T19:02:39.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(super::timestamp(leap), "2000-02-29T00:00:00.000Z");
    }
}
