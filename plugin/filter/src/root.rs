//! The root context: compiles configurations and hands each stream the current table.
//!
//! A configuration that cannot serve at all is rejected (`on_configure` returns false, so Envoy
//! NACKs it) and the previous table keeps serving. Problems that drop only part of a
//! configuration are logged, one line each, and the rest serves.

use std::rc::Rc;

use gatewasm_core::{compile, PluginConfig, RouteTable, Severity};
use log::{error, info, warn};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::host;
use crate::metrics::{Accepted, Metrics};
use crate::random::Draws;
use crate::stream::Stream;

/// The plugin's root context.
#[derive(Default)]
pub(crate) struct Router {
    table: Rc<RouteTable>,
    draws: Draws,
    metrics: Rc<Metrics>,
}

impl Context for Router {}

impl RootContext for Router {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        self.draws.seed_from_host();
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = host::plugin_configuration();
        let parsed = PluginConfig::parse(&bytes);
        let generation = gatewasm_core::metrics::configuration_generation(&bytes);
        // The parsed form keeps what it needs; linear memory never shrinks, so free the copy
        // before compiling raises the high-water mark.
        drop(bytes);
        let compiled = parsed.and_then(|mut config| {
            if config.namespace.is_none() {
                config.namespace = host::node_namespace();
            }
            let per_rule = config.metrics.rules.unwrap_or(false);
            compile(&config).map(|compiled| (compiled, per_rule))
        });
        match compiled {
            Ok((compiled, per_rule)) => {
                self.metrics.configured(Some(Accepted {
                    compiled: &compiled,
                    per_rule,
                    generation,
                }));
                for problem in &compiled.problems {
                    match problem.severity {
                        Severity::Error => error!("{problem}"),
                        Severity::Warning => warn!("{problem}"),
                    }
                }
                info!(
                    "configured: {} rules, {} problems",
                    compiled.table.rule_count(),
                    compiled.problems.len()
                );
                self.table = Rc::new(compiled.table);
                true
            }
            Err(err) => {
                self.metrics.configured(None);
                error!("{err}; configuration rejected, the previous one keeps serving");
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream::new(
            Rc::clone(&self.table),
            Rc::clone(&self.metrics),
            self.draws.next(),
        )))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
