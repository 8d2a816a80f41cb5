//! benign.apk: "Notes" (org.example.notes), an ordinary app that asks for
//! INTERNET only, talks to `https://api.example.org` and is v2-signed by a Dutch
//! publisher with both a v1 (JAR) and a v2 signature.

use crate::apk_sign_v1;
use crate::apk_sign_v2;
use crate::arsc;
use crate::axml::{self, Element, Value};
use crate::dex::DexSpec;
use crate::keys::DemoKey;
use crate::x509::DistinguishedName;
use crate::zip::{Compression, ZipWriter};

use super::common;

pub const BENIGN_SUBJECT: DistinguishedName =
    DistinguishedName { country: "NL", organization: "Example Notes B.V.", common_name: "Example Notes" };
pub const PACKAGE: &str = "org.example.notes";
/// Stored entry whose bytes tampered.apk changes after signing.
pub const ABOUT_ENTRY: &str = "assets/about.txt";
pub const ABOUT_TEXT: &str = "Notes 1.2.0 - keeps your notes, syncs them to api.example.org.\n";

pub fn manifest() -> Vec<u8> {
    let doc = common::manifest(PACKAGE, 3, "1.2.0")
        .child(common::uses_sdk(24, 34))
        .child(common::uses_permission("android.permission.INTERNET"))
        .child(
            Element::new("application")
                .android("label", Value::Reference(arsc::APP_NAME_ID))
                .android("allowBackup", Value::Bool(false))
                .android("networkSecurityConfig", Value::Reference(arsc::NETWORK_SECURITY_CONFIG_ID))
                .child(common::launcher_activity("org.example.notes.MainActivity")),
        );
    axml::encode(&doc, axml::Options::default())
}

pub fn classes_dex() -> Vec<u8> {
    let mut dex = DexSpec::default();
    dex.class("Lorg/example/notes/MainActivity;", "Landroid/app/Activity;")
        .class("Lorg/example/notes/Note;", "Ljava/lang/Object;")
        .class("Lorg/example/notes/NoteStore;", "Ljava/lang/Object;")
        .class("Lorg/example/notes/SyncClient;", "Ljava/lang/Object;")
        .method("Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V")
        .method("Lorg/example/notes/MainActivity;->onCreate(Landroid/os/Bundle;)V")
        .method("Lorg/example/notes/SyncClient;->push(Ljava/util/List;)Z")
        .method("Ljava/net/URL;-><init>(Ljava/lang/String;)V")
        .method("Ljava/net/URL;->openConnection()Ljava/net/URLConnection;")
        .field("Lorg/example/notes/Note;->title:Ljava/lang/String;")
        .field("Lorg/example/notes/Note;->body:Ljava/lang/String;")
        .string("https://api.example.org/v1/notes")
        .string("notes.db");
    crate::dex::build(&dex)
}

/// The archive before the v2 signature (it already carries the v1 JAR
/// signature); `about` is the text of [`ABOUT_ENTRY`].
pub fn unsigned(about: &str) -> Vec<u8> {
    let manifest = manifest();
    let dex = classes_dex();
    let resources = arsc::app_resources(PACKAGE, "Notes");
    let network_config = common::network_security_config(false, false);
    let entries: [(&str, &[u8], Compression); 5] = [
        ("AndroidManifest.xml", &manifest, Compression::Deflated),
        ("classes.dex", &dex, Compression::Deflated),
        ("resources.arsc", &resources, Compression::Stored),
        (arsc::NETWORK_SECURITY_CONFIG_PATH, &network_config, Compression::Deflated),
        (ABOUT_ENTRY, about.as_bytes(), Compression::Stored),
    ];
    let named: Vec<(&str, &[u8])> = entries.iter().map(|&(n, d, _)| (n, d)).collect();
    let jar_signature = apk_sign_v1::signature_files(&named, &signer(), &BENIGN_SUBJECT, SERIAL);
    let mut zip = ZipWriter::new();
    for (name, data, compression) in entries {
        zip.add(name, data, compression);
    }
    for (name, data) in &jar_signature {
        zip.add(name, data, Compression::Deflated);
    }
    zip.finish()
}

const SERIAL: u64 = 0x1001;

pub fn signer() -> apk_sign_v2::Signer {
    common::signer(DemoKey::Notes, &BENIGN_SUBJECT, SERIAL)
}

pub fn benign_apk() -> Vec<u8> {
    apk_sign_v2::sign(&unsigned(ABOUT_TEXT), &signer())
}
