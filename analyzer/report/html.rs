//! HTML rendering: one self-contained offline page per report (no scripts,
//! no external assets, a Content-Security-Policy forbidding both), for a
//! reviewer who never opens a terminal. Every string from the app or the
//! report goes through [`esc`]; charts are inline SVG.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{CapabilityFinding, Decision, Evidence, Factor, Level, Report, Score};

/// Escapes text for element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn opt(v: &Option<impl AsRef<str>>) -> String {
    v.as_ref().map(|s| esc(s.as_ref())).unwrap_or_else(|| "&ndash;".into())
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f6f8}\
main{max-width:1100px;margin:0 auto;padding:0 16px 40px}\
.banner{padding:18px 16px;color:#fff}.banner h1{margin:0;font-size:26px}.banner p{margin:4px 0 0}\
.approve{background:#1f7a3a}.review{background:#a86400}.block{background:#b3261e}\
.spy{display:inline-block;margin-left:10px;padding:2px 8px;border-radius:4px;background:#5b1f7a;font-size:14px;vertical-align:middle}\
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:16px 0;padding:12px 16px}\
h2{font-size:18px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;border-bottom:1px solid #eee;padding:4px 6px;vertical-align:top}\
th{background:#fafafa}code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}\
.yes{color:#1f7a3a;font-weight:bold}.no{color:#999}.warn{color:#b3261e;font-weight:bold}\
ul.ev{margin:2px 0;padding-left:18px}";

/// The whole page.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let title = r.app.name.as_deref().or(r.app.id.as_deref()).unwrap_or(&r.input.path);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>appvet: {}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    );
    banner(&mut o, r);
    o.push_str("<main>\n");
    app_section(&mut o, r);
    scores_section(&mut o, r);
    jurisdiction_section(&mut o, r);
    capabilities_section(&mut o, r);
    sdks_section(&mut o, r);
    hosts_section(&mut o, r);
    signing_section(&mut o, r);
    diagnostics_section(&mut o, r);
    let _ = write!(
        o,
        "<p class=\"no\">appvet {} &middot; signatures {} &middot; schema {}</p>\n</main></body></html>\n",
        esc(&r.tool.version),
        esc(&r.tool.signatures_version),
        esc(&r.schema)
    );
    o
}

fn banner(o: &mut String, r: &Report) {
    let Some(v) = &r.verdict else {
        o.push_str("<header id=\"verdict\" class=\"banner review\"><h1>No verdict</h1></header>\n");
        return;
    };
    let class = match v.decision {
        Decision::Approve => "approve",
        Decision::Review => "review",
        Decision::Block => "block",
    };
    let spy = if v.spy_sensitive { "<span class=\"spy\">SPY-SENSITIVE</span>" } else { "" };
    let _ = write!(
        o,
        "<header id=\"verdict\" class=\"banner {class}\" data-decision=\"{}\" data-spy-sensitive=\"{}\">\
<h1>{}{spy}</h1><p>policy <b>{}</b>",
        esc(v.decision.as_str()),
        v.spy_sensitive,
        esc(&v.decision.as_str().to_uppercase()),
        esc(&v.policy)
    );
    if v.decision != v.decision_before_exceptions {
        let _ = write!(
            o,
            " &middot; approved by exception (the rules said {})",
            esc(v.decision_before_exceptions.as_str())
        );
    }
    o.push_str("</p>");
    if !v.reasons.is_empty() {
        o.push_str("<ul>");
        for reason in &v.reasons {
            let _ = write!(o, "<li>{}</li>", esc(reason));
        }
        o.push_str("</ul>");
    }
    for c in &v.matched_criteria {
        let _ = write!(o, "<p>criterion <b>{}</b>: {}</p>", esc(&c.id), esc(&c.description));
    }
    // What could not be read qualifies everything below it, so it sits in
    // the banner, not with the diagnostics.
    if !r.analysis.complete {
        o.push_str(
            "<div id=\"analysis\"><p><b>Incomplete analysis:</b> not everything could be read</p><ul>",
        );
        for g in &r.analysis.gaps {
            let _ = write!(o, "<li><b>{}</b>: {}", esc(g.what.as_str()), esc(&g.why));
            if let Some(code) = &g.diagnostic {
                let _ = write!(o, " <code>{}</code>", esc(code));
            }
            o.push_str("</li>");
        }
        o.push_str("</ul></div>");
    }
    o.push_str("</header>\n");
}

fn app_section(o: &mut String, r: &Report) {
    let a = &r.app;
    let _ = write!(
        o,
        "<section id=\"app\"><h2>App</h2><table>\
<tr><th>Name</th><td>{}</td></tr><tr><th>Id</th><td class=\"mono\">{}</td></tr>\
<tr><th>Version</th><td>{} ({})</td></tr><tr><th>Platform</th><td>{}</td></tr>\
<tr><th>Input</th><td class=\"mono\">{} &middot; {} &middot; {} bytes &middot; sha256 {}</td></tr></table></section>",
        opt(&a.name),
        opt(&a.id),
        opt(&a.version),
        opt(&a.version_code),
        opt(&a.platform),
        esc(&r.input.path),
        esc(r.input.kind.as_str()),
        r.input.size,
        esc(&r.input.sha256)
    );
    o.push('\n');
}

fn evidence_list(ev: &[Evidence]) -> String {
    if ev.is_empty() {
        return String::new();
    }
    let mut s = String::from("<ul class=\"ev\">");
    for e in ev {
        let _ = write!(
            s,
            "<li><code>{}</code> {}: <code>{}</code></li>",
            esc(&e.source),
            esc(e.kind.as_str()),
            esc(&e.value)
        );
    }
    s.push_str("</ul>");
    s
}

/// A horizontal bar per score, 0-100.
fn score_chart(scores: &[(&str, &Score)]) -> String {
    let mut s = format!(
        "<svg width=\"520\" height=\"{}\" role=\"img\" aria-label=\"scores\">",
        scores.len() * 34 + 6
    );
    for (i, (name, score)) in scores.iter().enumerate() {
        let y = i * 34 + 6;
        let w = score.score.min(100) * 3;
        let colour = match score.score {
            0..=29 => "#1f7a3a",
            30..=59 => "#a86400",
            _ => "#b3261e",
        };
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>\
<rect x=\"130\" y=\"{y}\" width=\"300\" height=\"22\" fill=\"#eee\"/>\
<rect x=\"130\" y=\"{y}\" width=\"{w}\" height=\"22\" fill=\"{colour}\"/>\
<text x=\"440\" y=\"{}\" font-size=\"13\">{} / 100</text>",
            y + 16,
            esc(name),
            y + 16,
            score.score
        );
    }
    s.push_str("</svg>");
    s
}

fn factor_table(o: &mut String, factors: &[Factor]) {
    if factors.is_empty() {
        o.push_str("<p class=\"no\">No factors.</p>");
        return;
    }
    o.push_str("<table><tr><th>Points</th><th>Factor</th><th>Evidence</th></tr>");
    let mut sorted: Vec<&Factor> = factors.iter().collect();
    sorted.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.id.cmp(&b.id)));
    for f in sorted {
        let _ = write!(
            o,
            "<tr id=\"{}\"><td>+{}</td><td>{}<br><code>{}</code></td><td>{}</td></tr>",
            esc(&f.id),
            f.weight,
            esc(&f.description),
            esc(&f.id),
            evidence_list(&f.evidence)
        );
    }
    o.push_str("</table>");
}

fn scores_section(o: &mut String, r: &Report) {
    o.push_str("<section id=\"scores\"><h2>Scores</h2>");
    o.push_str(&score_chart(&[
        ("Data collection", &r.risk.data_collection),
        ("Jurisdiction", &r.risk.jurisdiction),
    ]));
    let _ = write!(o, "<h3>Data collection: {}/100</h3>", r.risk.data_collection.score);
    factor_table(o, &r.risk.data_collection.factors);
    let _ = write!(o, "<h3>Jurisdiction: {}/100</h3>", r.risk.jurisdiction.score);
    factor_table(o, &r.risk.jurisdiction.factors);
    o.push_str("</section>\n");
}

/// Evidence chains: evidence -> party -> country, one row per attribution.
fn jurisdiction_section(o: &mut String, r: &Report) {
    o.push_str("<section id=\"jurisdiction\"><h2>Jurisdiction evidence chains</h2>");
    let chains: Vec<&Factor> = r.risk.jurisdiction.factors.iter().collect();
    if chains.is_empty() {
        o.push_str("<p class=\"no\">No party attributed to a country of concern.</p></section>\n");
        return;
    }
    o.push_str("<table><tr><th>Evidence</th><th></th><th>Party</th><th></th><th>Country</th><th>Attributed by</th></tr>");
    for f in chains {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>&rarr;</td><td>{}<br><small>{}</small></td><td>&rarr;</td><td><b>{}</b></td><td>{}</td></tr>",
            evidence_list(&f.evidence),
            esc(&f.description),
            opt(&f.subject),
            opt(&f.country),
            opt(&f.confidence)
        );
    }
    o.push_str("</table></section>\n");
}

fn capabilities_section(o: &mut String, r: &Report) {
    o.push_str("<section id=\"capabilities\"><h2>Capabilities: declared versus observed</h2>");
    if r.capabilities.is_empty() {
        o.push_str(
            "<p class=\"no\">The app neither declares nor reaches any tracked capability.</p></section>\n",
        );
        return;
    }
    o.push_str("<table><tr><th>Capability</th><th>Declared</th><th>Observed</th><th>Finding</th><th>Reached by</th><th>Evidence</th></tr>");
    let mark = |b: bool| if b { "<span class=\"yes\">yes</span>" } else { "<span class=\"no\">no</span>" };
    for c in &r.capabilities {
        let finding = match c.finding {
            Some(CapabilityFinding::DeclaredUnused) => "declared, not seen in code".to_string(),
            Some(CapabilityFinding::UsedUndeclared) => {
                "<span class=\"warn\">used without permission</span>".to_string()
            }
            None => String::new(),
        };
        let _ = write!(
            o,
            "<tr id=\"capability.{}\"><td>{}<br><code>{}</code></td><td>{}</td><td>{}</td><td>{finding}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.id),
            esc(&c.label),
            esc(&c.id),
            mark(c.declared),
            mark(c.observed),
            reached_by(&c.reached_by),
            evidence_list(&c.evidence)
        );
    }
    o.push_str("</table></section>\n");
}

/// Whose code reaches a capability: one line per party, its caller classes on hover.
fn reached_by(reach: &[super::Reach]) -> String {
    let mut out = String::new();
    for r in reach {
        let _ = write!(
            out,
            "<div title=\"{}\">{} <small>({} classes)</small></div>",
            esc(&r.callers.join(" ")),
            esc(&r.party.label()),
            r.callers_total
        );
    }
    out
}

fn sdks_section(o: &mut String, r: &Report) {
    o.push_str("<section id=\"sdks\"><h2>SDKs by owner and country</h2>");
    if r.sdks.is_empty() {
        o.push_str("<p class=\"no\">No SDK recognised.</p></section>\n");
        return;
    }
    let mut groups: BTreeMap<(String, String), Vec<&super::Sdk>> = BTreeMap::new();
    for s in &r.sdks {
        let key = (
            s.country.clone().unwrap_or_else(|| "?".into()),
            s.owner.clone().unwrap_or_else(|| "unknown owner".into()),
        );
        groups.entry(key).or_default().push(s);
    }
    o.push_str("<table><tr><th>Country</th><th>Owner</th><th>SDKs</th></tr>");
    for ((country, owner), sdks) in groups {
        let names: Vec<String> = sdks
            .iter()
            .map(|s| format!("{} <small>({})</small>", esc(&s.name), esc(&s.categories.join(", "))))
            .collect();
        let _ = write!(
            o,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td></tr>",
            esc(&country),
            esc(&owner),
            names.join("<br>")
        );
    }
    o.push_str("</table></section>\n");
}

fn hosts_section(o: &mut String, r: &Report) {
    const SHOWN: usize = 200;
    let _ = write!(o, "<section id=\"hosts\"><h2>Hosts ({})</h2>", r.hosts.len());
    if !r.hosts.is_empty() {
        o.push_str("<table><tr><th>Host</th><th>Owner</th><th>Country</th><th>Seen in</th></tr>");
        for h in r.hosts.iter().take(SHOWN) {
            let seen = h.evidence.first().map(|e| esc(&e.source)).unwrap_or_default();
            let _ = write!(
                o,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{seen}</td></tr>",
                esc(&h.host),
                opt(&h.owner),
                opt(&h.country)
            );
        }
        o.push_str("</table>");
        if r.hosts.len() > SHOWN {
            let _ = write!(o, "<p>&hellip; {} more in the JSON report</p>", r.hosts.len() - SHOWN);
        }
    }
    o.push_str("</section>\n");
}

fn signing_section(o: &mut String, r: &Report) {
    let verified = match r.signing.verified {
        Some(true) => "<span class=\"yes\">verifies</span>",
        Some(false) => "<span class=\"warn\">does not verify</span>",
        None => "not checked",
    };
    let schemes: Vec<String> = r.signing.schemes.iter().map(|s| esc(&s.scheme)).collect();
    let _ = write!(
        o,
        "<section id=\"signing\"><h2>Signing</h2><p>{verified}; schemes: {}</p>",
        schemes.join(", ")
    );
    if !r.signing.certificates.is_empty() {
        o.push_str("<table><tr><th>Subject</th><th>Country</th><th>Organisation</th><th>SHA-256</th></tr>");
        for c in &r.signing.certificates {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                esc(&c.subject),
                opt(&c.country),
                opt(&c.organization),
                esc(&c.sha256)
            );
        }
        o.push_str("</table>");
    }
    o.push_str("</section>\n");
}

fn diagnostics_section(o: &mut String, r: &Report) {
    let _ = write!(o, "<section id=\"diagnostics\"><h2>Diagnostics ({})</h2>", r.diagnostics.len());
    if !r.diagnostics.is_empty() {
        o.push_str("<table><tr><th>Level</th><th>Code</th><th>Message</th><th>Location</th></tr>");
        for d in &r.diagnostics {
            let level = match d.level {
                Level::Info => "info",
                Level::Warning => "warning",
                Level::Error => "error",
            };
            let _ = write!(
                o,
                "<tr><td>{level}</td><td><code>{}</code></td><td>{}</td><td class=\"mono\">{}</td></tr>",
                esc(&d.code),
                esc(&d.message),
                opt(&d.location)
            );
        }
        o.push_str("</table>");
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_controlled_strings_cannot_inject_markup() {
        let mut r = crate::risk::tests_support::report();
        r.app.name = Some("<script>alert(1)</script>".into());
        r.app.id = Some("\"><img src=x onerror=alert(1)>".into());
        let html = render(&r);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://"), "no external references");
    }

    #[test]
    fn an_incomplete_analysis_is_shown_in_the_banner() {
        let mut r = crate::risk::tests_support::report();
        r.verdict = Some(crate::report::Verdict::default());
        assert!(!render(&r).contains("id=\"analysis\""));
        r.analysis.complete = false;
        r.analysis.gaps.push(crate::report::Gap {
            what: crate::report::GapKind::MainExecutable,
            why: "CFBundleExecutable \"<App>\" is not in the bundle".into(),
            diagnostic: Some("ios.main_executable_missing".into()),
        });
        let html = render(&r);
        let banner = &html[html.find("id=\"verdict\"").unwrap()..html.find("</header>").unwrap()];
        assert!(banner.contains("id=\"analysis\""), "{banner}");
        assert!(banner.contains("main_executable") && banner.contains("&lt;App&gt;"), "{banner}");
    }

    #[test]
    fn sections_are_all_present() {
        let html = render(&crate::risk::tests_support::report());
        for id in
            ["verdict", "scores", "jurisdiction", "capabilities", "sdks", "hosts", "signing", "diagnostics"]
        {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
    }
}
