//! demo-tracker.ipa: an iOS app that asks for location, contacts, camera
//! and tracking, embeds a tracking framework (TrackKit) with its privacy
//! manifest, ships a custom keyboard extension, turns App Transport
//! Security off, and is signed by a developer certificate naming a Chinese
//! company. Plus two malformed Mach-O files.

use plist::{Dictionary, Value};

use crate::keys::DemoKey;
use crate::macho::{self, MachoSpec, Signature};
use crate::x509::{self, DistinguishedName};
use crate::zip::{Compression, ZipWriter};

pub const BUNDLE_ID: &str = "com.example.demotracker";
pub const TEAM_ID: &str = "ABCDE12345";
pub const DEVELOPER_SUBJECT: DistinguishedName = DistinguishedName {
    country: "CN",
    organization: "Example Demo Tracker Co., Ltd.",
    common_name: "Apple Distribution: Example Demo Tracker Co., Ltd. (ABCDE12345)",
};
const ROOT: &str = "Payload/DemoTracker.app/";

fn dict(pairs: Vec<(&str, Value)>) -> Value {
    let mut d = Dictionary::new();
    for (k, v) in pairs {
        d.insert(k.to_string(), v);
    }
    Value::Dictionary(d)
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|i| s(i)).collect())
}

fn binary_plist(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    plist::to_writer_binary(&mut out, value).expect("writing a plist to memory cannot fail");
    out
}

fn xml_plist(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    plist::to_writer_xml(&mut out, value).expect("writing a plist to memory cannot fail");
    out
}

fn info_plist() -> Value {
    dict(vec![
        ("CFBundleIdentifier", s(BUNDLE_ID)),
        ("CFBundleExecutable", s("DemoTracker")),
        ("CFBundleName", s("DemoTracker")),
        ("CFBundleDisplayName", s("Demo Tracker")),
        ("CFBundleShortVersionString", s("2.1.0")),
        ("CFBundleVersion", s("210")),
        ("CFBundleSupportedPlatforms", strings(&["iPhoneOS"])),
        ("MinimumOSVersion", s("15.0")),
        ("UIDeviceFamily", Value::Array(vec![Value::Integer(1.into())])),
        ("NSLocationAlwaysAndWhenInUseUsageDescription", s("We use your location to show nearby offers.")),
        ("NSContactsUsageDescription", s("Find friends who also use Demo Tracker.")),
        ("NSCameraUsageDescription", s("Scan QR codes.")),
        ("NSUserTrackingUsageDescription", s("Allow tracking to get personalised ads.")),
        ("UIBackgroundModes", strings(&["location", "fetch"])),
        ("LSApplicationQueriesSchemes", strings(&["weixin", "alipay", "fb"])),
        (
            "CFBundleURLTypes",
            Value::Array(vec![dict(vec![("CFBundleURLSchemes", strings(&["demotracker", "fb123456789"]))])]),
        ),
        ("FacebookAppID", s("123456789")),
        (
            "NSAppTransportSecurity",
            dict(vec![
                ("NSAllowsArbitraryLoads", Value::Boolean(true)),
                (
                    "NSExceptionDomains",
                    dict(vec![(
                        "collect.example-analytics.cn",
                        dict(vec![
                            ("NSExceptionAllowsInsecureHTTPLoads", Value::Boolean(true)),
                            ("NSIncludesSubdomains", Value::Boolean(true)),
                        ]),
                    )]),
                ),
            ]),
        ),
    ])
}

const ENTITLEMENTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>application-identifier</key>
	<string>ABCDE12345.com.example.demotracker</string>
	<key>com.apple.developer.team-identifier</key>
	<string>ABCDE12345</string>
	<key>com.apple.developer.associated-domains</key>
	<array>
		<string>applinks:links.demotracker.example.com</string>
	</array>
	<key>com.apple.developer.healthkit</key>
	<true/>
	<key>get-task-allow</key>
	<false/>
</dict>
</plist>
"#;

const DEVELOPER_SERIAL: u64 = 0x1a05;

fn developer_certificate() -> Vec<u8> {
    x509::self_signed_certificate(&DemoKey::Flashlight.private_key(), &DEVELOPER_SUBJECT, DEVELOPER_SERIAL)
}

/// The developer key signs the code directories: a test identity whose
/// chain ends at itself, not at an Apple root.
fn developer_signer() -> (rsa::RsaPrivateKey, DistinguishedName, u64) {
    (DemoKey::Flashlight.private_key(), DEVELOPER_SUBJECT, DEVELOPER_SERIAL)
}

fn keyboard_info_plist() -> Vec<u8> {
    binary_plist(&dict(vec![
        ("CFBundleIdentifier", s(&format!("{BUNDLE_ID}.keyboard"))),
        ("CFBundleExecutable", s("DemoKeyboard")),
        ("NSExtension", dict(vec![("NSExtensionPointIdentifier", s("com.apple.keyboard-service"))])),
    ]))
}

fn strings_vec(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The app's main executable.
pub fn main_executable() -> Vec<u8> {
    macho::build(&MachoSpec {
        file_type: macho::MH_EXECUTE,
        dylibs: strings_vec(&[
            "/System/Library/Frameworks/Foundation.framework/Foundation",
            "/System/Library/Frameworks/UIKit.framework/UIKit",
            "/System/Library/Frameworks/CoreLocation.framework/CoreLocation",
            "/System/Library/Frameworks/Contacts.framework/Contacts",
            "/usr/lib/libobjc.A.dylib",
            "/usr/lib/libSystem.B.dylib",
            "@rpath/TrackKit.framework/TrackKit",
        ]),
        weak_dylibs: strings_vec(&[
            "/System/Library/Frameworks/AppTrackingTransparency.framework/AppTrackingTransparency",
        ]),
        rpaths: strings_vec(&["@executable_path/Frameworks"]),
        min_ios: (15, 0),
        cryptid: 0,
        cstrings: strings_vec(&[
            "https://api.demotracker.example.com/v2/events",
            "wss://push.example-analytics.cn/socket",
            "Loaded %@ contacts",
            "location_update",
        ]),
        objc_classes: strings_vec(&[
            "AppDelegate",
            "DTLocationUploader",
            "_TtC11DemoTracker14ViewController",
        ]),
        imports: strings_vec(&[
            "_OBJC_CLASS_$_ATTrackingManager",
            "_OBJC_CLASS_$_CLLocationManager",
            "_OBJC_CLASS_$_CNContactStore",
            "_OBJC_CLASS_$_NSURLSession",
            "_OBJC_CLASS_$_UIPasteboard",
            "_objc_msgSend",
        ]),
        signature: Some(Signature {
            identifier: BUNDLE_ID.into(),
            team_id: Some(TEAM_ID.into()),
            entitlements_xml: Some(ENTITLEMENTS.into()),
            der_entitlements: vec![
                ("com.apple.developer.healthkit".into(), true),
                ("get-task-allow".into(), false),
            ],
            certificates: vec![developer_certificate()],
            signer: Some(developer_signer()),
            info_plist: Some(binary_plist(&info_plist())),
        }),
        ..MachoSpec::default()
    })
}

fn trackkit() -> Vec<u8> {
    macho::build(&MachoSpec {
        file_type: macho::MH_DYLIB,
        id_dylib: Some("@rpath/TrackKit.framework/TrackKit".into()),
        dylibs: strings_vec(&[
            "/System/Library/Frameworks/Foundation.framework/Foundation",
            "/System/Library/Frameworks/AdSupport.framework/AdSupport",
            "/usr/lib/libSystem.B.dylib",
        ]),
        min_ios: (12, 0),
        cstrings: strings_vec(&["https://collect.example-analytics.cn/v1/track", "idfa"]),
        objc_classes: strings_vec(&["TKTracker", "TKEventQueue"]),
        imports: strings_vec(&["_OBJC_CLASS_$_ASIdentifierManager", "_OBJC_CLASS_$_UIDevice"]),
        signature: Some(Signature { identifier: "com.example.TrackKit".into(), ..Signature::default() }),
        ..MachoSpec::default()
    })
}

fn keyboard() -> Vec<u8> {
    macho::build(&MachoSpec {
        file_type: macho::MH_EXECUTE,
        dylibs: strings_vec(&[
            "/System/Library/Frameworks/Foundation.framework/Foundation",
            "/System/Library/Frameworks/UIKit.framework/UIKit",
            "/usr/lib/libSystem.B.dylib",
        ]),
        min_ios: (15, 0),
        cstrings: strings_vec(&["https://kb.example-analytics.cn/upload"]),
        objc_classes: strings_vec(&["KeyboardViewController"]),
        imports: strings_vec(&["_OBJC_CLASS_$_UIInputViewController"]),
        signature: Some(Signature {
            identifier: format!("{BUNDLE_ID}.keyboard"),
            team_id: Some(TEAM_ID.into()),
            certificates: vec![developer_certificate()],
            signer: Some(developer_signer()),
            info_plist: Some(keyboard_info_plist()),
            ..Signature::default()
        }),
        ..MachoSpec::default()
    })
}

fn privacy_manifest(
    tracking: bool,
    domains: &[&str],
    data: &[(&str, bool, bool, &str)],
    apis: &[(&str, &str)],
) -> Vec<u8> {
    xml_plist(&dict(vec![
        ("NSPrivacyTracking", Value::Boolean(tracking)),
        ("NSPrivacyTrackingDomains", strings(domains)),
        (
            "NSPrivacyCollectedDataTypes",
            Value::Array(
                data.iter()
                    .map(|(t, linked, tracking, purpose)| {
                        dict(vec![
                            ("NSPrivacyCollectedDataType", s(t)),
                            ("NSPrivacyCollectedDataTypeLinked", Value::Boolean(*linked)),
                            ("NSPrivacyCollectedDataTypeTracking", Value::Boolean(*tracking)),
                            ("NSPrivacyCollectedDataTypePurposes", strings(&[purpose])),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "NSPrivacyAccessedAPITypes",
            Value::Array(
                apis.iter()
                    .map(|(t, reason)| {
                        dict(vec![
                            ("NSPrivacyAccessedAPIType", s(t)),
                            ("NSPrivacyAccessedAPITypeReasons", strings(&[reason])),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]))
}

/// The demo IPA.
pub fn demo_tracker_ipa() -> Vec<u8> {
    let mut zip = ZipWriter::new();
    for (name, data) in demo_tracker_ipa_entries() {
        zip.add(&name, &data, Compression::Deflated);
    }
    zip.finish()
}

/// The demo IPA's entries, in order.
fn demo_tracker_ipa_entries() -> Vec<(String, Vec<u8>)> {
    let mut zip = Vec::new();
    let add = |zip: &mut Vec<(String, Vec<u8>)>, name: &str, data: &[u8]| {
        zip.push((format!("{ROOT}{name}"), data.to_vec()))
    };
    add(&mut zip, "Info.plist", &binary_plist(&info_plist()));
    add(&mut zip, "DemoTracker", &main_executable());
    add(
        &mut zip,
        "PrivacyInfo.xcprivacy",
        &privacy_manifest(
            false,
            &[],
            &[(
                "NSPrivacyCollectedDataTypePreciseLocation",
                true,
                false,
                "NSPrivacyCollectedDataTypePurposeAppFunctionality",
            )],
            &[],
        ),
    );
    add(
        &mut zip,
        "Frameworks/TrackKit.framework/Info.plist",
        &xml_plist(&dict(vec![
            ("CFBundleIdentifier", s("com.example.TrackKit")),
            ("CFBundleExecutable", s("TrackKit")),
            ("CFBundleShortVersionString", s("4.2.0")),
        ])),
    );
    add(&mut zip, "Frameworks/TrackKit.framework/TrackKit", &trackkit());
    add(
        &mut zip,
        "Frameworks/TrackKit.framework/PrivacyInfo.xcprivacy",
        &privacy_manifest(
            true,
            &["collect.example-analytics.cn"],
            &[(
                "NSPrivacyCollectedDataTypeDeviceID",
                true,
                true,
                "NSPrivacyCollectedDataTypePurposeThirdPartyAdvertising",
            )],
            &[("NSPrivacyAccessedAPICategoryUserDefaults", "CA92.1")],
        ),
    );
    add(&mut zip, "PlugIns/DemoKeyboard.appex/Info.plist", &keyboard_info_plist());
    add(&mut zip, "PlugIns/DemoKeyboard.appex/DemoKeyboard", &keyboard());
    zip
}

/// The demo IPA after signing, with the keyboard's upload host changed in
/// its executable (same length, so only that page's hash breaks).
pub fn demo_tracker_tampered_ipa() -> Vec<u8> {
    let mut zip = ZipWriter::new();
    let original = demo_tracker_ipa_entries();
    for (name, data) in original {
        let data = if name.ends_with("DemoKeyboard.appex/DemoKeyboard") {
            replace(&data, b"kb.example-analytics.cn", b"kb.example-analytics.ru")
        } else {
            data
        };
        zip.add(&name, &data, Compression::Deflated);
    }
    zip.finish()
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = data.windows(from.len()).position(|w| w == from).expect("the text is in the binary");
    let mut out = data.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

/// The demo executable with a hostile load-command count and a zero-sized
/// command in the middle: the walk must stop with diagnostics, not loop.
pub fn bad_load_commands_macho() -> Vec<u8> {
    let mut bytes = main_executable();
    bytes[16..20].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    // The second command (after the 232-byte __TEXT segment) gets cmdsize 0.
    let second = 32 + 232;
    bytes[second + 4..second + 8].copy_from_slice(&0u32.to_le_bytes());
    bytes
}

/// A universal header naming two arm64 slices: the first is cut short, the
/// second lies past the end of the file.
pub fn truncated_fat_macho() -> Vec<u8> {
    let thin = main_executable();
    let first = &thin[..thin.len() / 3];
    let mut out = 0xcafe_babeu32.to_be_bytes().to_vec();
    out.extend_from_slice(&2u32.to_be_bytes());
    for (offset, size) in [(0x1000u32, thin.len() as u32), (0x100_0000, thin.len() as u32)] {
        for v in [0x0100_000cu32, 0, offset, size, 14] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out.resize(0x1000, 0);
    out.extend_from_slice(first);
    out
}
