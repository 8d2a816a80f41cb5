//! SDK signals that survive renaming and packing: the manifest must name an
//! SDK's activities, services, receivers and providers by their real class
//! names (the platform instantiates them), its intent actions and provider
//! authorities keep the SDK's package, callback activities sit at fixed
//! names under the app's package (`.wxapi.WXEntryActivity`), and a native
//! library's JNI exports spell the Java class they serve
//! (`Java_com_umeng_...`). All are read from the stored report and
//! evidence, so `rescore` finds them too.

use crate::database::sdks::{ClassHit, ClassMatcher, SdkMatcher};
use crate::evidence::{AppEvidence, UnitKind};
use crate::report::{EvidenceKind, Report};

use super::Collector;

const MANIFEST: &str = "AndroidManifest.xml";

/// `com.tencent.tauth.AuthActivity` -> `com/tencent/tauth/AuthActivity`.
fn slashed(dotted: &str) -> String {
    dotted.replace('.', "/")
}

/// `Java_com_umeng_commonsdk_UMConfigure_init__Ljava_lang_String_2` ->
/// `com/umeng/commonsdk/UMConfigure`: the class a JNI export implements a
/// native method of (JNI spec, "Resolving Native Method Names": `_1` is
/// `_`, `_0xxxx` a UTF-16 unit, `__` starts the argument signature).
pub fn jni_class(symbol: &str) -> Option<String> {
    let mangled = symbol.strip_prefix("Java_")?;
    let mangled = mangled.split("__").next().unwrap_or(mangled);
    let mut out = String::with_capacity(mangled.len());
    let mut chars = mangled.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('1') => {
                chars.next();
                out.push('_');
            }
            Some('0') => {
                chars.next();
                let hex: String = chars.by_ref().take(4).collect();
                out.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)?);
            }
            // `_2` (`;`) and `_3` (`[`) appear only in signatures, cut above.
            Some('2' | '3') => return None,
            _ => out.push('/'),
        }
    }
    // The last part is the method.
    let (class, _method) = out.rsplit_once('/')?;
    (!class.is_empty()).then(|| class.to_string())
}

fn add_class_hits(
    found: &mut Collector,
    classes: &mut ClassMatcher,
    hits: &mut Vec<ClassHit>,
    name: &str,
    source: &str,
    kind: EvidenceKind,
    label: &str,
) {
    hits.clear();
    classes.match_class(&slashed(name), hits);
    for h in hits.iter() {
        found.add(h.sdk, source, kind, format!("{label} ({})", h.rule));
    }
}

/// Adds the SDKs the manifest's components, authorities, intent actions and
/// queries, and the native libraries' JNI exports name.
pub(super) fn match_signals(
    m: &SdkMatcher,
    classes: &mut ClassMatcher,
    report: &Report,
    evidence: &AppEvidence,
    found: &mut Collector,
) {
    let mut hits = Vec::new();
    if let Some(facts) = report.app.android.as_ref() {
        for c in &facts.components {
            let label = format!("{} {}", c.kind, c.name);
            add_class_hits(found, classes, &mut hits, &c.name, MANIFEST, EvidenceKind::Component, &label);
            if let Some((i, suffix)) = m.match_component_suffix(&c.name) {
                found.add(i, MANIFEST, EvidenceKind::Component, format!("{label} ({suffix})"));
            }
            for a in &c.authorities {
                let label = format!("provider authority {a}");
                add_class_hits(found, classes, &mut hits, a, MANIFEST, EvidenceKind::Component, &label);
            }
            for action in c.intent_filters.iter().flat_map(|f| &f.actions) {
                // Platform actions (`android.intent.action.MAIN`) name no SDK.
                if action.starts_with("android.") {
                    continue;
                }
                let label = format!("intent action {action}");
                add_class_hits(
                    found,
                    classes,
                    &mut hits,
                    action,
                    MANIFEST,
                    EvidenceKind::IntentAction,
                    &label,
                );
            }
        }
        for p in facts.queries.packages.iter().chain(&facts.queries.providers) {
            let label = format!("queries {p}");
            add_class_hits(found, classes, &mut hits, p, MANIFEST, EvidenceKind::Query, &label);
        }
    }
    for unit in evidence.units.iter().filter(|u| u.kind == UnitKind::Native) {
        // One JNI class names its SDK once, however many methods it exports.
        let mut last = String::new();
        for symbol in &unit.exports {
            let Some(class) = jni_class(symbol) else { continue };
            if class == last {
                continue;
            }
            hits.clear();
            classes.match_class(&class, &mut hits);
            for h in &hits {
                found.add(h.sdk, &unit.source, EvidenceKind::JniExport, format!("{symbol} ({})", h.rule));
            }
            last = class;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jni_names_decode_to_their_class() {
        assert_eq!(
            jni_class("Java_com_umeng_commonsdk_UMConfigure_init").as_deref(),
            Some("com/umeng/commonsdk/UMConfigure")
        );
        assert_eq!(
            jni_class("Java_com_a_1b_C_run__Ljava_lang_String_2").as_deref(),
            Some("com/a_b/C"),
            "`_1` is an underscore, `__` starts the signature"
        );
        assert_eq!(jni_class("Java_com_x_000e9_M_f").as_deref(), Some("com/xé/M"));
        assert_eq!(jni_class("Java_f"), None);
        assert_eq!(jni_class("JNI_OnLoad"), None);
        assert_eq!(jni_class("Java_a_0zz"), None);
    }
}
