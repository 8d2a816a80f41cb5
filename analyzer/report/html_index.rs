//! The static HTML index of a run (`appvet report --db DB -o DIR`): one
//! table of every stored app, linking to each app's page. Sorting needs no
//! script (the pages keep the same strict Content-Security-Policy as an app
//! page): the index is written once per sort key, and each column heading
//! links to the copy sorted by it.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{esc, CSP, STYLE};
use super::{party_table, Decision, Report};

/// One app as the index lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    pub name: String,
    pub id: Option<String>,
    /// The input path the app was scanned from.
    pub path: String,
    pub version: Option<String>,
    pub decision: Option<Decision>,
    pub spy_sensitive: bool,
    /// Controlling countries of the parties, most jurisdiction points first.
    pub countries: Vec<String>,
    pub sdks: usize,
    /// The app's page, relative to the index.
    pub href: String,
}

impl IndexRow {
    pub fn of(r: &Report, href: String) -> IndexRow {
        let mut points: BTreeMap<String, u32> = BTreeMap::new();
        for p in party_table::parties(r) {
            if let Some(c) = p.controlling_country() {
                *points.entry(c.to_string()).or_default() += p.points + 1;
            }
        }
        let mut countries: Vec<(String, u32)> = points.into_iter().collect();
        countries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        IndexRow {
            name: r.app.name.clone().or_else(|| r.app.id.clone()).unwrap_or_else(|| r.input.path.clone()),
            id: r.app.id.clone(),
            path: r.input.path.clone(),
            version: r.app.version.clone(),
            decision: r.verdict.as_ref().map(|v| v.decision),
            spy_sensitive: r.verdict.as_ref().is_some_and(|v| v.spy_sensitive),
            countries: countries.into_iter().map(|(c, _)| c).collect(),
            sdks: r.sdks.len(),
            href,
        }
    }
}

/// The sort keys: file name, column heading, and the order.
pub const SORTS: [(&str, &str); 6] = [
    ("index.html", "Verdict"),
    ("by-app.html", "App"),
    ("by-version.html", "Version"),
    ("by-spy.html", "Spy-sensitive"),
    ("by-countries.html", "Top countries"),
    ("by-sdks.html", "SDKs"),
];

/// Every page of the index: (file name, HTML), one per entry of [`SORTS`].
pub fn render(rows: &[IndexRow], title: &str) -> Vec<(&'static str, String)> {
    SORTS.iter().enumerate().map(|(i, (file, _))| (*file, render_sorted(rows, title, i))).collect()
}

fn strictness(d: Option<Decision>) -> u8 {
    match d {
        Some(Decision::Block) => 0,
        Some(Decision::Review) => 1,
        Some(Decision::Approve) => 2,
        None => 3,
    }
}

fn render_sorted(rows: &[IndexRow], title: &str, key: usize) -> String {
    let mut sorted: Vec<&IndexRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        let by_name = a.name.to_lowercase().cmp(&b.name.to_lowercase());
        match key {
            0 => strictness(a.decision)
                .cmp(&strictness(b.decision))
                .then(b.spy_sensitive.cmp(&a.spy_sensitive)),
            2 => a.version.cmp(&b.version),
            3 => b.spy_sensitive.cmp(&a.spy_sensitive),
            4 => a.countries.first().cmp(&b.countries.first()),
            5 => b.sdks.cmp(&a.sdks),
            _ => std::cmp::Ordering::Equal,
        }
        .then(by_name)
    });
    let count = |d: Decision| rows.iter().filter(|r| r.decision == Some(d)).count();
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>appvet: {}</title><style>{STYLE}</style></head><body>\n<main>\
<header class=\"top neutral\"><h1>{}</h1><p class=\"why\">{} apps: <b>{} blocked</b>, {} sent to review, {} approved</p></header>\n",
        esc(title),
        esc(title),
        rows.len(),
        count(Decision::Block),
        count(Decision::Review),
        count(Decision::Approve)
    );
    o.push_str("<section id=\"apps\"><table class=\"index\"><thead><tr>");
    for (i, (file, heading)) in SORTS.iter().enumerate() {
        if i == key {
            let _ = write!(o, "<th aria-sort=\"descending\">{heading} &#9662;</th>");
        } else {
            let _ = write!(o, "<th><a href=\"{file}\">{heading}</a></th>");
        }
    }
    o.push_str("</tr></thead><tbody>\n");
    for r in sorted {
        let decision = r.decision.map(|d| d.as_str()).unwrap_or("none");
        let _ = write!(
            o,
            "<tr class=\"row-{decision}\"><td><span class=\"pill {decision}\">{}</span></td>\
<td><a href=\"{}\">{}</a><br><code>{}</code> <span class=\"small\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(decision),
            esc(&r.href),
            esc(&r.name),
            esc(r.id.as_deref().unwrap_or("")),
            esc(&r.path),
            esc(r.version.as_deref().unwrap_or("")),
            if r.spy_sensitive { "<b class=\"warn\">yes</b>" } else { "no" },
            esc(&r.countries.iter().take(4).cloned().collect::<Vec<_>>().join(", ")),
            r.sdks
        );
        o.push('\n');
    }
    o.push_str("</tbody></table></section></main></body></html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, decision: Decision, sdks: usize) -> IndexRow {
        IndexRow {
            name: name.into(),
            id: None,
            path: format!("{name}.apk"),
            version: None,
            decision: Some(decision),
            spy_sensitive: false,
            countries: Vec::new(),
            sdks,
            href: format!("apps/{name}.html"),
        }
    }

    #[test]
    fn each_sort_key_has_a_page_and_blocked_apps_come_first() {
        let rows = [
            row("b-ok", Decision::Approve, 1),
            row("a-bad", Decision::Block, 0),
            row("c", Decision::Review, 9),
        ];
        let pages = render(&rows, "run <1>");
        assert_eq!(pages.len(), SORTS.len());
        let index = &pages[0].1;
        let pos = |s: &str| index.find(s).unwrap();
        assert!(pos("a-bad.html") < pos("c.html") && pos("c.html") < pos("b-ok.html"));
        assert!(index.contains("<b>1 blocked</b>") && index.contains("run &lt;1&gt;"));
        assert!(index.contains("<a href=\"by-sdks.html\">SDKs</a>"));
        let by_sdks = &pages[5].1;
        assert!(by_sdks.find("c.html").unwrap() < by_sdks.find("b-ok.html").unwrap());
        assert!(!index.contains("<script"));
    }
}
