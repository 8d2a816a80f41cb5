//! SARIF 2.1.0 rendering for code-scanning and CI systems: the policy rules
//! that matched, declared-versus-observed capability findings, packers,
//! protectors and obfuscators, and the diagnostics that are warnings or errors, each as a result located in the
//! input file (the archive entry as a logical location).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{CapabilityFinding, Decision, EvidenceKind, Level, ProtectionKind, Report};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

struct Finding {
    rule: String,
    rule_text: String,
    level: &'static str,
    message: String,
    entry: Option<String>,
    properties: Value,
}

fn findings(r: &Report) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(v) = &r.verdict {
        for m in &v.rules {
            let level = match m.decision {
                Decision::Block => "error",
                Decision::Review => "warning",
                Decision::Approve => "note",
            };
            out.push(Finding {
                rule: format!("policy/{}", m.id),
                rule_text: m.description.clone(),
                level,
                message: format!("{} (policy {}): {}", m.decision, v.policy, m.description),
                entry: None,
                properties: json!({ "decision": m.decision, "factors": m.factors }),
            });
        }
        for c in &v.matched_criteria {
            out.push(Finding {
                rule: "policy/spy-sensitive".into(),
                rule_text: "the policy's spy-sensitive criteria hold".into(),
                level: "error",
                message: format!("spy-sensitive ({}): {}", c.id, c.description),
                entry: c.evidence.first().map(|e| e.source.clone()),
                properties: json!({ "criterion": c.id, "factors": c.factors }),
            });
        }
    }
    for c in &r.capabilities {
        let Some(finding) = c.finding else { continue };
        let (rule_text, level, how) = match finding {
            CapabilityFinding::UsedUndeclared => (
                "code reaches a permission-gated capability the app does not declare",
                "warning",
                "used without permission",
            ),
            CapabilityFinding::DeclaredUnused => {
                ("a declared capability no code reaches", "note", "declared but not seen in code")
            }
        };
        out.push(Finding {
            rule: format!("capability/{finding}"),
            rule_text: rule_text.into(),
            level,
            message: format!("{} ({}): {how}", c.label, c.id),
            entry: c
                .evidence
                .iter()
                .find(|e| matches!(e.kind, EvidenceKind::Api | EvidenceKind::Symbol))
                .map(|e| e.source.clone()),
            properties: json!({ "capability": c.id, "evidence": c.evidence, "reached_by": c.reached_by }),
        });
    }
    for p in &r.protections {
        // A packer hides code (its `code.packed` diagnostic is a warning too); the rest inform.
        let level = if p.kind == ProtectionKind::Packer { "warning" } else { "note" };
        out.push(Finding {
            rule: format!("protection/{}", p.kind),
            rule_text: format!("{} recognised from its artefacts", p.kind),
            level,
            message: format!("{}: {}", p.kind, p.name),
            entry: p.evidence.iter().map(|e| e.source.clone()).find(|s| !s.is_empty()),
            properties: json!({ "name": p.name, "evidence": p.evidence }),
        });
    }

    // Whose own code reaches sensitive data: one note per capability and
    // party placed in a country (an SDK, its owner, the publisher).
    for c in &r.capabilities {
        for reach in c.reached_by.iter().filter(|x| x.party.country.is_some()) {
            out.push(Finding {
                rule: "capability/reached-by".into(),
                rule_text: "a party placed in a country has code that reaches a capability".into(),
                level: "note",
                message: format!("{} ({}) reached by {}", c.label, c.id, reach.party.label()),
                entry: None,
                properties: json!({ "capability": c.id, "reach": reach }),
            });
        }
    }
    for d in r.diagnostics.iter().filter(|d| d.level >= Level::Warning) {
        out.push(Finding {
            rule: format!("diagnostic/{}", d.code),
            rule_text: d.code.clone(),
            level: if d.level == Level::Error { "error" } else { "warning" },
            message: d.message.clone(),
            entry: d.location.clone(),
            properties: json!({}),
        });
    }
    out
}

/// The SARIF log as a JSON value (one run, one input).
pub fn to_value(r: &Report) -> Value {
    let found = findings(r);
    let mut rules: BTreeMap<String, String> = BTreeMap::new();
    for f in &found {
        rules.entry(f.rule.clone()).or_insert_with(|| f.rule_text.clone());
    }
    let rule_index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let results: Vec<Value> = found
        .iter()
        .map(|f| {
            let mut location = json!({
                "physicalLocation": { "artifactLocation": { "uri": r.input.path, "index": 0 } }
            });
            if let Some(entry) = &f.entry {
                location["logicalLocations"] = json!([{ "fullyQualifiedName": entry, "kind": "module" }]);
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index.get(f.rule.as_str()).copied().unwrap_or(0),
                "level": f.level,
                "message": { "text": f.message },
                "locations": [location],
                "properties": f.properties,
            })
        })
        .collect();
    let rules: Vec<Value> =
        rules.iter().map(|(id, text)| json!({ "id": id, "shortDescription": { "text": text } })).collect();
    let verdict = r
        .verdict
        .as_ref()
        .map(|v| json!({ "decision": v.decision, "policy": v.policy, "spy_sensitive": v.spy_sensitive }));
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": r.tool.name,
                "version": r.tool.version,
                "rules": rules,
                "properties": { "signatures_version": r.tool.signatures_version },
            }},
            "artifacts": [{
                "location": { "uri": r.input.path },
                "length": r.input.size,
                "hashes": { "sha-256": r.input.sha256 },
            }],
            "results": results,
            "properties": {
                "app": r.app.id,
                "verdict": verdict,
                "data_collection": r.risk.data_collection.score,
                "jurisdiction": r.risk.jurisdiction.score,
            },
        }],
    })
}

/// The SARIF log, pretty-printed.
pub fn render(r: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(&to_value(r)).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// One SARIF log with one run per report (several inputs).
pub fn render_all(reports: &[&Report]) -> String {
    render_runs(reports.iter().flat_map(|r| runs_of(r)).collect())
}

/// The SARIF runs of one report (a batch collects them as apps finish).
pub fn runs_of(r: &Report) -> Vec<Value> {
    match to_value(r).get_mut("runs").map(Value::take) {
        Some(Value::Array(rs)) => rs,
        _ => Vec::new(),
    }
}

/// One SARIF log holding `runs`.
pub fn render_runs(runs: Vec<Value>) -> String {
    let log = json!({ "$schema": SCHEMA, "version": "2.1.0", "runs": runs });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
