//! Plain-text rendering for a person at a terminal.

use std::fmt::Write;

use super::{CapabilityFinding, Decision, Level, Platform, Report, SdkLevel};

fn sdk(v: &Option<SdkLevel>) -> String {
    match v {
        Some(SdkLevel::Api(n)) => n.to_string(),
        Some(SdkLevel::Codename(c)) => clean(c),
        None => "-".into(),
    }
}

fn or_dash(v: &Option<String>) -> String {
    v.as_deref().map(clean).unwrap_or_else(|| "-".into())
}

/// App-controlled text may hold newlines, escapes and other control
/// characters meant to forge or hide lines of a terminal report.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A readable summary of one report, without colour.
pub fn render(r: &Report) -> String {
    render_styled(r, false)
}

/// ANSI styling, used only when the caller writes to a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A readable summary: verdict, why, top factors, then the facts. `color`
/// adds ANSI colours (the CLI passes true only when stdout is a terminal).
pub fn render_styled(r: &Report, color: bool) -> String {
    let style = Style { on: color };
    let mut o = String::new();
    let a = &r.app;
    let i = &r.input;
    let _ = writeln!(o, "{} ({}, {} bytes, sha256 {})", clean(&i.path), i.kind, i.size, i.sha256);
    render_verdict(&mut o, r, &style);
    // What went unread comes right after the verdict: it qualifies every fact below.
    if !r.analysis.complete {
        let _ =
            writeln!(o, "  {}", style.paint("33", "analysis    INCOMPLETE: not everything could be read"));
        for g in r.analysis.gaps.iter().take(8) {
            let _ = writeln!(o, "    {}: {}", g.what, clean(&g.why));
        }
        if r.analysis.gaps.len() > 8 {
            let _ = writeln!(o, "    ... {} more", r.analysis.gaps.len() - 8);
        }
    }
    let levels = if a.platform == Some(Platform::Ios) || r.code.macho.len() > r.code.dex.len() {
        format!("min os {}", or_dash(&a.min_os))
    } else {
        format!("min sdk {}  target sdk {}", sdk(&a.min_sdk), sdk(&a.target_sdk))
    };
    let _ = writeln!(
        o,
        "  app         {} {} (code {}) \"{}\"  {levels}",
        or_dash(&a.id),
        or_dash(&a.version),
        or_dash(&a.version_code),
        or_dash(&a.name),
    );
    if a.splits.len() > 1 {
        let names: Vec<_> = a.splits.iter().map(|s| clean(&s.entry)).collect();
        let _ = writeln!(o, "  splits      {}", names.join(", "));
    }
    render_signing(&mut o, r);
    let dangerous: Vec<_> = r
        .permissions
        .iter()
        .filter(|p| p.protection.as_deref().is_some_and(|l| l.starts_with("dangerous")))
        .collect();
    // Say which ones follow: a reviewer must not read the list as complete.
    let listed = if dangerous.is_empty() { "" } else { " (the dangerous ones listed; all in --format json)" };
    let _ =
        writeln!(o, "  permissions {} requested, {} dangerous{listed}", r.permissions.len(), dangerous.len());
    for p in dangerous {
        let _ = writeln!(o, "    {}", clean(&p.name));
    }
    let classes: u32 = r.code.dex.iter().map(|d| d.classes).sum();
    let _ = writeln!(
        o,
        "  code        {} dex ({} classes), {} native libraries, {} Mach-O",
        r.code.dex.len(),
        classes,
        r.code.native.len(),
        r.code.macho.len()
    );
    for m in r.code.macho.iter().filter(|m| m.encrypted) {
        let _ = writeln!(o, "    {} is FairPlay-encrypted: its code cannot be read", clean(&m.entry));
    }
    for e in &r.embedded {
        let _ = writeln!(o, "  embedded    {} ({}) package {}", clean(&e.entry), e.kind, or_dash(&e.package));
    }
    render_capabilities(&mut o, r);
    render_sdks(&mut o, r);
    render_protections(&mut o, r);
    render_hosts(&mut o, r);
    render_diagnostics(&mut o, r);
    o
}

fn render_verdict(o: &mut String, r: &Report, style: &Style) {
    if let Some(v) = &r.verdict {
        let colour = match v.decision {
            Decision::Approve => "1;32",
            Decision::Review => "1;33",
            Decision::Block => "1;31",
        };
        let mut line = format!("  VERDICT     {}", style.paint(colour, &v.decision.as_str().to_uppercase()));
        let _ = write!(line, " under policy {}", clean(&v.policy));
        if v.decision != v.decision_before_exceptions {
            let _ = write!(line, " (by exception; rules said {})", v.decision_before_exceptions);
        }
        if v.spy_sensitive {
            let _ = write!(line, "  {}", style.paint("1;35", "SPY-SENSITIVE"));
        }
        let _ = writeln!(o, "{line}");
        for c in &v.matched_criteria {
            let _ = writeln!(o, "    criterion {}: {}", c.id, clean(&c.description));
        }
        for reason in &v.reasons {
            let _ = writeln!(o, "    why       {}", clean(reason));
        }
    }
    for (name, score) in
        [("data collection", &r.risk.data_collection), ("jurisdiction", &r.risk.jurisdiction)]
    {
        let _ = writeln!(o, "  {name:<15} {}/100", score.score);
        let mut top: Vec<_> = score.factors.iter().collect();
        top.sort_by_key(|f| std::cmp::Reverse(f.weight));
        for f in top.iter().take(5) {
            let ev = f
                .evidence
                .first()
                .map(|e| format!("  <- {}: {}", clean(&e.source), clean(&e.value)))
                .unwrap_or_default();
            let _ = writeln!(o, "    +{:<3} {}{ev}", f.weight, clean(&f.description));
        }
        if top.len() > 5 {
            let _ = writeln!(o, "    ... {} more factors", top.len() - 5);
        }
    }
}

fn render_capabilities(o: &mut String, r: &Report) {
    if r.capabilities.is_empty() {
        return;
    }
    let _ = writeln!(o, "  capabilities (D = declared, O = observed in code)");
    for c in &r.capabilities {
        let finding = match c.finding {
            Some(CapabilityFinding::DeclaredUnused) => "  declared, not seen in code",
            Some(CapabilityFinding::UsedUndeclared) => "  USED WITHOUT PERMISSION",
            None => "",
        };
        let _ = writeln!(
            o,
            "    {}{} {:20}{finding}",
            if c.declared { "D" } else { "-" },
            if c.observed { "O" } else { "-" },
            c.id
        );
        for reach in &c.reached_by {
            let _ =
                writeln!(o, "        by {} ({} classes)", clean(&reach.party.label()), reach.callers_total);
        }
    }
}

fn render_sdks(o: &mut String, r: &Report) {
    if r.sdks.is_empty() {
        return;
    }
    let _ = writeln!(o, "  sdks        {}", r.sdks.len());
    for s in &r.sdks {
        let _ = writeln!(
            o,
            "    {:30} {} [{}{}]",
            clean(&s.name),
            or_dash(&s.owner),
            or_dash(&s.country),
            controlled_from(s.control.as_ref())
        );
    }
}

/// `, controlled from CN` when the chain of control ends elsewhere than
/// where the party is registered; what stands behind it when no company does.
fn controlled_from(control: Option<&crate::report::Control>) -> String {
    use crate::report::EntityKind;
    match control {
        Some(c) if c.controller_kind == EntityKind::OpenSource => {
            ", open-source project, no controlling company".into()
        }
        Some(c) if c.controller_kind == EntityKind::Unknown => {
            ", company or its country not established".into()
        }
        Some(c) if c.country.is_some() && c.country != c.registered => {
            format!(", controlled from {}", or_dash(&c.country))
        }
        _ => String::new(),
    }
}

fn render_protections(o: &mut String, r: &Report) {
    if r.protections.is_empty() {
        return;
    }
    let _ = writeln!(o, "  protections {}", r.protections.len());
    for p in &r.protections {
        let why = p.evidence.first().map(|e| clean(&e.value)).unwrap_or_default();
        let _ = writeln!(o, "    {:13} {:20} {why}", p.kind.as_str(), clean(&p.name));
    }
}

fn render_signing(o: &mut String, r: &Report) {
    let verified = match (r.signing.verified, &r.signing.not_verifiable) {
        (Some(true), _) => "verifies".to_string(),
        (Some(false), _) => "DOES NOT VERIFY".to_string(),
        (None, Some(why)) => format!("not verifiable ({})", clean(why)),
        (None, None) => "not checked".to_string(),
    };
    let schemes: Vec<_> = r
        .signing
        .schemes
        .iter()
        .map(|s| format!("{}{}", s.scheme, if s.verified { "" } else { " (fails)" }))
        .collect();
    let schemes = if schemes.is_empty() { "none".to_string() } else { schemes.join(", ") };
    let _ = writeln!(o, "  signing     {verified}; schemes: {schemes}");
    for c in &r.signing.certificates {
        let _ = writeln!(
            o,
            "    cert      {}  [C={} O={}] sha256 {}",
            clean(&c.subject),
            or_dash(&c.country),
            or_dash(&c.organization),
            c.sha256
        );
    }
}

fn render_hosts(o: &mut String, r: &Report) {
    const SHOWN: usize = 25;
    let _ = writeln!(o, "  hosts       {}", r.hosts.len());
    for h in r.hosts.iter().take(SHOWN) {
        let source = h.evidence.first().map(|e| clean(&e.source)).unwrap_or_default();
        let owner = match (&h.owner, &h.country) {
            (None, None) => String::new(),
            (owner, country) => {
                format!(" [{} {}{}]", or_dash(owner), or_dash(country), controlled_from(h.control.as_ref()))
            }
        };
        // A name seen only as a bare word in code stands where hosts stand by its shape alone.
        let weak = if h.weak { " (bare word in code only)" } else { "" };
        let _ = writeln!(o, "    {:40} {}{owner}{weak}", clean(&h.host), source);
    }
    if r.hosts.len() > SHOWN {
        let _ = writeln!(o, "    ... {} more", r.hosts.len() - SHOWN);
    }
}

fn render_diagnostics(o: &mut String, r: &Report) {
    const SHOWN: usize = 20;
    let serious: Vec<_> = r.diagnostics.iter().filter(|d| d.level >= Level::Warning).collect();
    let _ = writeln!(o, "  diagnostics {} ({} warnings or errors)", r.diagnostics.len(), serious.len());
    for d in serious.iter().take(SHOWN) {
        let level = if d.level == Level::Error { "error" } else { "warn " };
        let location = d.location.as_deref().map(|l| format!(" [{}]", clean(l))).unwrap_or_default();
        let _ = writeln!(o, "    {level} {:28} {}{location}", d.code, clean(&d.message));
    }
    if serious.len() > SHOWN {
        let _ = writeln!(o, "    ... {} more", serious.len() - SHOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_forge_lines() {
        assert_eq!(clean("a\nb\u{0}c\u{1b}[31m"), "a\\nb\\u{0}c\\u{1b}[31m");
        assert_eq!(clean("普通话 ok"), "普通话 ok");
    }

    #[test]
    fn colour_only_when_asked() {
        let mut r = crate::risk::tests_support::report();
        r.verdict = Some(crate::report::Verdict {
            decision: Decision::Block,
            decision_before_exceptions: Decision::Block,
            policy: "nl-aivd".into(),
            spy_sensitive: true,
            ..Default::default()
        });
        let plain = render(&r);
        assert!(plain.contains("VERDICT     BLOCK under policy nl-aivd  SPY-SENSITIVE"), "{plain}");
        assert!(!plain.contains('\x1b'));
        assert!(render_styled(&r, true).contains("\x1b[1;31mBLOCK"));
    }
}
