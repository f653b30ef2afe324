//! The linear baseline: an Envoy-style ordered first-match scan over a table's compiled rules,
//! to measure what the indexed [`RouteTable`] saves.
//!
//! Envoy's router checks a virtual host's routes one by one, in order, and takes the first that
//! matches. [`LinearRoutes`] does the same over one flat list per listener, holding every match
//! of the table sorted by hostname specificity (exact, then wildcards from the longest suffix,
//! then routes without hostnames) and then by precedence, so the first entry whose hostname,
//! path and remaining conditions hold is the match the table chooses. It reuses the table's
//! compiled matchers and builds nothing per request; it is not used for routing. Compiled only
//! with the `bench` feature.

use std::cmp::Reverse;

use crate::hostname::Hostname;
use crate::request::RequestView;
use crate::table::{ListenerTable, PathKey, RouteTable};

/// One match in scan order.
#[derive(Debug)]
struct Entry {
    /// The effective hostname; `None` matches every Host the listener accepts.
    hostname: Option<Hostname>,
    /// The match's path condition (a regular expression is checked with the others).
    path: PathKey,
    /// Index of the compiled match in the table.
    matcher: u32,
}

/// A table's matches as ordered lists, one per listener, scanned front to back.
#[derive(Debug)]
pub struct LinearRoutes<'t> {
    table: &'t RouteTable,
    /// Parallel to `table.listeners`.
    lists: Vec<Vec<Entry>>,
}

impl<'t> LinearRoutes<'t> {
    /// Flattens `table` into scan order.
    pub fn new(table: &'t RouteTable) -> Self {
        let lists = table
            .listeners
            .iter()
            .map(|l| l.as_ref().map_or_else(Vec::new, flatten))
            .collect();
        Self { table, lists }
    }

    /// The rule (index in the table) the scan picks for `request`, `None` when nothing matches.
    pub fn find_rule(&self, request: &RequestView<'_>) -> Option<u32> {
        let listener = self.table.listener(request.port, &request.host)?;
        let list = self
            .table
            .listeners
            .iter()
            .position(|l| l.as_ref().is_some_and(|l| std::ptr::eq(l, listener)))
            .and_then(|at| self.lists.get(at))?;
        let path = String::from_utf8_lossy(request.path);
        list.iter()
            .filter(|e| e.hostname.as_ref().is_none_or(|h| h.matches(&request.host)))
            .filter(|e| path_matches(&e.path, &path))
            .filter_map(|e| self.table.matches.get(e.matcher as usize))
            .find(|m| m.matcher.matches_after_path_index(request))
            .map(|m| m.rule)
    }

    /// Number of entries the scan may visit, over all listeners.
    pub fn len(&self) -> usize {
        self.lists.iter().map(Vec::len).sum()
    }

    /// Whether there is nothing to scan.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RouteTable {
    /// The rule (index in the table) the indexed lookup picks for `request`: [`Self::decide`]
    /// without choosing a backend, to compare with [`LinearRoutes::find_rule`].
    pub fn find_rule(&self, request: &RequestView<'_>) -> Option<u32> {
        self.find(request).ok().map(|m| m.rule)
    }
}

fn flatten(listener: &ListenerTable) -> Vec<Entry> {
    let mut ranked: Vec<_> = listener
        .hosts
        .all()
        .flat_map(|(hostname, index)| {
            let specificity = match &hostname {
                Some(Hostname::Exact(_)) => (0, Reverse(0)),
                Some(Hostname::Wildcard(suffix)) => (1, Reverse(suffix.len())),
                None => (2, Reverse(0)),
            };
            index
                .candidates()
                .map(move |(path, c)| (specificity, c.rank, hostname.clone(), path, c.matcher))
        })
        .collect();
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    ranked
        .into_iter()
        .map(|(_, _, hostname, path, matcher)| Entry {
            hostname,
            path,
            matcher,
        })
        .collect()
}

/// Exact and element-wise PathPrefix, as the path index encodes them; a regular expression is
/// checked with the other conditions.
fn path_matches(key: &PathKey, path: &str) -> bool {
    match key {
        PathKey::Exact(value) => value == path,
        PathKey::Prefix(prefix) => {
            prefix == "/"
                || path
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        }
        PathKey::Regex => true,
    }
}

#[cfg(test)]
mod tests {
    use super::LinearRoutes;
    use crate::bench::{route_set, PORT};
    use crate::{borrow_pairs, compile_bytes, RequestView};

    #[test]
    fn baseline_and_table_choose_the_same_rule() {
        for (rules, seed) in [(10, 1), (100, 2), (1000, 3), (2000, 4)] {
            let set = route_set(rules, seed);
            let table = compile_bytes(&set.configuration).unwrap().table;
            let linear = LinearRoutes::new(&table);
            assert!(linear.len() >= rules);
            let mut matched = 0;
            for request in &set.requests {
                let owned = request.header_pairs();
                let headers = borrow_pairs(&owned);
                let view = RequestView::new(&headers, Some(PORT));
                let want = table.find_rule(&view);
                assert_eq!(linear.find_rule(&view), want, "{rules} rules: {request:?}");
                matched += usize::from(want.is_some());
            }
            assert!(matched > set.requests.len() / 2, "{rules} rules: {matched}");
        }
    }

    #[test]
    fn the_seed_configuration_agrees_too() {
        let config = br#"{"gateway": "infra/gw", "resources": [
          {"kind": "Gateway", "metadata": {"name": "gw", "namespace": "infra"},
           "spec": {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP",
                                   "allowedRoutes": {"namespaces": {"from": "All"}}}]}},
          {"kind": "HTTPRoute", "metadata": {"name": "a", "namespace": "app"},
           "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
                    "hostnames": ["*.example.com", "x.example.com"],
                    "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                               "backendRefs": [{"name": "a", "port": 80}]},
                              {"matches": [{"path": {"type": "RegularExpression", "value": "/api/v[0-9]"}}],
                               "backendRefs": [{"name": "b", "port": 80}]}]}},
          {"kind": "HTTPRoute", "metadata": {"name": "b", "namespace": "app"},
           "spec": {"parentRefs": [{"name": "gw", "namespace": "infra"}],
                    "rules": [{"backendRefs": [{"name": "c", "port": 80}]}]}}
        ]}"#;
        let table = compile_bytes(config).unwrap().table;
        let linear = LinearRoutes::new(&table);
        for (host, path) in [
            ("x.example.com", "/api/v1"),
            ("y.example.com", "/api/v1"),
            ("y.example.com", "/other"),
            ("example.com", "/api"),
            ("x.example.com", "/apiary"),
        ] {
            let headers = vec![
                (":authority".to_owned(), host.as_bytes().to_vec()),
                (":path".to_owned(), path.as_bytes().to_vec()),
            ];
            let headers = borrow_pairs(&headers);
            let view = RequestView::new(&headers, Some(80));
            assert_eq!(
                linear.find_rule(&view),
                table.find_rule(&view),
                "{host}{path}"
            );
        }
    }
}
