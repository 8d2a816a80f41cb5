//! split-demo.apks: an XAPK/APKS-style bundle: manifest.json plus base.apk,
//! split_config.arm64_v8a.apk (native library only) and
//! split_feature_camera.apk (a feature split with its own dex), each
//! v2-signed with the Notes demo key.

use crate::apk_sign_v2;
use crate::axml::{self, Element, Value};
use crate::dex::DexSpec;
use crate::elf::{self, SharedObject};
use crate::keys::DemoKey;
use crate::x509::DistinguishedName;
use crate::zip::{Compression, ZipWriter};

use super::common;

pub const PACKAGE: &str = "org.example.splitdemo";
const SUBJECT: DistinguishedName = DistinguishedName {
    country: "NL",
    organization: "Example Notes B.V.",
    common_name: "Example Split Demo",
};

fn signed(zip: ZipWriter) -> Vec<u8> {
    let signer = common::signer(DemoKey::Notes, &SUBJECT, 0x3001);
    apk_sign_v2::sign(&zip.finish(), &signer)
}

fn encode(doc: &Element) -> Vec<u8> {
    axml::encode(doc, axml::Options::default())
}

fn base_apk() -> Vec<u8> {
    let doc = common::manifest(PACKAGE, 5, "0.5.0")
        .child(common::uses_sdk(24, 34))
        .child(common::uses_permission("android.permission.INTERNET"))
        .child(common::uses_permission("android.permission.CAMERA"))
        .child(
            Element::new("application")
                .android_str("label", "Split Demo")
                .child(common::launcher_activity("org.example.splitdemo.MainActivity")),
        );
    let mut dex = DexSpec::default();
    dex.class("Lorg/example/splitdemo/MainActivity;", "Landroid/app/Activity;")
        .method("Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V")
        .string("https://cdn.example.org/splitdemo/");
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &encode(&doc), Compression::Deflated);
    zip.add("classes.dex", &crate::dex::build(&dex), Compression::Deflated);
    signed(zip)
}

fn config_split_apk() -> Vec<u8> {
    let doc = common::manifest(PACKAGE, 5, "0.5.0")
        .plain("split", Value::Str("config.arm64_v8a".into()))
        .child(common::uses_sdk(24, 34))
        .child(Element::new("application").android("hasCode", Value::Bool(false)));
    let library = elf::build(&SharedObject {
        soname: "libsplitdemo.so".into(),
        needed: vec!["libc.so".into(), "libm.so".into()],
        imports: vec!["sqrt".into()],
        exports: vec!["Java_org_example_splitdemo_MainActivity_render".into()],
        rodata_strings: vec!["splitdemo native 0.5.0".into()],
    });
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &encode(&doc), Compression::Deflated);
    zip.add("lib/arm64-v8a/libsplitdemo.so", &library, Compression::Stored);
    signed(zip)
}

fn feature_split_apk() -> Vec<u8> {
    let doc = common::manifest(PACKAGE, 5, "0.5.0")
        .android("isFeatureSplit", Value::Bool(true))
        .plain("split", Value::Str("feature_camera".into()))
        .child(common::uses_sdk(24, 34))
        .child(
            Element::new("application").child(
                Element::new("activity")
                    .android_str("name", "org.example.splitdemo.camera.CameraActivity")
                    .android("exported", Value::Bool(false)),
            ),
        );
    let mut dex = DexSpec::default();
    dex.class("Lorg/example/splitdemo/camera/CameraActivity;", "Landroid/app/Activity;")
        .method("Landroid/hardware/Camera;->open()Landroid/hardware/Camera;")
        .string("https://upload.example.org/photos");
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &encode(&doc), Compression::Deflated);
    zip.add("classes.dex", &crate::dex::build(&dex), Compression::Deflated);
    signed(zip)
}

pub fn split_demo_apks() -> Vec<u8> {
    let base = base_apk();
    let config = config_split_apk();
    let feature = feature_split_apk();
    let total = base.len() + config.len() + feature.len();
    let manifest_json = format!(
        r#"{{
  "xapk_version": 2,
  "package_name": "{PACKAGE}",
  "name": "Split Demo",
  "version_code": "5",
  "version_name": "0.5.0",
  "min_sdk_version": "24",
  "target_sdk_version": "34",
  "permissions": [
    "android.permission.INTERNET",
    "android.permission.CAMERA"
  ],
  "split_configs": [
    "config.arm64_v8a",
    "feature_camera"
  ],
  "total_size": {total},
  "split_apks": [
    {{ "file": "base.apk", "id": "base" }},
    {{ "file": "split_config.arm64_v8a.apk", "id": "config.arm64_v8a" }},
    {{ "file": "split_feature_camera.apk", "id": "feature_camera" }}
  ]
}}
"#
    );
    let mut zip = ZipWriter::new();
    zip.add("manifest.json", manifest_json.as_bytes(), Compression::Deflated);
    zip.add("base.apk", &base, Compression::Stored);
    zip.add("split_config.arm64_v8a.apk", &config, Compression::Stored);
    zip.add("split_feature_camera.apk", &feature, Compression::Stored);
    zip.finish()
}
