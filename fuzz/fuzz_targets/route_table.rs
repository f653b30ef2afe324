//! The indexed route table against the linear first-match scan (`baseline.rs`) as the oracle:
//! for generated route sets and requests, both pick the same rule. Compiling a generated set
//! never panics, and every problem it reports names an object and says what is wrong.

#![no_main]

use gatewasm_core::baseline::LinearRoutes;
use gatewasm_core::{borrow_pairs, compile_bytes, RequestView};
use gatewasm_fuzz::routes::{RouteSet, PORT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|set: RouteSet| {
    let Ok(compiled) = compile_bytes(&set.configuration) else {
        panic!("a generated configuration was refused");
    };
    for problem in &compiled.problems {
        assert!(
            !problem.object.is_empty() && !problem.message.is_empty(),
            "{problem:?}"
        );
    }
    let table = &compiled.table;
    let linear = LinearRoutes::new(table);
    for request in &set.requests {
        let headers = borrow_pairs(request);
        let view = RequestView::new(&headers, Some(PORT));
        let indexed = table.find_rule(&view);
        assert_eq!(
            indexed,
            linear.find_rule(&view),
            "{request:?}\n{}",
            String::from_utf8_lossy(&set.configuration)
        );
        let _ = table.decide(&view, 0);
    }
});
