//! Ingress paths a Gateway API route also claims: the same host and path, where the route wins.
//! For `check`: the filter itself does not look (it would only grow the module).

use std::collections::BTreeSet;

use super::RouteTable;
use crate::problem::Problem;
use crate::request::RequestView;

impl RouteTable {
    /// Warns about every Ingress path a Gateway API route also claims (same host and path):
    /// the route serves those requests.
    pub fn ingress_overlaps(&self) -> Vec<Problem> {
        let table = self;
        let mut problems = Vec::new();
        let Some(ingress) = table.ingress.as_ref() else {
            return problems;
        };
        let mut reported = BTreeSet::new();
        for (host, server) in ingress
            .exact
            .iter()
            .collect::<std::collections::BTreeMap<_, _>>()
        {
            let Some(server) = ingress.servers.get(*server as usize) else {
                continue;
            };
            for location in server.locations.iter().filter(|l| !l.is_regex()) {
                let Some(settings) = location
                    .ingress
                    .and_then(|i| ingress.ingresses.get(i as usize))
                else {
                    continue;
                };
                let headers: [(&str, &[u8]); 2] = [
                    (":authority", host.as_bytes()),
                    (":path", location.ingress_path.as_bytes()),
                ];
                let Ok(found) = table.find(&RequestView::new(&headers, None)) else {
                    continue;
                };
                let Some(route) = table
                    .rules
                    .get(found.rule as usize)
                    .and_then(|rule| table.routes.get(rule.route as usize))
                else {
                    continue;
                };
                let label = format!("Ingress {}/{}", settings.namespace, settings.name);
                if !reported.insert((label.clone(), location.rule, location.ingress_path.clone())) {
                    continue;
                }
                problems.push(
                Problem::warning(
                    label,
                    format!("spec.rules[{}]", location.rule),
                    format!(
                        "host {host:?} path {:?} is also claimed by {} {}/{}, which serves the requests it matches (Gateway API routes come first); this Ingress path gets only the rest",
                        location.ingress_path, route.kind, route.namespace, route.name
                    ),
                )
                .with_hint("finish the move: remove the path from the Ingress once the route serves it"),
            );
            }
        }
        problems
    }
}
