//! gRPC callouts: `proxy_grpc_call`, `proxy_grpc_stream`, `proxy_grpc_send`, `proxy_grpc_cancel`
//! and `proxy_grpc_close`, recorded here (reference §1.3); none is sent from here.
//!
//! Tokens follow Envoy: one counter per VM, odd tokens for unary calls, even ones for streams.
//! A unary call a request waits on is answered by whoever drives the engine (a case file's
//! `auth.grpc`, `serve`, which sends it); streams never get a reply, so a plugin that waits for
//! one stays paused, as it would with an unreachable service. The service descriptor is kept
//! as bytes, as the plugin passed it.

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::headers::parse_header_list;
use super::memory::{bytes, enter, finish, finish_u32, split};
use super::types::{HostResult, Status};
use super::HostState;

/// One `proxy_grpc_call` or `proxy_grpc_stream`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcCall {
    /// The token returned to the plugin (odd: unary call, even: stream).
    pub token: u32,
    /// The context that made the call.
    pub context_id: u32,
    /// The serialized `GrpcService` (or cluster name) the plugin passed.
    pub service: Vec<u8>,
    /// The gRPC service name, e.g. `envoy.service.auth.v3.Authorization`.
    pub service_name: String,
    /// The method name.
    pub method: String,
    /// Initial metadata.
    pub initial_metadata: Vec<(String, Vec<u8>)>,
    /// Messages sent: the request for a unary call, each `proxy_grpc_send` for a stream.
    pub messages: Vec<Vec<u8>>,
    /// Timeout in milliseconds (unary calls).
    pub timeout_ms: u32,
    /// True for a stream.
    pub stream: bool,
    /// Set by `proxy_grpc_cancel` / `proxy_grpc_close`, or a send with end of stream.
    pub closed: bool,
}

/// The VM's gRPC bookkeeping.
#[derive(Clone, Debug, Default)]
pub struct GrpcCalls {
    /// Every call and stream in dispatch order.
    pub calls: Vec<GrpcCall>,
    // The next token value to consider.
    next_token: u32,
}

impl GrpcCalls {
    fn token(&mut self, odd: bool) -> u32 {
        loop {
            self.next_token = self.next_token.wrapping_add(1);
            let token = self.next_token;
            if token != 0 && (token % 2 == 1) == odd {
                return token;
            }
        }
    }

    fn open(&mut self, token: u32) -> Option<&mut GrpcCall> {
        self.calls
            .iter_mut()
            .find(|c| c.token == token && !c.closed)
    }
}

/// The parts of a callout the plugin passes, before a token is assigned.
#[derive(Clone, Copy, Debug)]
pub struct GrpcRequest<'a> {
    /// Serialized `GrpcService`.
    pub service: &'a [u8],
    /// gRPC service name.
    pub service_name: &'a [u8],
    /// Method name.
    pub method: &'a [u8],
    /// Serialized initial metadata (§1.6 pairs).
    pub metadata: &'a [u8],
}

fn record(calls: &mut GrpcCalls, context_id: u32, req: GrpcRequest<'_>, stream: bool) -> u32 {
    let token = calls.token(!stream);
    calls.calls.push(GrpcCall {
        token,
        context_id,
        service: req.service.to_vec(),
        service_name: String::from_utf8_lossy(req.service_name).into_owned(),
        method: String::from_utf8_lossy(req.method).into_owned(),
        initial_metadata: parse_header_list(req.metadata),
        messages: Vec::new(),
        timeout_ms: 0,
        stream,
        closed: false,
    });
    token
}

/// `proxy_grpc_call`: records a unary call and returns an odd token.
pub fn grpc_call(
    calls: &mut GrpcCalls,
    context_id: u32,
    req: GrpcRequest<'_>,
    message: &[u8],
    timeout_ms: u32,
) -> HostResult<u32> {
    let token = record(calls, context_id, req, false);
    if let Some(call) = calls.calls.last_mut() {
        call.messages.push(message.to_vec());
        call.timeout_ms = timeout_ms;
    }
    Ok(token)
}

/// `proxy_grpc_stream`: records a stream and returns an even token.
pub fn grpc_stream(
    calls: &mut GrpcCalls,
    context_id: u32,
    req: GrpcRequest<'_>,
) -> HostResult<u32> {
    Ok(record(calls, context_id, req, true))
}

/// `proxy_grpc_send`: a unary-call token is `BadArgument`, an unknown or closed stream `NotFound`.
pub fn grpc_send(calls: &mut GrpcCalls, token: u32, message: &[u8], end: bool) -> HostResult<()> {
    if token % 2 == 1 {
        return Err(Status::BadArgument);
    }
    let call = calls.open(token).ok_or(Status::NotFound)?;
    call.messages.push(message.to_vec());
    call.closed = end;
    Ok(())
}

/// `proxy_grpc_cancel` and `proxy_grpc_close`: `NotFound` unless the call is open.
pub fn grpc_close(calls: &mut GrpcCalls, token: u32) -> HostResult<()> {
    calls.open(token).ok_or(Status::NotFound)?.closed = true;
    Ok(())
}

/// Registers the five gRPC imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_grpc_call",
        |mut caller: Caller<'_, HostState>,
         svc_ptr: i32,
         svc_len: i32,
         name_ptr: i32,
         name_len: i32,
         method_ptr: i32,
         method_len: i32,
         md_ptr: i32,
         md_len: i32,
         msg_ptr: i32,
         msg_len: i32,
         timeout_ms: i32,
         ret_token: i32| {
            const NAME: &str = "proxy_grpc_call";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let req = GrpcRequest {
                service: bytes(mem, svc_ptr, svc_len, NAME)?,
                service_name: bytes(mem, name_ptr, name_len, NAME)?,
                method: bytes(mem, method_ptr, method_len, NAME)?,
                metadata: bytes(mem, md_ptr, md_len, NAME)?,
            };
            let message = bytes(mem, msg_ptr, msg_len, NAME)?;
            let context = state.lifecycle.current_context;
            let result = grpc_call(&mut state.grpc, context, req, message, timeout_ms as u32);
            finish_u32(&mut caller, result, ret_token, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_stream",
        |mut caller: Caller<'_, HostState>,
         svc_ptr: i32,
         svc_len: i32,
         name_ptr: i32,
         name_len: i32,
         method_ptr: i32,
         method_len: i32,
         md_ptr: i32,
         md_len: i32,
         ret_token: i32| {
            const NAME: &str = "proxy_grpc_stream";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let req = GrpcRequest {
                service: bytes(mem, svc_ptr, svc_len, NAME)?,
                service_name: bytes(mem, name_ptr, name_len, NAME)?,
                method: bytes(mem, method_ptr, method_len, NAME)?,
                metadata: bytes(mem, md_ptr, md_len, NAME)?,
            };
            let context = state.lifecycle.current_context;
            let result = grpc_stream(&mut state.grpc, context, req);
            finish_u32(&mut caller, result, ret_token, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_send",
        |mut caller: Caller<'_, HostState>, token: i32, msg_ptr: i32, msg_len: i32, end: i32| {
            const NAME: &str = "proxy_grpc_send";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let message = bytes(mem, msg_ptr, msg_len, NAME)?;
            Ok(finish(grpc_send(
                &mut state.grpc,
                token as u32,
                message,
                end != 0,
            )))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_cancel",
        |mut caller: Caller<'_, HostState>, token: i32| {
            enter(&mut caller, "proxy_grpc_cancel")?;
            Ok(finish(grpc_close(
                &mut caller.data_mut().grpc,
                token as u32,
            )))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_grpc_close",
        |mut caller: Caller<'_, HostState>, token: i32| {
            enter(&mut caller, "proxy_grpc_close")?;
            Ok(finish(grpc_close(
                &mut caller.data_mut().grpc,
                token as u32,
            )))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: GrpcRequest<'static> = GrpcRequest {
        service: b"authz",
        service_name: b"svc",
        method: b"Check",
        metadata: b"",
    };

    #[test]
    fn calls_get_odd_tokens_and_streams_even_ones() {
        let mut calls = GrpcCalls::default();
        assert_eq!(grpc_call(&mut calls, 2, REQ, b"m", 100), Ok(1));
        assert_eq!(grpc_stream(&mut calls, 2, REQ), Ok(2));
        assert_eq!(grpc_stream(&mut calls, 2, REQ), Ok(4));
        assert_eq!(grpc_call(&mut calls, 2, REQ, b"m", 100), Ok(5));
        assert_eq!(calls.calls[0].messages, [b"m".to_vec()]);
    }

    #[test]
    fn send_and_close_follow_envoy() {
        let mut calls = GrpcCalls::default();
        let unary = grpc_call(&mut calls, 2, REQ, b"", 0).unwrap();
        let stream = grpc_stream(&mut calls, 2, REQ).unwrap();
        assert_eq!(
            grpc_send(&mut calls, unary, b"x", false),
            Err(Status::BadArgument)
        );
        assert_eq!(
            grpc_send(&mut calls, 40, b"x", false),
            Err(Status::NotFound)
        );
        assert_eq!(grpc_send(&mut calls, stream, b"x", true), Ok(()));
        assert_eq!(
            grpc_send(&mut calls, stream, b"y", false),
            Err(Status::NotFound)
        );
        assert_eq!(grpc_close(&mut calls, unary), Ok(()));
        assert_eq!(grpc_close(&mut calls, unary), Err(Status::NotFound));
    }
}
