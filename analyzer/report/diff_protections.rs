//! The hardening an older version had and a newer one lost, for `diff`'s
//! red flags: each check reads only facts the report holds (manifest flags,
//! the network security config, App Transport Security, signing schemes,
//! exported components, entitlements, `protections[]`) and says in plain
//! words what was lost. A fact the old report does not state (an older
//! report, an unreadable manifest) proves nothing was lost, so it raises no
//! flag.

use std::collections::BTreeSet;

use super::app::{AndroidFacts, AppTransportSecurity, Component};
use super::{ProtectionKind, Report};

/// Android's default for `usesCleartextTraffic` changed at API 28: apps
/// targeting 28 or later are denied cleartext unless they opt in.
const CLEARTEXT_DENIED_FROM_API: u32 = 28;
/// From API 24, apps trust user-installed CAs only when a network security
/// config says so.
const USER_CAS_DISTRUSTED_FROM_API: u32 = 24;

/// One red flag per protection `old` had and `new` lost.
pub fn lost_protections(old: &Report, new: &Report) -> Vec<String> {
    let mut flags = Vec::new();
    if let (Some(o), Some(n)) = (old.app.android.as_ref(), new.app.android.as_ref()) {
        android(old, o, new, n, &mut flags);
    }
    let ats = |r: &Report| r.app.ios.as_ref().map(|i| i.app_transport_security.clone().unwrap_or_default());
    if let (Some(o), Some(n)) = (ats(old), ats(new)) {
        transport_security(&o, &n, &mut flags);
    }
    if get_task_allow(new)
        && old.app.ios.as_ref().is_some_and(|i| i.entitlements.is_some())
        && !get_task_allow(old)
    {
        flags.push("debugging newly allowed: the get-task-allow entitlement is granted".to_string());
    }
    signing_schemes(old, new, &mut flags);
    hardening(old, new, &mut flags);
    flags
}

fn android(
    old_report: &Report,
    old: &AndroidFacts,
    new_report: &Report,
    new: &AndroidFacts,
    flags: &mut Vec<String>,
) {
    if new.debuggable == Some(true) && old.debuggable != Some(true) {
        flags.push("debuggable newly turned on (android:debuggable=\"true\")".to_string());
    }
    // `allowBackup` is true when not written: only an explicit false protected.
    if old.allow_backup == Some(false) && new.allow_backup != Some(false) {
        flags.push(
            "backup newly allowed: the app's data can be copied off the device (android:allowBackup)".into(),
        );
    }
    if let (Some((false, _)), Some((true, why))) = (cleartext(old_report, old), cleartext(new_report, new)) {
        flags.push(format!("cleartext (HTTP) traffic newly permitted: {why}"));
    }
    let old_nsc = old.network_security.clone().unwrap_or_default();
    let new_nsc = new.network_security.clone().unwrap_or_default();
    let cleartext_everywhere = matches!(cleartext(old_report, old), Some((true, _)));
    let new_cleartext = added(&old_nsc.cleartext_domains, &new_nsc.cleartext_domains);
    if !cleartext_everywhere && !new_cleartext.is_empty() {
        flags.push(format!("cleartext (HTTP) newly permitted for: {}", new_cleartext.join(", ")));
    }
    // Without a config, apps targeting API 24 or later trust only system CAs.
    let old_trusted_user_cas = old_nsc.trusts_user_certificates
        || (old.network_security.is_none()
            && old_report
                .app
                .target_sdk
                .as_ref()
                .is_none_or(|t| t.api_or_preview() < USER_CAS_DISTRUSTED_FROM_API));
    if new_nsc.trusts_user_certificates && !old_trusted_user_cas {
        flags.push(
            "user-installed CA certificates newly trusted (network security config): traffic can be intercepted"
                .into(),
        );
    }
    let unpinned = added(&new_nsc.pinned_domains, &old_nsc.pinned_domains);
    if !unpinned.is_empty() {
        flags.push(format!("certificate pinning removed for: {}", unpinned.join(", ")));
    }
    let opened: Vec<String> = new
        .components
        .iter()
        .filter(|c| open(c))
        .filter(|c| old.components.iter().any(|o| o.kind == c.kind && o.name == c.name && !open(o)))
        .map(|c| format!("{} {}", c.kind.as_str(), c.name))
        .collect();
    if !opened.is_empty() {
        flags.push(format!("newly exported without a permission: {}", opened.join(", ")));
    }
}

/// Exported and guarded by no permission: any app on the device can reach it.
fn open(c: &Component) -> bool {
    c.exported && c.permission.is_none()
}

/// Whether the app may send cleartext HTTP by default, and why; None when
/// the report does not say (no target SDK and no explicit setting).
fn cleartext(r: &Report, a: &AndroidFacts) -> Option<(bool, String)> {
    // The network security config's base-config overrides the manifest attribute.
    if let Some(allowed) = a.network_security.as_ref().and_then(|n| n.cleartext_default) {
        return Some((allowed, "the network security config's base-config permits it".into()));
    }
    if let Some(allowed) = a.uses_cleartext_traffic {
        return Some((allowed, "android:usesCleartextTraffic=\"true\"".into()));
    }
    let target = r.app.target_sdk.as_ref()?.api_or_preview();
    Some((
        target < CLEARTEXT_DENIED_FROM_API,
        format!("targets API {target}, below {CLEARTEXT_DENIED_FROM_API}, where cleartext is the default"),
    ))
}

fn added(old: &[String], new: &[String]) -> Vec<String> {
    let old: BTreeSet<&String> = old.iter().collect();
    new.iter().filter(|d| !old.contains(d)).cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

fn transport_security(old: &AppTransportSecurity, new: &AppTransportSecurity, flags: &mut Vec<String>) {
    if new.allows_arbitrary_loads == Some(true) && old.allows_arbitrary_loads != Some(true) {
        flags.push("App Transport Security newly disabled (NSAllowsArbitraryLoads)".into());
    }
    if new.allows_arbitrary_loads_in_web_content == Some(true)
        && old.allows_arbitrary_loads_in_web_content != Some(true)
        && old.allows_arbitrary_loads != Some(true)
    {
        flags.push(
            "App Transport Security newly disabled for web content (NSAllowsArbitraryLoadsInWebContent)"
                .into(),
        );
    }
    let insecure = |a: &AppTransportSecurity| -> Vec<String> {
        a.exception_domains.iter().filter(|e| e.allows_insecure_http).map(|e| e.domain.clone()).collect()
    };
    let new_insecure = added(&insecure(old), &insecure(new));
    if !new_insecure.is_empty() && old.allows_arbitrary_loads != Some(true) {
        flags.push(format!(
            "App Transport Security newly allows HTTP for: {} (NSExceptionAllowsInsecureHTTPLoads)",
            new_insecure.join(", ")
        ));
    }
    for e in &new.exception_domains {
        let Some(before) = old.exception_domains.iter().find(|o| o.domain == e.domain) else { continue };
        if let (Some(was), Some(now)) = (tls_rank(before), tls_rank(e)) {
            if now < was {
                flags.push(format!(
                    "App Transport Security newly accepts an older TLS for {}: {} -> {}",
                    e.domain,
                    before.minimum_tls_version.as_deref().unwrap_or("default"),
                    e.minimum_tls_version.as_deref().unwrap_or("default")
                ));
            }
        }
    }
}

/// NSExceptionMinimumTLSVersion as a comparable number; not written means
/// Apple's default, TLS 1.2.
fn tls_rank(e: &super::app::AtsException) -> Option<u8> {
    match e.minimum_tls_version.as_deref() {
        None => Some(12),
        Some(v) => match v.trim().to_ascii_lowercase().trim_start_matches("tlsv") {
            "1.0" => Some(10),
            "1.1" => Some(11),
            "1.2" => Some(12),
            "1.3" => Some(13),
            _ => None,
        },
    }
}

fn get_task_allow(r: &Report) -> bool {
    r.app
        .ios
        .as_ref()
        .and_then(|i| i.entitlements.as_ref())
        .and_then(|e| e.get("get-task-allow"))
        .is_some_and(|v| v.as_bool() == Some(true))
}

/// APK Signature Scheme v2 and later sign the whole archive; v1 (JAR)
/// signing alone leaves the ZIP's structure unsigned (Janus, CVE-2017-13156).
fn signing_schemes(old: &Report, new: &Report, flags: &mut Vec<String>) {
    let whole_file = |r: &Report| -> Vec<String> {
        r.signing
            .schemes
            .iter()
            .filter(|s| s.verified && s.scheme.starts_with('v') && s.scheme != "v1")
            .map(|s| s.scheme.clone())
            .collect()
    };
    let had = whole_file(old);
    if had.is_empty() || !whole_file(new).is_empty() || new.app.android.is_none() {
        return;
    }
    let now =
        new.signing.schemes.iter().filter(|s| s.verified).map(|s| s.scheme.as_str()).collect::<Vec<_>>();
    flags.push(format!(
        "whole-file signing dropped: the old version verified with {}, the new one with {}",
        had.join(", "),
        if now.is_empty() { "none".to_string() } else { format!("{} only", now.join(", ")) }
    ));
}

/// Anti-analysis checks and code protectors are the app's defence against
/// tampering and instrumentation; one that disappears is a changed build.
fn hardening(old: &Report, new: &Report, flags: &mut Vec<String>) {
    let kept = |r: &Report| -> BTreeSet<(String, String)> {
        r.protections
            .iter()
            .filter(|p| matches!(p.kind, ProtectionKind::AntiAnalysis | ProtectionKind::Protector))
            .map(|p| (p.name.clone(), p.kind.as_str().replace('_', "-")))
            .collect()
    };
    let now = kept(new);
    let gone: Vec<String> = kept(old)
        .into_iter()
        .filter(|k| !now.contains(k))
        .map(|(name, kind)| format!("{name} ({kind})"))
        .collect();
    if !gone.is_empty() {
        flags.push(format!("protection gone: {}", gone.join(", ")));
    }
}

#[cfg(test)]
#[path = "diff_protections_tests.rs"]
mod tests;
