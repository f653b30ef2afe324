//! `host-sim check`: for every object, the status a controller running gatewasm would write,
//! and every problem with a fix, as data ([`Report`]).
//!
//! This file is the pipeline. The status comes from the core's own compile (`status`), so it is
//! exactly what the filter will do; `cluster` adds what only the cluster knows (classes,
//! certificates, missing Gateways, injection, multi-cluster objects, and with `sidecar_scope`
//! the backends an Istio Sidecar hides); `verdicts` what the objects it does not route with do;
//! `ingress_advice` what to write instead of the Ingress annotations the filter does not
//! execute; `policies` gathers each policy's status per target; `dead_rules` finds rules that
//! can never match; `hints` adds fixes to the filter's problems where the manifests say what to
//! change; `findings` completes and orders everything by object. The Gateway API objects are
//! read through the core's reader (`crate::objects`), the rest as written (`crate::written`);
//! `model` is the report's shape. Printing it is `cmd::check`'s job.

mod cluster;
mod dead_rules;
mod findings;
mod hints;
mod ingress_advice;
mod model;
mod policies;
mod sidecar_scope;
mod status;
mod verdicts;

use anyhow::Result;
use gatewasm_core::Status;

use crate::deploy::MeshTarget;
use crate::manifests::Manifests;
use crate::objects::Objects;
use cluster::diagnose;
use dead_rules::dead_rules;
use findings::{idle_listeners, notes, ordered, unexplained};
use hints::with_hint;
pub use model::{
    ClassReport, Cond, Finding, GatewayReport, ListenerReport, ListenerSetReport, ParentRefReport,
    ParentReport, Report, RouteReport, Summary,
};
pub use policies::{render_policies, PolicyReport};
use status::{compile_all, gateway_report, listener_set_report, route_report};
use verdicts::verdicts;

impl Report {
    /// Compiles the manifests as the filter would, runs the cluster-side checks, and merges.
    ///
    /// # Errors
    ///
    /// When a configuration built from the manifests cannot be compiled at all.
    pub fn build(
        manifests: &Manifests,
        controllers: &[String],
        target: MeshTarget,
    ) -> Result<Self> {
        let objects = Objects::read(&manifests.resources)?;
        let diagnosis = diagnose(manifests, &objects, controllers);
        let verdicts = verdicts(manifests, &objects);
        let compiled = compile_all(manifests, &objects, target)?;
        let statuses: Vec<&Status> = compiled.iter().map(|(_, c)| &c.status).collect();

        let gateway_classes = diagnosis
            .classes
            .iter()
            .map(|c| ClassReport {
                name: c.name.clone(),
                controller_name: c.controller.clone(),
                conditions: vec![if c.ours {
                    Cond::new(
                        "Accepted",
                        "True",
                        "Accepted",
                        format!("handled by {}", c.controller),
                    )
                } else {
                    Cond::new("Accepted", "Unknown", "Pending", "Waiting for controller")
                }],
            })
            .collect();
        let gateways = objects
            .gateways()
            .map(|g| gateway_report(g, &statuses, &diagnosis))
            .collect();
        let listener_sets = objects
            .listener_sets()
            .map(|s| listener_set_report(s, &statuses, &diagnosis))
            .collect();
        let routes = objects
            .routes()
            .map(|r| route_report(r, &statuses))
            .collect();

        let mut report = Self {
            gateway_classes,
            gateways,
            listener_sets,
            routes,
            policies: policies::policy_reports(&statuses),
            problems: Vec::new(),
            notes: diagnosis
                .notes
                .iter()
                .cloned()
                .chain(verdicts.notes)
                .chain(notes(manifests, &objects))
                .collect(),
            summary: Summary {
                errors: 0,
                warnings: 0,
                all_accepted: true,
                exit_code: 0,
            },
        };
        let mut problems = diagnosis.problems;
        problems.extend(verdicts.problems);
        for problem in compiled.iter().flat_map(|(_, c)| &c.problems) {
            if !problems.contains(problem) {
                problems.push(with_hint(&objects, &report.gateways, problem.clone()));
            }
        }
        for (gateway, compiled) in &compiled {
            let Some(gateway) = gateway.as_deref().and_then(|g| {
                let (namespace, name) = g.split_once('/')?;
                objects.gateway(namespace, name)
            }) else {
                continue;
            };
            for problem in dead_rules(&objects, gateway, &compiled.table) {
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
        let overlaps = compiled
            .iter()
            .flat_map(|(_, c)| c.table.ingress_overlaps());
        for problem in overlaps.chain(ingress_advice::findings(manifests)) {
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
        problems.extend(idle_listeners(&objects, &report));
        let (size_notes, size_problems) = crate::deploy::compact::check_findings(manifests)?;
        report.notes.extend(size_notes);
        problems.extend(size_problems);
        problems.extend(unexplained(&report, &problems));
        report.problems = ordered(manifests, &objects, problems);
        report.summary = report.summarize();
        Ok(report)
    }

    fn conditions(&self) -> impl Iterator<Item = &Cond> {
        let classes = self.gateway_classes.iter().flat_map(|c| &c.conditions);
        let gateways = self.gateways.iter().flat_map(|g| {
            g.conditions
                .iter()
                .chain(g.listeners.iter().flat_map(|l| &l.conditions))
        });
        let sets = self.listener_sets.iter().flat_map(|s| {
            s.conditions
                .iter()
                .chain(s.listeners.iter().flat_map(|l| &l.conditions))
        });
        let routes = self
            .routes
            .iter()
            .flat_map(|r| r.parents.iter().flat_map(|p| &p.conditions));
        classes.chain(gateways).chain(sets).chain(routes)
    }

    fn summarize(&self) -> Summary {
        let errors = self
            .problems
            .iter()
            .filter(|p| p.severity == "error")
            .count();
        let warnings = self.problems.len() - errors;
        let all_accepted = self.conditions().all(Cond::healthy)
            && self
                .policies
                .iter()
                .flat_map(|p| &p.targets)
                .all(|t| t.healthy());
        Summary {
            errors,
            warnings,
            all_accepted,
            exit_code: u8::from(errors > 0 || !all_accepted),
        }
    }
}

// === problems status shows but nobody reported ===
