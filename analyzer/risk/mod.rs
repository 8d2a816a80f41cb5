//! The risk stage: turns evidence into what a reviewer weighs. Capabilities
//! (declared versus observed), then two scores, data collection and
//! jurisdiction, 0-100 each, where every point is a factor with its weight
//! and evidence. Tables and weights live in `signatures/` (see [`tables`]).
//!
//! Runs after the signature stage has filled `sdks[]` and host owners: it
//! reads only the report and [`AppEvidence`], and is deterministic.

pub mod capabilities;
pub mod jurisdiction;
pub mod privacy;
pub mod reach;
pub mod score;
pub mod tables;

use crate::database::Database;
use crate::evidence::AppEvidence;
use crate::report::Report;

pub use tables::{RiskTables, TableError};

/// Fills `report.capabilities` and `report.risk` from the report so far and the evidence.
/// `db` resolves the parties whose code reaches each capability.
pub fn assess(db: &Database, report: &mut Report, evidence: &AppEvidence, tables: &RiskTables) {
    let mut reach = reach::reached_by(db, report, evidence, tables);
    report.capabilities = capabilities::assess(report, evidence, tables);
    for c in &mut report.capabilities {
        c.reached_by = reach.remove(&c.id).unwrap_or_default();
    }
    let mut by_host = reach::host_parties(db, report, evidence);
    for h in &mut report.hosts {
        h.referenced_by = by_host.remove(&h.host).unwrap_or_default();
    }
    report.risk.data_collection = score::data_collection(report, evidence, tables);
    let (factors, diagnostics) = privacy::declared_vs_observed(report, &tables.weights.data_collection);
    let score = &mut report.risk.data_collection;
    score.factors.extend(factors);
    let sum = score.factors.iter().map(|f| f.weight).fold(0, u32::saturating_add);
    score.score = sum.min(100);
    report.diagnostics.extend(diagnostics);
    report.risk.jurisdiction = score::jurisdiction(report, tables);
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::report::*;

    /// An empty Android report to build test cases on.
    pub fn report() -> Report {
        Report {
            schema: SCHEMA.into(),
            tool: Tool { name: "appvet".into(), version: "0".into(), signatures_version: "test".into() },
            input: Input {
                path: "t.apk".into(),
                sha256: "00".into(),
                size: 1,
                kind: crate::report::InputKind::Apk,
            },
            app: App {
                platform: Some(crate::report::Platform::Android),
                id: Some("com.example.t".into()),
                ..Default::default()
            },
            permissions: Vec::new(),
            signing: Signing::default(),
            code: Code::default(),
            sdks: Vec::new(),
            publisher: Publisher::default(),
            hosts: Vec::new(),
            capabilities: Vec::new(),
            risk: Risk::default(),
            // A fixture stands for an app read whole; tests of gaps add them.
            analysis: crate::report::Analysis { complete: true, gaps: Vec::new() },
            verdict: None,
            embedded: Vec::new(),
            diagnostics: Vec::new(),
            protections: Vec::new(),
        }
    }
}
