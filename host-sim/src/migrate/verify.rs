//! `migrate --verify`'s report: the requests whose outcome differs between the Ingresses and
//! their conversion, grouped under the note that explains them, and what nginx ignores.
//!
//! Running the requests is [`super::replay`]'s; this file only attributes and words.

use std::fmt::Write as _;

use anyhow::Result;

use gatewasm_core::Problem;

use crate::envoy::WasmModule;

use super::notes::{Affects, Note};
use super::probes::{self, Probe};
use super::replay::{self, Difference, Outcomes, Side};
use super::Migration;

/// Differences under one cause.
#[derive(Debug)]
pub struct Group {
    /// The note that explains them; `None` when no note does (a converter defect).
    pub note: Option<usize>,
    /// The differences, in probe order.
    pub differences: Vec<Difference>,
}

/// The outcome of a replay.
#[derive(Debug)]
pub struct Verification {
    /// Every request sent.
    pub probes: Vec<Probe>,
    /// Differences by cause, explained ones first in note order, the unexplained last.
    pub groups: Vec<Group>,
}

impl Verification {
    /// Generates the probes and replays them through `module` with both configurations.
    ///
    /// # Errors
    ///
    /// When the filter refuses a configuration or a probe cannot be built.
    pub fn run(migration: &Migration, module: &WasmModule) -> Result<Self> {
        let probes = probes::generate(&migration.plan);
        let mut ingress = Side::start(module, migration.ingress_configuration()?, "the Ingresses")?;
        let mut converted = Side::start(
            module,
            migration.converted_configuration()?,
            "the converted routes",
        )?;
        let differences = replay::replay(&mut ingress, &mut converted, &probes)?;
        let mut groups: Vec<Group> = Vec::new();
        for difference in differences {
            let note = explain(&migration.notes, &probes[difference.probe]);
            // Notes that say the same on several paths form one group.
            let heading = |n: Option<usize>| {
                n.and_then(|n| migration.notes.get(n))
                    .map(|n| (n.heading(), n.why.clone()))
            };
            match groups.iter_mut().find(|g| heading(g.note) == heading(note)) {
                Some(group) => group.differences.push(difference),
                None => groups.push(Group {
                    note,
                    differences: vec![difference],
                }),
            }
        }
        groups.sort_by_key(|g| g.note.unwrap_or(usize::MAX));
        Ok(Self { probes, groups })
    }

    /// How many requests differ.
    pub fn differing(&self) -> usize {
        self.groups.iter().map(|g| g.differences.len()).sum()
    }

    /// The report as text.
    pub fn render(&self, migration: &Migration) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Replayed {} requests through gatewasm.wasm twice: serving the Ingresses as ingress-nginx does, and serving the converted routes on Gateway {}/{}.",
            self.probes.len(),
            migration.gateway.namespace,
            migration.gateway.name
        );
        if !migration.problems().is_empty() {
            out.push_str("\nWhat ingress-nginx ignores or corrects in the Ingresses:\n");
            out.push_str(&problem_lines(migration.problems()));
        }
        if self.groups.is_empty() {
            out.push_str("\nNo request differs.\n");
        }
        for (i, group) in self.groups.iter().enumerate() {
            let count = group.differences.len();
            let requests = if count == 1 { "request" } else { "requests" };
            match group.note.and_then(|n| migration.notes.get(n)) {
                Some(note) => {
                    let _ = writeln!(out, "\n{}. {} ({count} {requests})", i + 1, note.heading());
                    let _ = writeln!(out, "   why: {}", note.why);
                    let _ = writeln!(out, "   fix: {}", note.fix);
                }
                None => {
                    let _ = writeln!(
                        out,
                        "\n{}. no annotation or nginx rule explains these ({count} {requests}): the conversion is wrong here",
                        i + 1
                    );
                }
            }
            for difference in &group.differences {
                let probe = &self.probes[difference.probe];
                let r = &probe.request;
                let headers: String = r
                    .headers
                    .iter()
                    .map(|(n, v)| format!(" [{n}: {v}]"))
                    .collect();
                let client = match r.client.as_deref() {
                    Some(client) if client != super::probes::CLIENT => format!(" from {client}"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "   {} {}{headers}{client}  ({} {})",
                    r.method, r.url, probe.source, probe.path
                );
                let _ = writeln!(out, "     ingress-nginx: {}", outcomes(&difference.ingress));
                let _ = writeln!(
                    out,
                    "     converted:     {}",
                    outcomes(&difference.converted)
                );
            }
        }
        let silent: Vec<&Note> = migration
            .notes
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.groups.iter().any(|g| g.note == Some(*i)))
            .map(|(_, n)| n)
            .filter(|n| {
                !self.groups.iter().any(|g| {
                    g.note
                        .and_then(|i| migration.notes.get(i))
                        .map(Note::heading)
                        == Some(n.heading())
                })
            })
            .collect();
        let mut silent = silent;
        silent.dedup_by_key(|n| n.heading());
        if !silent.is_empty() {
            out.push_str("\nNot converted exactly, but no generated request shows a difference:\n");
            for note in silent {
                let _ = writeln!(out, "  - {}", note.heading());
            }
        }
        let unexplained = self
            .groups
            .iter()
            .filter(|g| g.note.is_none())
            .map(|g| g.differences.len())
            .sum::<usize>();
        let _ = writeln!(
            out,
            "\n{} of {} requests differ ({} explained, {unexplained} unexplained).",
            self.differing(),
            self.probes.len(),
            self.differing() - unexplained,
        );
        out
    }
}

/// Problems numbered as `check` lists them, each with its fix on the next line.
pub fn problem_lines(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        let number = format!("{}.", i + 1);
        let field = if p.field.is_empty() {
            String::new()
        } else {
            format!("{}: ", p.field)
        };
        let severity = format!("{:?}", p.severity).to_ascii_lowercase();
        let _ = writeln!(
            out,
            "  {number} {severity}: {}: {field}{}",
            p.object, p.message
        );
        if let Some(hint) = &p.hint {
            let _ = writeln!(out, "  {:width$} fix: {hint}", "", width = number.len());
        }
    }
    out
}

/// The note that explains a difference on `probe`: one made for its kind of request first,
/// then one about its location, then one about its host.
fn explain(notes: &[Note], probe: &Probe) -> Option<usize> {
    let fits: Vec<usize> = (0..notes.len())
        .filter(|i| notes[*i].explains(&probe.host, &probe.path, probe.kind))
        .collect();
    let by = |test: &dyn Fn(&Note) -> bool| fits.iter().copied().find(|i| test(&notes[*i]));
    by(&|n| n.scope.affects == probe.kind && n.scope.affects != Affects::Any)
        .or_else(|| by(&|n| n.scope.path.is_some()))
        .or_else(|| fits.first().copied())
}

/// Outcomes as one line: the outcome, or each with its share.
fn outcomes(o: &Outcomes) -> String {
    if o.shares.len() == 1 {
        return o.shares.keys().map(|k| k.summary()).collect();
    }
    o.shares
        .iter()
        .map(|(k, share)| format!("{:.0}% {}", share * 100.0, k.summary()))
        .collect::<Vec<_>>()
        .join(" | ")
}
