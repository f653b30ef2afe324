//! The floor filter: the fewest host calls any routing filter must make, and nothing else.
//!
//! On each request it reads all request headers once (bytes, never UTF-8 decoded), sets
//! `x-floor-cluster: floor`, asks Envoy to clear the route cache (errors ignored, as on an Envoy
//! older than 1.33), and continues. It does no routing: benchmarks subtract its cost from the real
//! filter's, and host-sim's engine tests use it as a well-behaved guest. No hostcall but logging
//! setup runs inside `main!` (reference §1.1).

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_http_context(|_context_id, _root_context_id| -> Box<dyn HttpContext> {
        Box::new(Floor)
    });
}}

/// One HTTP stream of the floor filter; it keeps no state.
struct Floor;

impl Context for Floor {}

impl HttpContext for Floor {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        // The read a routing filter cannot avoid; black_box keeps it from being optimised away.
        let headers = self.get_http_request_headers_bytes();
        std::hint::black_box(&headers);
        self.set_http_request_header_bytes("x-floor-cluster", Some(b"floor"));
        // NotFound on Envoy before 1.33 is fine: the header change is enough there.
        let _cleared = self.call_foreign_function("clear_route_cache", None);
        Action::Continue
    }
}
