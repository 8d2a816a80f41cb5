//! The network security config (`android:networkSecurityConfig`): which
//! domains may use cleartext HTTP, whether user-installed CAs are trusted,
//! and which domains are pinned.

use crate::formats::xml_tree::{AttrValue, XmlElement};
use crate::report::{Diagnostic, NetworkSecurity};

fn flag(e: &XmlElement, name: &str) -> Option<bool> {
    match e.attr(name)? {
        AttrValue::Bool(b) => Some(*b),
        AttrValue::String(s) => s.parse().ok(),
        AttrValue::IntDec(i) => Some(*i != 0),
        _ => None,
    }
}

fn domains_of(e: &XmlElement) -> Vec<String> {
    e.children_named("domain")
        .filter_map(|d| d.text.as_deref())
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

fn trusts_user_cas(config: &XmlElement) -> bool {
    config.children_named("trust-anchors").any(|t| {
        t.children_named("certificates")
            .any(|c| matches!(c.attr("src"), Some(AttrValue::String(s)) if s == "user"))
    })
}

/// Reads a decoded config; findings an analyst must see become diagnostics.
pub fn read(root: &XmlElement, source: &str, diags: &mut Vec<Diagnostic>) -> NetworkSecurity {
    let mut out = NetworkSecurity { source: source.to_string(), ..NetworkSecurity::default() };
    let mut stack: Vec<&XmlElement> = vec![root];
    while let Some(e) = stack.pop() {
        match e.name.as_str() {
            "base-config" => {
                out.cleartext_default = flag(e, "cleartextTrafficPermitted");
                out.trusts_user_certificates |= trusts_user_cas(e);
            }
            "domain-config" => {
                let domains = domains_of(e);
                if flag(e, "cleartextTrafficPermitted") == Some(true) {
                    out.cleartext_domains.extend(domains.iter().cloned());
                }
                if e.children_named("pin-set").next().is_some() {
                    out.pinned_domains.extend(domains.iter().cloned());
                }
                out.trusts_user_certificates |= trusts_user_cas(e);
                out.domains.extend(domains);
                // Nested domain-configs inherit and refine.
                stack.extend(e.children_named("domain-config"));
            }
            // Only apply to debuggable builds.
            "debug-overrides" => {}
            _ => stack.extend(e.children.iter().rev()),
        }
    }
    for list in [&mut out.cleartext_domains, &mut out.pinned_domains, &mut out.domains] {
        list.sort();
        list.dedup();
    }
    if out.cleartext_default == Some(true) {
        diags.push(
            Diagnostic::warning("network.cleartext_permitted", "cleartext HTTP is permitted for all domains")
                .at(source.to_string()),
        );
    } else if !out.cleartext_domains.is_empty() {
        diags.push(
            Diagnostic::info(
                "network.cleartext_domains",
                format!("cleartext HTTP permitted for {}", out.cleartext_domains.join(", ")),
            )
            .at(source.to_string()),
        );
    }
    if out.trusts_user_certificates {
        diags.push(
            Diagnostic::warning(
                "network.user_ca_trusted",
                "user-installed certificate authorities are trusted: traffic can be intercepted",
            )
            .at(source.to_string()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::xml_tree::XmlAttribute;

    fn el(
        name: &str,
        attrs: &[(&str, AttrValue)],
        text: Option<&str>,
        children: Vec<XmlElement>,
    ) -> XmlElement {
        XmlElement {
            name: name.into(),
            attributes: attrs
                .iter()
                .map(|(n, v)| XmlAttribute {
                    name: (*n).into(),
                    namespace: None,
                    resource_id: None,
                    value: v.clone(),
                })
                .collect(),
            children,
            text: text.map(String::from),
            ..XmlElement::default()
        }
    }

    #[test]
    fn reads_cleartext_pins_and_user_cas() {
        let user_ca = el(
            "trust-anchors",
            &[],
            None,
            vec![el("certificates", &[("src", AttrValue::String("user".into()))], None, vec![])],
        );
        let root = el(
            "network-security-config",
            &[],
            None,
            vec![
                el(
                    "base-config",
                    &[("cleartextTrafficPermitted", AttrValue::Bool(false))],
                    None,
                    vec![user_ca],
                ),
                el(
                    "domain-config",
                    &[("cleartextTrafficPermitted", AttrValue::Bool(true))],
                    None,
                    vec![
                        el("domain", &[], Some(" Collect.Example.cn "), vec![]),
                        el("pin-set", &[], None, vec![]),
                    ],
                ),
            ],
        );
        let mut diags = Vec::new();
        let n = read(&root, "res/xml/nsc.xml", &mut diags);
        assert_eq!(n.cleartext_default, Some(false));
        assert_eq!(n.cleartext_domains, ["collect.example.cn"]);
        assert_eq!(n.pinned_domains, ["collect.example.cn"]);
        assert!(n.trusts_user_certificates);
        assert!(diags.iter().any(|d| d.code == "network.user_ca_trusted"));
    }
}
