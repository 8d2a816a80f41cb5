//! Plain-text rendering for a person at a terminal.

use std::fmt::Write;

use super::{Level, Report, SdkLevel};

fn sdk(v: &Option<SdkLevel>) -> String {
    match v {
        Some(SdkLevel::Api(n)) => n.to_string(),
        Some(SdkLevel::Codename(c)) => c.clone(),
        None => "-".into(),
    }
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// A readable summary of one report.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let a = &r.app;
    let _ = writeln!(
        o,
        "{} ({}, {} bytes, sha256 {})",
        r.input.path, r.input.kind, r.input.size, r.input.sha256
    );
    let _ = writeln!(
        o,
        "  app        {} {} (code {}) \"{}\"  min sdk {}  target sdk {}",
        or_dash(&a.id),
        or_dash(&a.version),
        or_dash(&a.version_code),
        or_dash(&a.name),
        sdk(&a.min_sdk),
        sdk(&a.target_sdk)
    );
    if a.splits.len() > 1 {
        let names: Vec<_> = a.splits.iter().map(|s| s.entry.as_str()).collect();
        let _ = writeln!(o, "  splits     {}", names.join(", "));
    }
    let verified = match r.signing.verified {
        Some(true) => "verifies",
        Some(false) => "DOES NOT VERIFY",
        None => "not applicable",
    };
    let schemes: Vec<_> = r
        .signing
        .schemes
        .iter()
        .map(|s| format!("{}{}", s.scheme, if s.verified { "" } else { " (fails)" }))
        .collect();
    let _ = writeln!(
        o,
        "  signing    {verified}; schemes: {}",
        if schemes.is_empty() {
            "none".into()
        } else {
            schemes.join(", ")
        }
    );
    for c in &r.signing.certificates {
        let _ = writeln!(
            o,
            "    cert     {}  [C={} O={}] sha256 {}",
            c.subject,
            or_dash(&c.country),
            or_dash(&c.organization),
            c.sha256
        );
    }
    let dangerous: Vec<_> = r
        .permissions
        .iter()
        .filter(|p| {
            p.protection
                .as_deref()
                .is_some_and(|l| l.starts_with("dangerous"))
        })
        .collect();
    let _ = writeln!(
        o,
        "  permissions {} requested, {} dangerous",
        r.permissions.len(),
        dangerous.len()
    );
    for p in dangerous {
        let _ = writeln!(o, "    {}", p.name);
    }
    let classes: u32 = r.code.dex.iter().map(|d| d.classes).sum();
    let _ = writeln!(
        o,
        "  code       {} dex ({} classes), {} native libraries",
        r.code.dex.len(),
        classes,
        r.code.native.len()
    );
    for e in &r.embedded {
        let _ = writeln!(
            o,
            "  embedded   {} ({}) package {}",
            e.entry,
            e.kind,
            or_dash(&e.package)
        );
    }
    let _ = writeln!(o, "  hosts      {}", r.hosts.len());
    for h in r.hosts.iter().take(25) {
        let _ = writeln!(
            o,
            "    {:40} {}",
            h.host,
            h.evidence.first().map(|e| e.source.as_str()).unwrap_or("")
        );
    }
    if r.hosts.len() > 25 {
        let _ = writeln!(o, "    ... {} more", r.hosts.len() - 25);
    }
    let serious: Vec<_> = r
        .diagnostics
        .iter()
        .filter(|d| d.level >= Level::Warning)
        .collect();
    let _ = writeln!(
        o,
        "  diagnostics {} ({} warnings or errors)",
        r.diagnostics.len(),
        serious.len()
    );
    for d in serious.iter().take(20) {
        let level = if d.level == Level::Error {
            "error"
        } else {
            "warn "
        };
        let _ = writeln!(
            o,
            "    {level} {:28} {}{}",
            d.code,
            d.message,
            d.location
                .as_deref()
                .map(|l| format!(" [{l}]"))
                .unwrap_or_default()
        );
    }
    o
}
