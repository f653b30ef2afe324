//! Context and stream control: `proxy_done`, `proxy_set_effective_context`,
//! `proxy_continue_stream`, `proxy_close_stream`, `proxy_send_local_response`, `proxy_get_status`
//! and `proxy_call_foreign_function` (reference §1.7 "Deferred actions", §1.8).
//!
//! Every stream action is only queued here: the engine (`crate::envoy`) runs the queue after the
//! callback returns, as cpp-host's `addAfterVmCallAction` does, so the guest is never re-entered
//! from inside a hostcall. The only foreign function is `clear_route_cache`.

use std::collections::BTreeSet;

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::headers::{parse_header_list, Access};
use super::memory::{bytes, enter, finish, finish_bytes, put_u32, return_bytes, split};
use super::types::{HostResult, Status, StreamType};
use super::HostState;

/// A local reply the plugin (or the failure policy) sent instead of going upstream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalReply {
    /// HTTP status code.
    pub status: u32,
    /// Response code details, with whitespace turned into `_` as Envoy does.
    pub details: String,
    /// Body (for a gRPC request Envoy moves it into `grpc-message`).
    pub body: Vec<u8>,
    /// Extra response headers, appended in order, names lowercased.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The gRPC status the plugin asked for (`None` for the SDK's -1).
    pub grpc_status: Option<i32>,
}

/// An action queued during a callback, run by the engine after it returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deferred {
    /// `proxy_continue_stream`.
    Continue(StreamType),
    /// `proxy_close_stream`: Envoy resets the stream.
    Close(StreamType),
    /// `proxy_send_local_response`.
    LocalReply(LocalReply),
}

/// Context bookkeeping and the deferred-action queue of one VM.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    /// The root context of the running callback.
    pub root_context: u32,
    /// The effective context (the callback's, unless `proxy_set_effective_context` changed it).
    pub current_context: u32,
    /// Every live context id (roots and streams).
    pub contexts: BTreeSet<u32>,
    /// The live HTTP stream, if any.
    pub stream_context: Option<u32>,
    /// Root contexts whose `on_done` returned false: they wait for `proxy_done`.
    pub pending_done: BTreeSet<u32>,
    /// Root contexts that called `proxy_done`; the engine deletes them after the callback.
    pub done: Vec<u32>,
    /// Actions queued by the running callback.
    pub deferred: Vec<Deferred>,
    /// `proxy_send_local_response` ran in this callback: Envoy forces "stop" whatever the plugin
    /// returns.
    pub local_reply_sent: bool,
    /// `clear_route_cache` ran during the current stream.
    pub route_cache_cleared: bool,
    /// What `proxy_get_status` reports (code, message): the last callout's status.
    pub status: (u32, Vec<u8>),
}

impl Lifecycle {
    fn in_stream(&self) -> bool {
        self.stream_context.is_some() && self.stream_context == Some(self.current_context)
    }
}

/// `proxy_continue_stream`: queues the continue. Envoy forgets the request headers, body and
/// trailers right away (for `Response` too, as in Envoy's `continueStream`). TCP stream types
/// are `BadArgument` on an HTTP context, and values above 3 always are.
pub fn continue_stream(state: &mut HostState, kind: i32) -> HostResult<()> {
    let kind = StreamType::from_raw(kind)?;
    if matches!(kind, StreamType::Downstream | StreamType::Upstream) {
        return Err(Status::BadArgument);
    }
    if state.lifecycle.in_stream() {
        state.lifecycle.deferred.push(Deferred::Continue(kind));
    }
    state.headers.request.access = Access::Absent;
    state.headers.request_trailers.access = Access::Absent;
    state.buffers.request_body = None;
    Ok(())
}

/// `proxy_close_stream`: queues a reset of the HTTP stream; TCP types are a no-op `Ok` on an HTTP
/// context; values above 3 are `BadArgument`.
pub fn close_stream(state: &mut HostState, kind: i32) -> HostResult<()> {
    let kind = StreamType::from_raw(kind)?;
    if state.lifecycle.in_stream()
        && matches!(kind, StreamType::HttpRequest | StreamType::HttpResponse)
    {
        state.lifecycle.deferred.push(Deferred::Close(kind));
    }
    Ok(())
}

/// `proxy_send_local_response`: queues the reply and forces "stop" for this callback. From a
/// root context (no stream) it does nothing, as Envoy has no decoder callbacks there.
pub fn send_local_response(
    lifecycle: &mut Lifecycle,
    status: u32,
    details: &[u8],
    body: &[u8],
    headers: &[u8],
    grpc_status: i32,
) -> HostResult<()> {
    let details: String = String::from_utf8_lossy(details)
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    let reply = LocalReply {
        status,
        details,
        body: body.to_vec(),
        headers: parse_header_list(headers),
        grpc_status: (0..=16).contains(&grpc_status).then_some(grpc_status),
    };
    if lifecycle.in_stream() {
        lifecycle.deferred.push(Deferred::LocalReply(reply));
    }
    lifecycle.local_reply_sent = true;
    Ok(())
}

/// `proxy_call_foreign_function`: `clear_route_cache` (no arguments, empty result) marks the route
/// as re-resolved; any other name is `NotFound`, as on an Envoy without that function.
pub fn call_foreign_function(
    state: &mut HostState,
    name: &[u8],
    _args: &[u8],
) -> HostResult<Vec<u8>> {
    match name {
        b"clear_route_cache" => {
            if state.lifecycle.in_stream() {
                state.headers.request_edited = false;
                state.lifecycle.route_cache_cleared = true;
            }
            Ok(Vec::new())
        }
        _ => Err(Status::NotFound),
    }
}

/// `proxy_done`: only a root context whose `on_done` returned false may call it (`NotFound`
/// otherwise, which the SDK turns into a panic, as on Envoy).
pub fn done(lifecycle: &mut Lifecycle) -> HostResult<()> {
    let context = lifecycle.current_context;
    if lifecycle.pending_done.remove(&context) {
        lifecycle.done.push(context);
        Ok(())
    } else {
        Err(Status::NotFound)
    }
}

/// `proxy_set_effective_context`: `BadArgument` for an id that is not a live context.
pub fn set_effective_context(lifecycle: &mut Lifecycle, context_id: u32) -> HostResult<()> {
    if !lifecycle.contexts.contains(&context_id) {
        return Err(Status::BadArgument);
    }
    lifecycle.current_context = context_id;
    Ok(())
}

/// Registers the seven context and stream-control imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap("env", "proxy_done", |mut caller: Caller<'_, HostState>| {
        enter(&mut caller, "proxy_done")?;
        Ok(finish(done(&mut caller.data_mut().lifecycle)))
    })?;
    linker.func_wrap(
        "env",
        "proxy_set_effective_context",
        |mut caller: Caller<'_, HostState>, context_id: i32| {
            enter(&mut caller, "proxy_set_effective_context")?;
            Ok(finish(set_effective_context(
                &mut caller.data_mut().lifecycle,
                context_id as u32,
            )))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_continue_stream",
        |mut caller: Caller<'_, HostState>, kind: i32| {
            enter(&mut caller, "proxy_continue_stream")?;
            Ok(finish(continue_stream(caller.data_mut(), kind)))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_close_stream",
        |mut caller: Caller<'_, HostState>, kind: i32| {
            enter(&mut caller, "proxy_close_stream")?;
            Ok(finish(close_stream(caller.data_mut(), kind)))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_send_local_response",
        |mut caller: Caller<'_, HostState>,
         status: i32,
         details_ptr: i32,
         details_len: i32,
         body_ptr: i32,
         body_len: i32,
         headers_ptr: i32,
         headers_len: i32,
         grpc_status: i32| {
            const NAME: &str = "proxy_send_local_response";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let details = bytes(mem, details_ptr, details_len, NAME)?;
            let body = bytes(mem, body_ptr, body_len, NAME)?;
            let headers = bytes(mem, headers_ptr, headers_len, NAME)?;
            let result = send_local_response(
                &mut state.lifecycle,
                status as u32,
                details,
                body,
                headers,
                grpc_status,
            );
            Ok(finish(result))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_status",
        |mut caller: Caller<'_, HostState>, ret_code: i32, ret_ptr: i32, ret_size: i32| {
            const NAME: &str = "proxy_get_status";
            enter(&mut caller, NAME)?;
            let (code, message) = caller.data().lifecycle.status.clone();
            let (mem, _) = split(&mut caller, NAME)?;
            put_u32(mem, ret_code, code, NAME)?;
            return_bytes(&mut caller, &message, ret_ptr, ret_size, NAME)?;
            Ok(Status::Ok.code())
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_call_foreign_function",
        |mut caller: Caller<'_, HostState>,
         name_ptr: i32,
         name_len: i32,
         args_ptr: i32,
         args_len: i32,
         ret_ptr: i32,
         ret_size: i32| {
            const NAME: &str = "proxy_call_foreign_function";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let name = bytes(mem, name_ptr, name_len, NAME)?;
            let args = bytes(mem, args_ptr, args_len, NAME)?;
            let result = call_foreign_function(state, name, args);
            finish_bytes(&mut caller, result, ret_ptr, ret_size, NAME)
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::headers::{serialize_pairs, HeaderMap, MapSlot};

    fn in_stream() -> HostState {
        let mut state = HostState::default();
        state.lifecycle.contexts.extend([1, 2]);
        state.lifecycle.root_context = 1;
        state.lifecycle.current_context = 2;
        state.lifecycle.stream_context = Some(2);
        state.headers.request = MapSlot::mutable(HeaderMap::from_pairs(&[(":path", "/")]));
        state
    }

    #[test]
    fn continue_is_deferred_and_drops_request_headers_at_once() {
        let mut state = in_stream();
        assert_eq!(continue_stream(&mut state, 0), Ok(()));
        assert_eq!(
            state.lifecycle.deferred,
            [Deferred::Continue(StreamType::HttpRequest)]
        );
        assert_eq!(state.headers.request.access, Access::Absent);
        assert_eq!(continue_stream(&mut state, 2), Err(Status::BadArgument));
        assert_eq!(continue_stream(&mut state, 4), Err(Status::BadArgument));
    }

    #[test]
    fn local_reply_is_deferred_with_envoy_details_and_grpc_status() {
        let mut state = in_stream();
        let headers = serialize_pairs(&[("X-Reason", "denied")]);
        send_local_response(
            &mut state.lifecycle,
            403,
            b"access denied",
            b"no",
            &headers,
            -1,
        )
        .unwrap();
        send_local_response(&mut state.lifecycle, 200, b"", b"", &[], 7).unwrap();
        let [Deferred::LocalReply(first), Deferred::LocalReply(second)] =
            state.lifecycle.deferred.as_slice()
        else {
            panic!("expected two local replies: {:?}", state.lifecycle.deferred);
        };
        assert_eq!(first.details, "access_denied");
        assert_eq!(
            first.headers,
            [("x-reason".to_string(), b"denied".to_vec())]
        );
        assert_eq!(first.grpc_status, None);
        assert_eq!(second.grpc_status, Some(7));
        assert!(state.lifecycle.local_reply_sent);
    }

    #[test]
    fn clear_route_cache_is_the_only_foreign_function() {
        let mut state = in_stream();
        state.headers.request_edited = true;
        assert_eq!(
            call_foreign_function(&mut state, b"clear_route_cache", b""),
            Ok(Vec::new())
        );
        assert!(state.lifecycle.route_cache_cleared);
        assert!(!state.headers.request_edited);
        assert_eq!(
            call_foreign_function(&mut state, b"compress", b"x"),
            Err(Status::NotFound)
        );
    }

    #[test]
    fn root_context_stream_actions_do_nothing() {
        let mut state = in_stream();
        state.lifecycle.current_context = 1;
        assert_eq!(close_stream(&mut state, 0), Ok(()));
        send_local_response(&mut state.lifecycle, 500, b"", b"", &[], -1).unwrap();
        assert!(state.lifecycle.deferred.is_empty());
    }

    #[test]
    fn done_and_effective_context() {
        let mut lifecycle = in_stream().lifecycle;
        assert_eq!(
            set_effective_context(&mut lifecycle, 9),
            Err(Status::BadArgument)
        );
        assert_eq!(set_effective_context(&mut lifecycle, 1), Ok(()));
        assert_eq!(done(&mut lifecycle), Err(Status::NotFound));
        lifecycle.pending_done.insert(1);
        assert_eq!(done(&mut lifecycle), Ok(()));
        assert_eq!(lifecycle.done, [1]);
    }
}
