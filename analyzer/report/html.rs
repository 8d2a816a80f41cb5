//! HTML rendering: one self-contained offline page per report (no scripts,
//! no external assets, a Content-Security-Policy forbidding both), built for
//! a reviewer who must approve or block in two minutes. The decision comes
//! first (app, verdict, one sentence of why, the policy and whether country
//! rules are on), then one table of parties (publisher, SDKs, host owners:
//! owner -> controlling parent -> country, the data each party's code
//! reaches, the hosts it talks to, each row expandable to its evidence),
//! then the data the app reaches, and the facts below
//! ([`super::html_sections`]). Each fact appears once. Every string from the
//! app or the report goes through [`esc`]. A print stylesheet makes the page
//! a PDF with `chromium --headless --print-to-pdf=report.pdf report.html`.

use std::fmt::Write;

use super::html_sections as sections;
use super::party_table::{self, PartyRow, Role};
use super::{CapabilityFinding, Decision, Evidence, Report, Verdict};

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

/// An optional value, or a dash.
pub(super) fn opt(v: &Option<impl AsRef<str>>) -> String {
    v.as_ref().map(|s| esc(s.as_ref())).unwrap_or_else(|| "&ndash;".into())
}

/// No scripts, no remote anything: styles inline, images only as data URIs.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

pub const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f4f4f6}\
main{max-width:1360px;margin:0 auto;padding:0 16px 32px}\
.top{padding:12px 18px;color:#fff;border-radius:0 0 8px 8px}.top h1{margin:0;font-size:24px;font-weight:600}\
.top .id{font:13px ui-monospace,monospace;opacity:.9}.top p{margin:4px 0 0}.top .why{font-size:17px;font-weight:600}\
.approve{background:#1f7a3a}.review{background:#9a5b00}.block{background:#b3261e}.neutral{background:#3a3f4b}\
.pill{display:inline-block;padding:1px 10px;border-radius:12px;font-weight:700;letter-spacing:.04em;color:#fff}\
.top .pill{background:rgba(0,0,0,.28);font-size:20px;margin-right:10px;vertical-align:2px}\
.spy{display:inline-block;margin-left:8px;padding:1px 8px;border-radius:4px;background:#5b1f7a;font-size:13px;vertical-align:4px}\
.meta{font-size:13px;opacity:.95}.meta b{font-weight:600}\
section{background:#fff;border:1px solid #ddd;border-radius:6px;margin:12px 0;padding:8px 14px}\
h2{font-size:17px;margin:2px 0 6px}h2 small{font-weight:400;color:#666;font-size:13px}\
table{border-collapse:collapse;width:100%}\
th,td{text-align:left;border-bottom:1px solid #eee;padding:3px 6px;vertical-align:top}\
th{background:#fafafa;font-weight:600;font-size:13px}\
code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}\
.yes{color:#1f7a3a;font-weight:bold}.no{color:#888}.warn{color:#b3261e;font-weight:bold}\
.concern{color:#b3261e;font-weight:700}.chain{white-space:nowrap}.small{font-size:12px;color:#555}\
details summary{cursor:pointer}details>ul{margin:4px 0}ul.ev{margin:2px 0;padding-left:18px;font-size:12px}\
.index .pill{font-size:12px}.pill.approve{background:#1f7a3a}.pill.review{background:#9a5b00}.pill.block{background:#b3261e}\
.cols{display:grid;grid-template-columns:1fr 1fr;gap:0 12px}.cols>section{margin:6px 0}\
@media (max-width:900px){.cols{display:block}}\
@media print{body{background:#fff;font-size:11px}main{max-width:none;padding:0}\
.top,.pill,.spy{-webkit-print-color-adjust:exact;print-color-adjust:exact}\
section{border:0;padding:4px 0;break-inside:avoid-page}a{color:inherit;text-decoration:none}.cols{display:block}}";

/// The whole page.
pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let title = app_title(r);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>appvet: {}</title><style>{STYLE}</style></head><body>\n<main>\n",
        esc(title)
    );
    top(&mut o, r);
    parties_section(&mut o, r);
    capabilities_section(&mut o, r);
    sections::facts(&mut o, r);
    let _ = write!(
        o,
        "<p class=\"no\">{} &middot; {} &middot; {} bytes &middot; sha256 <span class=\"mono\">{}</span> &middot; \
appvet {} &middot; signatures {} &middot; schema {}</p>\n</main></body></html>\n",
        esc(&r.input.path),
        esc(r.input.kind.as_str()),
        r.input.size,
        esc(&r.input.sha256),
        esc(&r.tool.version),
        esc(&r.tool.signatures_version),
        esc(&r.schema)
    );
    o
}

fn app_title(r: &Report) -> &str {
    r.app.name.as_deref().or(r.app.id.as_deref()).unwrap_or(&r.input.path)
}

fn decision_class(d: Decision) -> &'static str {
    match d {
        Decision::Approve => "approve",
        Decision::Review => "review",
        Decision::Block => "block",
    }
}

/// The decision block: app, verdict, why, policy and country rules, scores.
fn top(o: &mut String, r: &Report) {
    let a = &r.app;
    let (class, label) = match &r.verdict {
        Some(v) => (decision_class(v.decision), v.decision.as_str().to_uppercase()),
        None => ("neutral", "NO VERDICT".to_string()),
    };
    let _ = write!(o, "<header id=\"verdict\" class=\"top {class}\"");
    if let Some(v) = &r.verdict {
        let _ = write!(
            o,
            " data-decision=\"{}\" data-spy-sensitive=\"{}\"",
            esc(v.decision.as_str()),
            v.spy_sensitive
        );
    }
    let _ = write!(o, "><h1 id=\"app\"><span class=\"pill\">{}</span>{}", esc(&label), esc(app_title(r)));
    if r.verdict.as_ref().is_some_and(|v| v.spy_sensitive) {
        o.push_str("<span class=\"spy\">SPY-SENSITIVE</span>");
    }
    o.push_str("</h1><p class=\"id\">");
    let mut id_parts: Vec<String> = Vec::new();
    if let Some(id) = &a.id {
        id_parts.push(esc(id));
    }
    if let Some(v) = &a.version {
        let code = a.version_code.as_ref().map(|c| format!(" ({})", esc(c))).unwrap_or_default();
        id_parts.push(format!("version {}{code}", esc(v)));
    }
    if let Some(p) = a.platform {
        id_parts.push(esc(p.as_str()));
    }
    id_parts.push(esc(r.input.kind.as_str()));
    o.push_str(&id_parts.join(" &middot; "));
    o.push_str("</p>");
    if let Some(v) = &r.verdict {
        let _ = write!(o, "<p class=\"why\">{}</p>", why(r, v));
        if v.reasons.len() > 1 {
            o.push_str("<details><summary>every rule that matched</summary><ul>");
            for reason in &v.reasons {
                let _ = write!(o, "<li>{}</li>", esc(reason));
            }
            o.push_str("</ul></details>");
        }
        let _ = write!(o, "<p class=\"meta\">Policy <b>{}</b> &middot; {}", esc(&v.policy), country_rules(v));
    } else {
        o.push_str("<p class=\"meta\">No policy was applied");
    }
    let _ = write!(
        o,
        " &middot; data collection <b>{}</b>/100 &middot; jurisdiction <b>{}</b>/100",
        r.risk.data_collection.score, r.risk.jurisdiction.score
    );
    let reached: Vec<String> = r.capabilities.iter().filter(|c| c.observed).map(|c| esc(&c.label)).collect();
    if !reached.is_empty() {
        let _ = write!(o, "<br>The app's code reaches: {}", reached.join(", "));
    }
    o.push_str("</p>");
    // What could not be read qualifies everything below it, so it sits here.
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

/// One sentence of why: the strictest rule's reason, or why nothing matched.
fn why(r: &Report, v: &Verdict) -> String {
    if v.decision != v.decision_before_exceptions {
        return format!(
            "Approved by exception; the rules said {}{}",
            esc(v.decision_before_exceptions.as_str()),
            v.reasons.first().map(|s| format!(": {}", esc(strip_decision(s)))).unwrap_or_default()
        );
    }
    let strictest =
        v.rules.iter().filter(|m| m.decision == v.decision).map(|m| m.description.as_str()).next();
    match (strictest, v.reasons.first()) {
        (Some(d), _) => format!("{}{}.", upper_first(&esc(d)), more(v.rules.len())),
        (None, Some(reason)) => {
            format!("{}{}.", upper_first(&esc(strip_decision(reason))), more(v.reasons.len()))
        }
        (None, None) if r.analysis.complete => "No rule of the policy matched.".to_string(),
        (None, None) => "The analysis is incomplete.".to_string(),
    }
}

fn more(n: usize) -> String {
    if n > 1 {
        format!(" (and {} more)", n - 1)
    } else {
        String::new()
    }
}

fn strip_decision(reason: &str) -> &str {
    ["block: ", "review: ", "approve: "].iter().find_map(|p| reason.strip_prefix(p)).unwrap_or(reason)
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn country_rules(v: &Verdict) -> String {
    if v.countries.is_empty() {
        "country rules <b>off</b> (a party's country alone does not change the decision)".into()
    } else {
        format!("country rules <b>on</b>: {}", esc(&v.countries.join(", ")))
    }
}

pub(super) fn evidence_list(ev: &[Evidence]) -> String {
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

/// A value with its evidence behind a disclosure triangle.
pub(super) fn expandable(summary: &str, ev: &[Evidence]) -> String {
    if ev.is_empty() {
        return summary.to_string();
    }
    format!("<details><summary>{summary}</summary>{}</details>", evidence_list(ev))
}

fn parties_section(o: &mut String, r: &Report) {
    let all = party_table::parties(r);
    let concern = r.verdict.as_ref().map(|v| v.countries.as_slice()).unwrap_or(&[]);
    let _ = write!(
        o,
        "<section id=\"parties\"><h2>Who stands behind it <small>{} parties</small></h2>",
        all.len()
    );
    if all.is_empty() {
        o.push_str("<p class=\"no\">No publisher, SDK or host owner could be attributed.</p></section>\n");
        return;
    }
    // The column shows once the report ties data to parties (SDK evidence
    // today, per-party call sites when the report carries them).
    let with_data = all.iter().any(|p| !p.data.is_empty());
    o.push_str(
        "<table><thead><tr><th>Party</th><th>Role</th><th>Owner &rarr; controlling parent</th><th>Country</th>\
<th>Points</th>",
    );
    if with_data {
        o.push_str("<th>Data its code reaches</th>");
    }
    o.push_str("<th>Hosts it talks to</th></tr></thead><tbody>");
    for p in &all {
        party_row(o, p, concern, with_data);
    }
    o.push_str("</tbody></table></section>\n");
}

fn party_row(o: &mut String, p: &PartyRow, concern: &[String], with_data: bool) {
    let role = match p.kind {
        Role::Sdk if !p.categories.is_empty() => {
            format!("SDK <span class=\"small\">{}</span>", esc(&p.categories.join(", ")))
        }
        Role::Sdk => "SDK".into(),
        k => esc(k.as_str()),
    };
    let chain = if let Some(control) = &p.control {
        esc(&control.chain)
    } else if p.chain.is_empty() {
        opt(&p.owner)
    } else {
        p.chain
            .iter()
            .map(|e| {
                format!(
                    "{}{}",
                    esc(&e.name),
                    e.country.as_ref().map(|c| format!(" ({})", esc(c))).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(" &rarr; ")
    };
    let country = match p.controlling_country() {
        Some(c) => {
            let by = p
                .attributed_by
                .as_ref()
                .map(|b| format!(" <span class=\"small\">by {}</span>", esc(b)))
                .unwrap_or_default();
            let class = if concern.iter().any(|k| k == c) { " class=\"concern\"" } else { "" };
            format!("<b{class}>{}</b>{by}", esc(c))
        }
        None => "&ndash;".into(),
    };
    let points = if p.points > 0 { format!("<b>+{}</b>", p.points) } else { "&ndash;".into() };
    let data = match (with_data, p.data.is_empty()) {
        (false, _) => String::new(),
        (true, true) => "<td>&ndash;</td>".to_string(),
        (true, false) => format!("<td>{}</td>", esc(&p.data.join(", "))),
    };
    const HOSTS_SHOWN: usize = 3;
    let mut hosts: Vec<String> =
        p.hosts.iter().take(HOSTS_SHOWN).map(|h| format!("<code>{}</code>", esc(h))).collect();
    if p.hosts.len() > HOSTS_SHOWN {
        hosts.push(format!("+{} more", p.hosts.len() - HOSTS_SHOWN));
    }
    let hosts = if hosts.is_empty() { "&ndash;".to_string() } else { hosts.join(" ") };
    let _ = write!(
        o,
        "<tr><td>{}</td><td>{role}</td><td class=\"chain\">{chain}</td><td>{country}</td><td>{points}</td>{data}<td>{hosts}</td></tr>",
        expandable(&esc(&p.name), &p.evidence)
    );
}

fn capabilities_section(o: &mut String, r: &Report) {
    o.push_str("<section id=\"capabilities\"><h2>Data the app can reach <small>declared versus seen in code</small></h2>");
    if r.capabilities.is_empty() {
        o.push_str(
            "<p class=\"no\">The app neither declares nor reaches any tracked capability.</p></section>\n",
        );
        return;
    }
    o.push_str("<table><thead><tr><th>Data</th><th>Declared</th><th>Seen in code</th><th>Points</th><th>Finding</th><th>Whose code reaches it</th></tr></thead><tbody>");
    let mark = |b: bool| if b { "<span class=\"yes\">yes</span>" } else { "<span class=\"no\">no</span>" };
    for c in &r.capabilities {
        let finding = match c.finding {
            Some(CapabilityFinding::DeclaredUnused) => "declared, not seen in code",
            Some(CapabilityFinding::UsedUndeclared) => "<span class=\"warn\">used without permission</span>",
            None => "",
        };
        let factor_id = format!("data_collection.capability.{}", c.id);
        let points = r
            .risk
            .data_collection
            .factors
            .iter()
            .find(|f| f.id == factor_id)
            .map(|f| format!("+{}", f.weight))
            .unwrap_or_else(|| "&ndash;".into());
        let _ = write!(
            o,
            "<tr id=\"capability.{}\"><td>{}</td><td>{}</td><td>{}</td><td>{points}</td><td>{finding}</td><td>{}</td></tr>",
            esc(&c.id),
            expandable(&esc(&c.label), &c.evidence),
            mark(c.declared),
            mark(c.observed),
            reached_by(&c.reached_by)
        );
    }
    // Points that are not one capability's (e.g. a tracker count).
    for f in
        r.risk.data_collection.factors.iter().filter(|f| !f.id.starts_with("data_collection.capability."))
    {
        let _ = write!(
            o,
            "<tr><td colspan=\"3\">{}</td><td>+{}</td><td></td><td></td></tr>",
            expandable(&esc(&f.description), &f.evidence),
            f.weight
        );
    }
    o.push_str("</tbody></table></section>\n");
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
    fn the_top_names_the_app_the_reason_and_whether_country_rules_are_on() {
        let mut r = crate::risk::tests_support::report();
        r.app.name = Some("Clips".into());
        r.app.id = Some("com.example.clips".into());
        r.verdict = Some(Verdict {
            decision: Decision::Approve,
            decision_before_exceptions: Decision::Approve,
            policy: "baseline".into(),
            ..Verdict::default()
        });
        let html = render(&r);
        let top = &html[html.find("id=\"verdict\"").unwrap()..html.find("</header>").unwrap()];
        assert!(top.contains("Clips") && top.contains("com.example.clips"), "{top}");
        assert!(top.contains("country rules <b>off</b>"), "{top}");
        let v = r.verdict.as_mut().unwrap();
        v.decision = Decision::Block;
        v.decision_before_exceptions = Decision::Block;
        v.countries = vec!["CN".into(), "RU".into()];
        v.rules.push(crate::report::RuleMatch {
            id: "publisher-country-of-concern".into(),
            decision: Decision::Block,
            description: "the publisher is in a country of concern".into(),
            factors: Vec::new(),
        });
        let html = render(&r);
        assert!(html.contains("<p class=\"why\">The publisher is in a country of concern.</p>"), "{html}");
        assert!(html.contains("country rules <b>on</b>: CN, RU"));
    }

    #[test]
    fn the_party_table_shows_what_each_party_reaches_once_the_report_says() {
        let mut r = crate::risk::tests_support::report();
        r.sdks.push(crate::report::Sdk { id: "umeng".into(), name: "Umeng".into(), ..Default::default() });
        assert!(!render(&r).contains("Data its code reaches"), "no party data: no empty column");
        r.capabilities.push(crate::report::Capability {
            id: "location".into(),
            label: "Location".into(),
            observed: true,
            evidence: vec![Evidence {
                source: "signatures".into(),
                kind: crate::report::EvidenceKind::Sdk,
                value: "Umeng".into(),
            }],
            ..Default::default()
        });
        let html = render(&r);
        let table = &html[html.find("id=\"parties\"").unwrap()..html.find("id=\"capabilities\"").unwrap()];
        assert!(table.contains("Data its code reaches") && table.contains("<td>Location</td>"), "{table}");
    }

    #[test]
    fn sections_are_all_present_and_each_appears_once() {
        let html = render(&crate::risk::tests_support::report());
        for id in ["verdict", "parties", "capabilities", "permissions", "signing", "diagnostics"] {
            assert_eq!(html.matches(&format!("id=\"{id}\"")).count(), 1, "{id}");
        }
    }
}
