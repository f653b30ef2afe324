//! Configuration bytes → parse → compile, as `on_configure` does, seeded with the real
//! configurations of `testdata/` and mutated from there: never a panic, every problem names its
//! object and what is wrong, and the compiled table routes a request. Slow inputs are caught by
//! libFuzzer's `-timeout` (`scripts/fuzz` sets it), so super-linear compile time is a finding.

#![no_main]

use gatewasm_core::{borrow_pairs, compile_bytes, RequestView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(compiled) = compile_bytes(data) else {
        return;
    };
    for problem in &compiled.problems {
        assert!(
            !problem.object.is_empty() && !problem.message.is_empty(),
            "a problem without its object or message: {problem:?}"
        );
    }
    let headers = [
        (":method".to_owned(), b"GET".to_vec()),
        (":authority".to_owned(), b"app.example.com".to_vec()),
        (":path".to_owned(), b"/api/v1/users?q=1".to_vec()),
    ];
    let headers = borrow_pairs(&headers);
    for port in [80, 443] {
        let _ = compiled
            .table
            .decide(&RequestView::new(&headers, Some(port)), 0);
    }
});
