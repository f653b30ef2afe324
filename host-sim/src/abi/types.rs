//! The proxy-wasm ABI v0.2.1 enumerations as the host sees them (reference §1.5).
//!
//! Only values a guest can pass or receive live here; the semantics that use them are in the
//! area files. `Status` deliberately has no `InvalidMemoryAccess` (6) or `Unimplemented` (12):
//! the Rust SDK panics on both, so this host never returns them (bad pointers trap instead).

use std::fmt;

/// A guest-visible result: `Ok(value)` is written back, `Err(status)` is returned as the status.
pub type HostResult<T> = Result<T, Status>;

/// `proxy_status_t`, minus the two codes the Rust SDK cannot handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: success.
    Ok = 0,
    /// 1: the key, context, queue or metric does not exist.
    NotFound = 1,
    /// 2: the call is not valid here (wrong phase, bad enum, missing header).
    BadArgument = 2,
    /// 3: a property value could not be serialized.
    SerializationFailure = 3,
    /// 4: an argument could not be parsed.
    ParseFailure = 4,
    /// 7: the queue is empty.
    Empty = 7,
    /// 8: compare-and-swap lost.
    CasMismatch = 8,
    /// 10: the host failed.
    InternalFailure = 10,
}

impl Status {
    /// The code the guest sees.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// `proxy_map_type_t`: which header map a call addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    /// 0
    HttpRequestHeaders,
    /// 1
    HttpRequestTrailers,
    /// 2
    HttpResponseHeaders,
    /// 3
    HttpResponseTrailers,
    /// 4
    GrpcReceiveInitialMetadata,
    /// 5
    GrpcReceiveTrailingMetadata,
    /// 6
    HttpCallResponseHeaders,
    /// 7
    HttpCallResponseTrailers,
}

impl MapType {
    /// Decodes the guest's value; unknown values are `BadArgument`, as in cpp-host.
    pub fn from_raw(raw: i32) -> HostResult<Self> {
        Ok(match raw {
            0 => Self::HttpRequestHeaders,
            1 => Self::HttpRequestTrailers,
            2 => Self::HttpResponseHeaders,
            3 => Self::HttpResponseTrailers,
            4 => Self::GrpcReceiveInitialMetadata,
            5 => Self::GrpcReceiveTrailingMetadata,
            6 => Self::HttpCallResponseHeaders,
            7 => Self::HttpCallResponseTrailers,
            _ => return Err(Status::BadArgument),
        })
    }
}

/// `proxy_buffer_type_t`: which byte buffer a call addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferType {
    /// 0
    HttpRequestBody,
    /// 1
    HttpResponseBody,
    /// 2
    DownstreamData,
    /// 3
    UpstreamData,
    /// 4
    HttpCallResponseBody,
    /// 5
    GrpcReceiveBuffer,
    /// 6
    VmConfiguration,
    /// 7
    PluginConfiguration,
    /// 8
    ForeignFunctionArguments,
}

impl BufferType {
    /// Decodes the guest's value; unknown values are `BadArgument`, as in cpp-host.
    pub fn from_raw(raw: i32) -> HostResult<Self> {
        Ok(match raw {
            0 => Self::HttpRequestBody,
            1 => Self::HttpResponseBody,
            2 => Self::DownstreamData,
            3 => Self::UpstreamData,
            4 => Self::HttpCallResponseBody,
            5 => Self::GrpcReceiveBuffer,
            6 => Self::VmConfiguration,
            7 => Self::PluginConfiguration,
            8 => Self::ForeignFunctionArguments,
            _ => return Err(Status::BadArgument),
        })
    }
}

/// `proxy_stream_type_t`: which direction `continue_stream` / `close_stream` address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamType {
    /// 0: the HTTP request (decoder side).
    HttpRequest,
    /// 1: the HTTP response (encoder side).
    HttpResponse,
    /// 2: the downstream TCP connection.
    Downstream,
    /// 3: the upstream TCP connection.
    Upstream,
}

impl StreamType {
    /// Decodes the guest's value; values above 3 are `BadArgument`, as in cpp-host.
    pub fn from_raw(raw: i32) -> HostResult<Self> {
        Ok(match raw {
            0 => Self::HttpRequest,
            1 => Self::HttpResponse,
            2 => Self::Downstream,
            3 => Self::Upstream,
            _ => return Err(Status::BadArgument),
        })
    }
}

/// `proxy_log_level_t`, ordered from chattiest to quietest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// 0; the default threshold, so every line is kept.
    #[default]
    Trace,
    /// 1
    Debug,
    /// 2
    Info,
    /// 3
    Warn,
    /// 4
    Error,
    /// 5
    Critical,
}

impl LogLevel {
    /// Decodes the guest's value; there is no level above 5.
    pub fn from_raw(raw: i32) -> HostResult<Self> {
        Ok(match raw {
            0 => Self::Trace,
            1 => Self::Debug,
            2 => Self::Info,
            3 => Self::Warn,
            4 => Self::Error,
            5 => Self::Critical,
            _ => return Err(Status::BadArgument),
        })
    }

    /// The ABI value.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The lowercase name Envoy prints (`trace` … `critical`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `proxy_metric_type_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// 0: only grows.
    Counter,
    /// 1: set, added to or subtracted from.
    Gauge,
    /// 2: records samples.
    Histogram,
}

impl MetricType {
    /// Decodes the guest's value; unknown types are `BadArgument`, as in Envoy.
    pub fn from_raw(raw: i32) -> HostResult<Self> {
        Ok(match raw {
            0 => Self::Counter,
            1 => Self::Gauge,
            2 => Self::Histogram,
            _ => return Err(Status::BadArgument),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_are_bad_argument() {
        assert_eq!(MapType::from_raw(8), Err(Status::BadArgument));
        assert_eq!(BufferType::from_raw(9), Err(Status::BadArgument));
        assert_eq!(StreamType::from_raw(4), Err(Status::BadArgument));
        assert_eq!(LogLevel::from_raw(6), Err(Status::BadArgument));
        assert_eq!(MetricType::from_raw(3), Err(Status::BadArgument));
        assert_eq!(MapType::from_raw(-1), Err(Status::BadArgument));
    }

    #[test]
    fn status_codes_match_the_spec() {
        assert_eq!(Status::Empty.code(), 7);
        assert_eq!(Status::CasMismatch.code(), 8);
        assert_eq!(Status::InternalFailure.code(), 10);
    }
}
