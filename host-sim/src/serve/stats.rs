//! Counters `serve` keeps, as Envoy's admin `/stats` shows its own: requests, responses by
//! code, by route rule and by backend, response flags, mirror copies, and configuration
//! reloads. Rendered as `name: value` lines, or JSON with `?format=json`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

/// What one finished request adds to the counters.
#[derive(Debug, Default)]
pub(super) struct Record<'a> {
    /// The status the client got (0 when the stream was reset).
    pub(super) status: u32,
    /// `namespace/name rule` of the rule that matched.
    pub(super) rule: Option<String>,
    /// `namespace/name:port` of the backend chosen.
    pub(super) backend: Option<&'a str>,
    /// Envoy's response flag, if any.
    pub(super) flag: Option<&'a str>,
    /// Retries the router made.
    pub(super) retries: u32,
    /// Mirror copies sent.
    pub(super) mirrors: usize,
}

/// The counters, shared by every connection.
#[derive(Debug, Default)]
pub(super) struct Stats {
    inner: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    by_code: BTreeMap<u32, u64>,
    by_rule: BTreeMap<String, u64>,
    by_backend: BTreeMap<String, u64>,
    by_flag: BTreeMap<String, u64>,
    retries: u64,
    mirrors: u64,
    reloads: u64,
    rejected: u64,
    generation: u64,
}

impl Stats {
    /// Counts one request.
    pub(super) fn record(&self, record: &Record<'_>) {
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        c.requests += 1;
        *c.by_code.entry(record.status).or_default() += 1;
        if let Some(rule) = &record.rule {
            *c.by_rule.entry(rule.clone()).or_default() += 1;
        }
        if let Some(backend) = record.backend {
            *c.by_backend.entry(backend.to_owned()).or_default() += 1;
        }
        if let Some(flag) = record.flag {
            *c.by_flag.entry(flag.to_owned()).or_default() += 1;
        }
        c.retries += u64::from(record.retries);
        c.mirrors += record.mirrors as u64;
    }

    /// Counts a configuration applied (`Ok(generation)`) or rejected.
    pub(super) fn reload(&self, applied: Option<u64>) {
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        match applied {
            Some(generation) => {
                c.reloads += 1;
                c.generation = generation;
            }
            None => c.rejected += 1,
        }
    }

    /// The counters as JSON.
    pub(super) fn to_json(&self) -> Value {
        let Ok(c) = self.inner.lock() else {
            return Value::Null;
        };
        json!({
            "requests": c.requests,
            "responses": c.by_code.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "routes": c.by_rule,
            "backends": c.by_backend,
            "response_flags": c.by_flag,
            "retries": c.retries,
            "mirrors": c.mirrors,
            "configuration": {"generation": c.generation, "reloads": c.reloads, "rejected": c.rejected},
        })
    }

    /// The counters as `name: value` lines, Envoy's admin format.
    pub(super) fn to_text(&self) -> String {
        let Ok(c) = self.inner.lock() else {
            return String::new();
        };
        let mut out = format!("serve.requests: {}\n", c.requests);
        for (code, n) in &c.by_code {
            out.push_str(&format!("serve.responses.{code}: {n}\n"));
        }
        for (rule, n) in &c.by_rule {
            out.push_str(&format!(
                "serve.route.{}: {n}\n",
                rule.replace(' ', ".rule.")
            ));
        }
        for (backend, n) in &c.by_backend {
            out.push_str(&format!("serve.backend.{backend}: {n}\n"));
        }
        for (flag, n) in &c.by_flag {
            out.push_str(&format!("serve.response_flag.{flag}: {n}\n"));
        }
        out.push_str(&format!(
            "serve.retries: {}\nserve.mirrors: {}\nserve.configuration.generation: {}\n\
             serve.configuration.reloads: {}\nserve.configuration.rejected: {}\n",
            c.retries, c.mirrors, c.generation, c.reloads, c.rejected
        ));
        out
    }
}
