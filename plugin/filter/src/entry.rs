//! The module's start function: registers the root context and the logger, and nothing else,
//! because Envoy forbids every host call but logging while `_initialize` runs.

proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| Box::new(crate::root::Router::default()));
}}
