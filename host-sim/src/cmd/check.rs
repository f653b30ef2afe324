//! `host-sim check`: manifests in; per object the status `kubectl describe` would show, then a
//! numbered list of problems with fixes, on stdout — or the same as one JSON document.
//!
//! The report is built by `report` (the core's compile plus `diagnose`); this file only prints
//! it and turns it into the exit status: 0 clean, 1 when anything is not fully accepted or an
//! error was found. Unreadable manifests are an error, which `main` turns into 2.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;

use super::Exit;
use crate::check::render_policies;
use crate::check::{Cond, ListenerReport, Report};
use crate::cli::CheckArgs;
use crate::manifests::Manifests;

/// Runs `host-sim check`.
///
/// # Errors
///
/// When the manifests cannot be read or parsed, or stdout cannot be written.
pub fn check(args: &CheckArgs) -> Result<Exit> {
    let mut manifests = Manifests::load(&args.path)?;
    manifests.ingress_class.clone_from(&args.ingress_class);
    let report = Report::build(&manifests, &args.controllers, args.target)?;
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&report)?)
    } else {
        render(&report)
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if report.summary.exit_code == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// The report as text: one block per object, then the problems, the notes and a summary line.
fn render(report: &Report) -> String {
    let mut out = String::new();
    for class in &report.gateway_classes {
        let _ = writeln!(out, "GatewayClass {}", class.name);
        let _ = writeln!(out, "  Controller: {}", class.controller_name);
        conditions(&mut out, "  ", &class.conditions);
        out.push('\n');
    }
    for gateway in &report.gateways {
        let _ = writeln!(out, "Gateway {}/{}", gateway.namespace, gateway.name);
        let _ = writeln!(out, "  Class: {}", gateway.gateway_class_name);
        if gateway.attached_listener_sets > 0 {
            let _ = writeln!(
                out,
                "  Attached ListenerSets: {}",
                gateway.attached_listener_sets
            );
        }
        conditions(&mut out, "  ", &gateway.conditions);
        listeners(&mut out, &gateway.listeners);
        out.push('\n');
    }
    for set in &report.listener_sets {
        let _ = writeln!(out, "ListenerSet {}/{}", set.namespace, set.name);
        let _ = writeln!(out, "  Parent: Gateway {}", set.parent);
        conditions(&mut out, "  ", &set.conditions);
        listeners(&mut out, &set.listeners);
        out.push('\n');
    }
    for route in &report.routes {
        let _ = writeln!(out, "{} {}/{}", route.kind, route.namespace, route.name);
        if route.parents.is_empty() {
            let _ = writeln!(out, "  Parents: none (no Gateway or Service accepts it)");
        }
        for parent in &route.parents {
            let r = &parent.parent_ref;
            let mut line = format!("  Parent {} {}/{}", r.kind, r.namespace, r.name);
            if let Some(section) = &r.section_name {
                let _ = write!(line, " sectionName {section}");
            }
            if let Some(port) = r.port {
                let _ = write!(line, " port {port}");
            }
            let _ = writeln!(out, "{line}");
            conditions(&mut out, "    ", &parent.conditions);
        }
        out.push('\n');
    }
    render_policies(&mut out, &report.policies);
    if report.problems.is_empty() {
        out.push_str("No problems.\n");
    } else {
        out.push_str("Problems:\n");
        for (i, p) in report.problems.iter().enumerate() {
            let field = if p.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", p.field)
            };
            let number = format!("{}.", i + 1);
            let _ = writeln!(
                out,
                "  {number} {}: {}: {field}{}",
                p.severity, p.object, p.message
            );
            if let Some(hint) = &p.hint {
                let _ = writeln!(out, "  {:width$} fix: {hint}", "", width = number.len());
            }
        }
    }
    if !report.notes.is_empty() {
        out.push_str("\nNotes:\n");
        for note in &report.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let summary = &report.summary;
    let _ = writeln!(
        out,
        "\n{} {}, {} {}; {}",
        summary.errors,
        plural(summary.errors, "error"),
        summary.warnings,
        plural(summary.warnings, "warning"),
        if summary.all_accepted {
            "every object is accepted"
        } else {
            "not every object is fully accepted"
        }
    );
    out
}

/// One line per listener (protocol, port, hostname, attached routes, kinds), then its
/// conditions.
fn listeners(out: &mut String, listeners: &[ListenerReport]) {
    for listener in listeners {
        let port = listener
            .port
            .map_or_else(|| "?".to_owned(), |p| p.to_string());
        let host = listener
            .hostname
            .as_deref()
            .map_or_else(String::new, |h| format!(" {h}"));
        let kinds = if listener.supported_kinds.is_empty() {
            "none".to_owned()
        } else {
            listener.supported_kinds.join(", ")
        };
        let _ = writeln!(
            out,
            "  Listener {}: {} {port}{host}, attachedRoutes {}, kinds {kinds}",
            listener.name, listener.protocol, listener.attached_routes
        );
        conditions(out, "    ", &listener.conditions);
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// Conditions as an aligned table: type, status, reason, message.
fn conditions(out: &mut String, indent: &str, conditions: &[Cond]) {
    let width = |f: fn(&Cond) -> usize| conditions.iter().map(f).max().unwrap_or(0);
    let kind = width(|c| c.kind.len());
    let status = width(|c| c.status.len());
    let reason = width(|c| c.reason.len());
    for c in conditions {
        let line = format!(
            "{indent}{:kind$}  {:status$}  {:reason$}  {}",
            c.kind, c.status, c.reason, c.message
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
