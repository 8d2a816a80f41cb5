//! Building blocks shared by the demo apps: manifest fragments, the network
//! security config, and signers.

use crate::apk_sign_v2::Signer;
use crate::axml::{self, Element, Value};
use crate::keys::DemoKey;
use crate::x509::{self, DistinguishedName};

/// `<manifest package=.. android:versionCode=.. android:versionName=..>`.
pub fn manifest(package: &str, version_code: i32, version_name: &str) -> Element {
    Element::new("manifest")
        .android("versionCode", Value::Int(version_code))
        .android_str("versionName", version_name)
        .plain("package", Value::Str(package.to_string()))
}

pub fn uses_sdk(min: i32, target: i32) -> Element {
    Element::new("uses-sdk")
        .android("minSdkVersion", Value::Int(min))
        .android("targetSdkVersion", Value::Int(target))
}

pub fn uses_permission(name: &str) -> Element {
    Element::new("uses-permission").android_str("name", name)
}

pub fn intent_filter(actions: &[&str], categories: &[&str]) -> Element {
    Element::new("intent-filter")
        .children(actions.iter().map(|a| Element::new("action").android_str("name", a)))
        .children(categories.iter().map(|c| Element::new("category").android_str("name", c)))
}

/// An exported activity with the MAIN/LAUNCHER intent filter.
pub fn launcher_activity(name: &str) -> Element {
    Element::new("activity")
        .android_str("name", name)
        .android("exported", Value::Bool(true))
        .child(intent_filter(&["android.intent.action.MAIN"], &["android.intent.category.LAUNCHER"]))
}

/// res/xml/network_security_config.xml as binary XML.
pub fn network_security_config(cleartext: bool, trust_user_certificates: bool) -> Vec<u8> {
    let mut anchors = Element::new("trust-anchors")
        .child(Element::new("certificates").plain("src", Value::Str("system".into())));
    if trust_user_certificates {
        anchors = anchors.child(Element::new("certificates").plain("src", Value::Str("user".into())));
    }
    let config = Element::new("network-security-config").child(
        Element::new("base-config").plain("cleartextTrafficPermitted", Value::Bool(cleartext)).child(anchors),
    );
    axml::encode(&config, axml::Options::default())
}

/// A signer using a committed demo key and a self-signed certificate.
pub fn signer(key: DemoKey, dn: &DistinguishedName, serial: u64) -> Signer {
    let key = key.private_key();
    let certificate = x509::self_signed_certificate(&key, dn, serial);
    Signer { key, certificate }
}
