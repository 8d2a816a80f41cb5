//! The facts under the decision on the HTML page: permissions with their
//! protection level, exported components and manifest flags (Android) or
//! the bundle's settings (iOS), signing and provisioning, embedded apps,
//! every host, and diagnostics. A new report section (protections, say)
//! is one function here and one line in [`facts`].

use std::fmt::Write;

use super::html::{esc, expandable, opt};
use super::{AndroidFacts, IosFacts, Level, Report};

/// Everything below the party and data tables.
pub fn facts(o: &mut String, r: &Report) {
    o.push_str("<div class=\"cols\">");
    permissions(o, r);
    match (&r.app.android, &r.app.ios) {
        (Some(a), _) => android(o, r, a),
        (None, Some(i)) => ios(o, i),
        (None, None) => {}
    }
    o.push_str("</div>\n<div class=\"cols\">");
    protections(o, r);
    signing(o, r);
    embedded(o, r);
    o.push_str("</div>\n");
    hosts(o, r);
    diagnostics(o, r);
}

fn permissions(o: &mut String, r: &Report) {
    let _ = write!(
        o,
        "<section id=\"permissions\"><h2>Permissions <small>{} requested</small></h2>",
        r.permissions.len()
    );
    if r.permissions.is_empty() {
        o.push_str("<p class=\"no\">None requested.</p></section>");
        return;
    }
    o.push_str("<table><thead><tr><th>Permission</th><th>Protection</th><th>Source</th></tr></thead><tbody>");
    // Dangerous and signature permissions first: they are what a reviewer weighs.
    let rank = |p: &Option<String>| match p.as_deref().unwrap_or("").split('|').next().unwrap_or("") {
        "dangerous" => 0,
        "signature" | "signatureOrSystem" => 1,
        "normal" => 3,
        _ => 2,
    };
    let mut sorted: Vec<_> = r.permissions.iter().collect();
    sorted.sort_by_key(|p| rank(&p.protection));
    for p in sorted {
        let class = if rank(&p.protection) == 0 { " class=\"warn\"" } else { "" };
        let _ = write!(
            o,
            "<tr><td class=\"mono\">{}</td><td{class}>{}</td><td class=\"small\">{}</td></tr>",
            esc(&p.name),
            opt(&p.protection),
            esc(&p.source)
        );
    }
    o.push_str("</tbody></table></section>");
}

fn flag(name: &str, value: Option<bool>, risky_when: bool) -> String {
    match value {
        Some(v) if v == risky_when => format!("<tr><th>{name}</th><td class=\"warn\">{v}</td></tr>"),
        Some(v) => format!("<tr><th>{name}</th><td>{v}</td></tr>"),
        None => format!("<tr><th>{name}</th><td class=\"no\">not set</td></tr>"),
    }
}

fn android(o: &mut String, r: &Report, a: &AndroidFacts) {
    let exported: Vec<_> = a.components.iter().filter(|c| c.exported).collect();
    let _ = write!(
        o,
        "<section id=\"components\"><h2>Exported components and manifest flags <small>{} of {} components exported</small></h2>",
        exported.len(),
        a.components.len()
    );
    o.push_str("<table>");
    let sdk = |s: &Option<super::SdkLevel>| match s {
        Some(super::SdkLevel::Api(v)) => v.to_string(),
        Some(super::SdkLevel::Codename(c)) => esc(c),
        None => "&ndash;".into(),
    };
    let _ = write!(
        o,
        "<tr><th>SDK levels</th><td>min {} &middot; target {}</td></tr>",
        sdk(&r.app.min_sdk),
        sdk(&r.app.target_sdk)
    );
    o.push_str(&flag("debuggable", a.debuggable, true));
    o.push_str(&flag("allowBackup", a.allow_backup, true));
    o.push_str(&flag("usesCleartextTraffic", a.uses_cleartext_traffic, true));
    o.push_str(&flag("testOnly", a.test_only, true));
    if let Some(shared) = &a.shared_user_id {
        let _ = write!(o, "<tr><th>sharedUserId</th><td class=\"mono\">{}</td></tr>", esc(shared));
    }
    if let Some(n) = &a.network_security {
        let _ = write!(
            o,
            "<tr><th>network security</th><td>cleartext by default: {} &middot; trusts user CAs: {} &middot; pinned: {}</td></tr>",
            n.cleartext_default.map(|b| b.to_string()).unwrap_or_else(|| "&ndash;".into()),
            if n.trusts_user_certificates { "<span class=\"warn\">yes</span>" } else { "no" },
            esc(&n.pinned_domains.join(", "))
        );
    }
    o.push_str("</table>");
    if !exported.is_empty() {
        o.push_str("<table><thead><tr><th>Kind</th><th>Component</th><th>Guarded by</th><th>Intent actions</th></tr></thead><tbody>");
        for c in exported {
            let actions: Vec<String> =
                c.intent_filters.iter().flat_map(|f| f.actions.iter()).map(|a| esc(a)).collect();
            let guard = match &c.permission {
                Some(p) => format!("<code>{}</code>", esc(p)),
                None => "<span class=\"warn\">nothing</span>".into(),
            };
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td>{guard}</td><td class=\"mono\">{}</td></tr>",
                esc(c.kind.as_str()),
                esc(&c.name),
                actions.join("<br>")
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>");
}

fn ios(o: &mut String, i: &IosFacts) {
    o.push_str("<section id=\"components\"><h2>Bundle settings <small>Info.plist, entitlements, extensions</small></h2><table>");
    let _ = write!(
        o,
        "<tr><th>Bundle</th><td class=\"mono\">{} &middot; {}</td></tr>",
        esc(&i.bundle),
        opt(&i.executable)
    );
    if let Some(ats) = &i.app_transport_security {
        o.push_str(&flag("ATS arbitrary loads", ats.allows_arbitrary_loads, true));
        if !ats.exception_domains.is_empty() {
            let d: Vec<String> = ats.exception_domains.iter().map(|e| esc(&e.domain)).collect();
            let _ = write!(o, "<tr><th>ATS exceptions</th><td class=\"mono\">{}</td></tr>", d.join(", "));
        }
    }
    let list = |o: &mut String, name: &str, v: &[String]| {
        if !v.is_empty() {
            let items: Vec<String> = v.iter().map(|s| esc(s)).collect();
            let _ = write!(o, "<tr><th>{name}</th><td class=\"mono\">{}</td></tr>", items.join(", "));
        }
    };
    list(o, "background modes", &i.background_modes);
    list(o, "URL schemes", &i.url_schemes);
    list(o, "queried schemes", &i.queried_schemes);
    list(o, "frameworks", &i.frameworks);
    if let Some(ent) = &i.entitlements {
        let keys: Vec<String> = ent.keys().cloned().collect();
        list(o, "entitlements", &keys);
    }
    for x in &i.extensions {
        let _ = write!(
            o,
            "<tr><th>extension</th><td class=\"mono\">{} &middot; {}</td></tr>",
            opt(&x.extension_point),
            opt(&x.bundle_id)
        );
    }
    o.push_str("</table></section>");
}

/// Packers, protectors, obfuscators: a packer means the code was not all seen.
fn protections(o: &mut String, r: &Report) {
    if r.protections.is_empty() {
        return;
    }
    o.push_str(
        "<section id=\"protections\"><h2>Packers, protectors and obfuscators</h2>\
<table><thead><tr><th>Kind</th><th>Name</th></tr></thead><tbody>",
    );
    for p in &r.protections {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(p.kind.as_str()),
            expandable(&format!("<b>{}</b>", esc(&p.name)), &p.evidence)
        );
    }
    o.push_str("</tbody></table></section>");
}

fn signing(o: &mut String, r: &Report) {
    let verified = match (r.signing.verified, &r.signing.not_verifiable) {
        (Some(true), _) => "<span class=\"yes\">verifies</span>".to_string(),
        (Some(false), _) => "<span class=\"warn\">does not verify</span>".to_string(),
        (None, Some(why)) => format!("not verifiable ({})", esc(why)),
        (None, None) => "not checked".to_string(),
    };
    let schemes: Vec<String> = r
        .signing
        .schemes
        .iter()
        .map(|s| {
            if s.verified {
                esc(&s.scheme)
            } else {
                format!("{} <span class=\"warn\">({})</span>", esc(&s.scheme), esc(&s.errors.join("; ")))
            }
        })
        .collect();
    let _ = write!(
        o,
        "<section id=\"signing\"><h2>Signing and provisioning</h2><p>{verified}; schemes: {}</p>",
        schemes.join(", ")
    );
    if !r.signing.certificates.is_empty() {
        o.push_str(
            "<table><thead><tr><th>Subject</th><th>Valid until</th><th>SHA-256</th></tr></thead><tbody>",
        );
        for c in &r.signing.certificates {
            let debug = if c.debug { " <span class=\"warn\">debug certificate</span>" } else { "" };
            let _ = write!(
                o,
                "<tr><td>{}{debug}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                esc(&c.subject),
                opt(&c.not_after),
                esc(&c.sha256)
            );
        }
        o.push_str("</tbody></table>");
    }
    if let Some(p) = r.app.ios.as_ref().and_then(|i| i.provisioning.as_ref()) {
        let _ = write!(
            o,
            "<p>Provisioning: <b>{}</b> &middot; team {} &middot; expires {} &middot; {} devices{}</p>",
            esc(p.distribution.as_str()),
            opt(&p.team_name),
            opt(&p.expiration_date),
            p.provisioned_devices,
            if p.provisions_all_devices { " &middot; <span class=\"warn\">all devices</span>" } else { "" }
        );
    }
    o.push_str("</section>");
}

fn embedded(o: &mut String, r: &Report) {
    let _ = write!(o, "<section id=\"embedded\"><h2>Embedded apps <small>{}</small></h2>", r.embedded.len());
    if r.embedded.is_empty() {
        o.push_str("<p class=\"no\">None.</p></section>");
        return;
    }
    o.push_str("<table><thead><tr><th>Entry</th><th>Package</th><th>Permissions</th></tr></thead><tbody>");
    for e in &r.embedded {
        let perms = if e.permissions.is_empty() {
            "&ndash;".to_string()
        } else {
            let items: String =
                e.permissions.iter().map(|p| format!("<li><code>{}</code></li>", esc(p))).collect();
            format!(
                "<details><summary>{}</summary><ul class=\"ev\">{items}</ul></details>",
                e.permissions.len()
            )
        };
        let _ = write!(
            o,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{} {}</td><td>{perms}</td></tr>",
            esc(&e.entry),
            opt(&e.package),
            opt(&e.version)
        );
    }
    o.push_str("</tbody></table></section>");
}

fn hosts(o: &mut String, r: &Report) {
    const SHOWN: usize = 200;
    let _ = write!(
        o,
        "<section id=\"hosts\"><h2>Hosts <small>{} found in code, resources and manifest</small></h2>",
        r.hosts.len()
    );
    if r.hosts.is_empty() {
        o.push_str("</section>\n");
        return;
    }
    o.push_str("<details><summary>every host, with its owner and where it was seen</summary><table><thead><tr><th>Host</th><th>Owner</th><th>Country</th><th>Seen in</th></tr></thead><tbody>");
    for h in r.hosts.iter().take(SHOWN) {
        let _ = write!(
            o,
            "<tr><td class=\"mono\">{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&h.host),
            // Seen only as a bare word in code: its shape is all that makes it a host.
            if h.weak { " <small>(bare word in code only)</small>" } else { "" },
            opt(&h.owner),
            opt(&h.country),
            expandable(&format!("{} places", h.evidence_total), &h.evidence)
        );
    }
    o.push_str("</tbody></table>");
    if r.hosts.len() > SHOWN {
        let _ = write!(o, "<p>&hellip; {} more in the JSON report</p>", r.hosts.len() - SHOWN);
    }
    o.push_str("</details></section>\n");
}

fn diagnostics(o: &mut String, r: &Report) {
    let errors = r.diagnostics.iter().filter(|d| d.level == Level::Error).count();
    let _ = write!(
        o,
        "<section id=\"diagnostics\"><h2>Diagnostics <small>{} ({errors} errors): anomalies met while reading</small></h2>",
        r.diagnostics.len()
    );
    if !r.diagnostics.is_empty() {
        o.push_str("<table><thead><tr><th>Level</th><th>Code</th><th>Message</th><th>Location</th></tr></thead><tbody>");
        for d in &r.diagnostics {
            let level = match d.level {
                Level::Info => "info",
                Level::Warning => "warning",
                Level::Error => "<span class=\"warn\">error</span>",
            };
            let _ = write!(
                o,
                "<tr><td>{level}</td><td><code>{}</code></td><td>{}</td><td class=\"mono\">{}</td></tr>",
                esc(&d.code),
                esc(&d.message),
                opt(&d.location)
            );
        }
        o.push_str("</tbody></table>");
    }
    o.push_str("</section>\n");
}
