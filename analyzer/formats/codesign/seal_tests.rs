//! The resource seal against generated bundles: intact, a file missing,
//! changed or added, optional and omitted files, nested code.

use super::*;

/// Standard base64, for the plist `<data>` the fixtures write.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn seal_xml(files: &[(&str, &[u8])], extra_entries: &str, rules: &str) -> Vec<u8> {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>files</key><dict/><key>files2</key><dict>",
    );
    for (path, content) in files {
        out.push_str(&format!(
            "<key>{path}</key><dict><key>hash</key><data>{}</data><key>hash2</key><data>{}</data></dict>",
            b64(&Sha1::digest(content)),
            b64(&Sha256::digest(content))
        ));
    }
    out.push_str(extra_entries);
    out.push_str("</dict><key>rules2</key><dict>");
    out.push_str(rules);
    out.push_str("</dict></dict></plist>");
    out.into_bytes()
}

/// Apple's default iOS rules2 (what Xcode writes), abridged to the rules these bundles meet.
const APPLE_RULES: &str = "<key>^.*</key><true/>\
    <key>^</key><dict><key>weight</key><real>20</real></dict>\
    <key>^.*\\.lproj/</key><dict><key>optional</key><true/><key>weight</key><real>1000</real></dict>\
    <key>^(.*/)?\\.DS_Store$</key><dict><key>omit</key><true/><key>weight</key><real>2000</real></dict>\
    <key>^Info\\.plist$</key><dict><key>omit</key><true/><key>weight</key><real>20</real></dict>\
    <key>^PkgInfo$</key><dict><key>omit</key><true/><key>weight</key><real>20</real></dict>\
    <key>^(Frameworks|SharedFrameworks|PlugIns|Plug-ins|XPCServices|Helpers|MacOS|Library/(Automator|Spotlight|LoginItems))/</key><dict><key>nested</key><true/><key>weight</key><real>10</real></dict>";

struct Bundle {
    files: Vec<(&'static str, Vec<u8>)>,
}

impl Bundle {
    fn new() -> Self {
        Bundle {
            files: vec![
                ("Info.plist", b"<plist/>".to_vec()),
                ("App", b"\xcf\xfa\xed\xfe".to_vec()),
                ("_CodeSignature/CodeResources", b"x".to_vec()),
                ("Assets.car", b"assets".to_vec()),
                ("en.lproj/Main.strings", b"\"a\" = \"b\";".to_vec()),
                ("embedded.mobileprovision", b"profile".to_vec()),
                ("Frameworks/Kit.framework/Kit", b"kit".to_vec()),
            ],
        }
    }

    fn check(&self, seal: &[u8]) -> SealCheck {
        let seal = Seal::parse(seal).unwrap();
        let present: Vec<&str> = self.files.iter().map(|(p, _)| *p).collect();
        seal.check(
            &present,
            |p| p == "App" || p.starts_with("_CodeSignature/"),
            |p| self.files.iter().find(|(q, _)| *q == p).map(|(_, d)| d.clone()),
        )
    }
}

fn sealed_of(bundle: &Bundle) -> Vec<u8> {
    let sealed: Vec<(&str, &[u8])> = bundle
        .files
        .iter()
        .filter(|(p, _)| ["Assets.car", "en.lproj/Main.strings", "embedded.mobileprovision"].contains(p))
        .map(|(p, d)| (*p, d.as_slice()))
        .collect();
    let nested = "<key>Frameworks/Kit.framework</key><dict><key>cdhash</key><data>AAAA</data></dict>";
    seal_xml(&sealed, nested, APPLE_RULES)
}

#[test]
fn an_intact_bundle_holds_its_seal() {
    let bundle = Bundle::new();
    assert_eq!(bundle.check(&sealed_of(&bundle)), SealCheck::default());
}

#[test]
fn a_changed_missing_or_added_file_breaks_the_seal_and_is_named() {
    let original = Bundle::new();
    let seal = sealed_of(&original);

    let mut changed = Bundle::new();
    changed.files[3].1 = b"assetz".to_vec();
    assert_eq!(changed.check(&seal).errors, ["sealed resource modified: Assets.car"]);

    let mut missing = Bundle::new();
    missing.files.retain(|(p, _)| *p != "embedded.mobileprovision");
    assert_eq!(missing.check(&seal).errors, ["sealed resource missing: embedded.mobileprovision"]);

    let mut added = Bundle::new();
    added.files.push(("payload.js", b"evil()".to_vec()));
    // Omitted files (.DS_Store, Info.plist) need no seal.
    added.files.push(("sub/.DS_Store", b"x".to_vec()));
    assert_eq!(added.check(&seal).errors, ["sealed resource added, not sealed: payload.js"]);
    // Files inside sealed nested code are its own signature's business; a
    // framework the seal does not name is an added file.
    added.files.push(("Frameworks/Kit.framework/Resources/x.png", b"x".to_vec()));
    added.files.push(("Frameworks/Other.framework/Other", b"o".to_vec()));
    assert_eq!(
        added.check(&seal).errors,
        ["sealed resource added, not sealed: Frameworks/Other.framework/Other, payload.js"]
    );
}

#[test]
fn optional_files_may_be_missing_and_sha1_only_seals_are_checked() {
    let content = b"hello";
    let optional = format!(
        "<key>opt.txt</key><dict><key>hash2</key><data>{}</data><key>optional</key><true/></dict>",
        b64(&Sha256::digest(content))
    );
    let seal = seal_xml(&[], &optional, APPLE_RULES);
    let bundle = Bundle { files: vec![("Info.plist", b"p".to_vec())] };
    assert_eq!(bundle.check(&seal), SealCheck::default());

    // The version 1 form (`files` only): the value is the SHA-1 itself.
    let seal = format!(
        "<plist version=\"1.0\"><dict><key>files</key><dict><key>a.txt</key><data>{}</data></dict></dict></plist>",
        b64(&Sha1::digest(b"a"))
    );
    let ok = Bundle { files: vec![("a.txt", b"a".to_vec())] };
    assert!(ok.check(seal.as_bytes()).errors.is_empty());
    let bad = Bundle { files: vec![("a.txt", b"b".to_vec())] };
    assert_eq!(bad.check(seal.as_bytes()).errors, ["sealed resource modified: a.txt"]);
}

#[test]
fn unreadable_files_and_malformed_seals() {
    let bundle = Bundle::new();
    let seal = Seal::parse(&sealed_of(&bundle)).unwrap();
    let present: Vec<&str> = bundle.files.iter().map(|(p, _)| *p).collect();
    let check = seal.check(&present, |p| p == "App" || p.starts_with("_CodeSignature/"), |_| None);
    assert!(check.errors.is_empty());
    assert_eq!(check.unreadable.len(), 3);
    assert!(Seal::parse(b"<plist version=\"1.0\"><dict/></plist>").unwrap_err().contains("seals no files"));
    assert!(Seal::parse(b"garbage").is_err());
    let bad_rule = seal_xml(&[], "", "<key>(unclosed</key><true/>");
    assert!(Seal::parse(&bad_rule).is_err());
}
