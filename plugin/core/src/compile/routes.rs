//! An HTTPRoute's or a GRPCRoute's rules, counted and compiled one by one.
//!
//! Each rule's matches, filters and backends are compiled in `rules`; this file only walks them.

use super::backends::BackendContext;
use super::rules::{self, RuleParts, RuleSite};
use super::unknown_fields;
use crate::config::{HttpRouteRule, Route, Unknown};
use crate::problem::Problem;

impl<'c> Route<'c> {
    /// Rules the route has, with the API default of one rule when `rules` is absent.
    pub(super) fn rule_count(&self) -> usize {
        match self {
            Self::Http(r) => r.spec.rules.as_ref().map_or(1, Vec::len),
            Self::Grpc(r) => r.spec.rules.len(),
        }
    }

    /// Matches the route's rules have, counting a rule without matches as one: the table's
    /// size when every rule compiles.
    pub(super) fn match_count(&self) -> usize {
        match self {
            Self::Http(r) => r.spec.rules.as_ref().map_or(1, |rules| {
                rules
                    .iter()
                    .map(|rule| rule.matches.as_ref().map_or(1, |m| m.len().max(1)))
                    .sum()
            }),
            Self::Grpc(r) => r
                .spec
                .rules
                .iter()
                .map(|rule| rule.matches.len().max(1))
                .sum(),
        }
    }

    pub(super) fn spec_unknown(&self) -> &'c Unknown {
        match self {
            Self::Http(r) => &r.spec.unknown,
            Self::Grpc(r) => &r.spec.unknown,
        }
    }

    /// (index in `spec.rules`, rule name, compiled parts) of every rule that compiles; the
    /// others are reported and dropped.
    pub(super) fn rules(
        &self,
        label: &str,
        ctx: &mut BackendContext<'_>,
        problems: &mut Vec<Problem>,
    ) -> Vec<(usize, Option<String>, RuleParts)> {
        let mut compiled = Vec::new();
        let mut keep = |index: usize,
                        name: Option<String>,
                        result: Result<RuleParts, Problem>,
                        problems: &mut Vec<Problem>| match result {
            Ok(parts) => compiled.push((index, name, parts)),
            Err(problem) => problems.push(problem),
        };
        match self {
            Self::Http(route) => {
                let default_rules = [HttpRouteRule::default()];
                for (i, rule) in route
                    .spec
                    .rules
                    .as_deref()
                    .unwrap_or(&default_rules)
                    .iter()
                    .enumerate()
                {
                    let field = format!("spec.rules[{i}]");
                    unknown_fields(&rule.unknown, label, &field, problems);
                    let site = RuleSite {
                        route_kind: "HTTPRoute",
                        field,
                        label,
                    };
                    let result = rules::http_rule(rule, &site, ctx, problems);
                    keep(i, rule.name.clone(), result, problems);
                }
            }
            Self::Grpc(route) => {
                for (i, rule) in route.spec.rules.iter().enumerate() {
                    let field = format!("spec.rules[{i}]");
                    unknown_fields(&rule.unknown, label, &field, problems);
                    let site = RuleSite {
                        route_kind: "GRPCRoute",
                        field,
                        label,
                    };
                    let result = rules::grpc_rule(rule, &site, ctx, problems);
                    keep(i, rule.name.clone(), result, problems);
                }
            }
        }
        compiled
    }
}
