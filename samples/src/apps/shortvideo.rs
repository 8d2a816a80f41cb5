//! shortvideo.apk: "Clips" (com.ss.android.ugc.clipsdemo), a short-video app
//! whose package name sits under a ByteDance namespace (`com.ss.android`)
//! while its certificate names a Singapore company. The publisher evidence
//! conflicts on purpose: an analyzer must show both links (certificate: SG;
//! package prefix: ByteDance, CN), not pick one.

use crate::apk_sign_v2;
use crate::arsc;
use crate::axml::{self, Element, Value};
use crate::dex::DexSpec;
use crate::keys::DemoKey;
use crate::x509::DistinguishedName;
use crate::zip::{Compression, ZipWriter};

use super::common;

pub const SUBJECT: DistinguishedName = DistinguishedName {
    country: "SG",
    organization: "Clips Example Pte. Ltd.",
    common_name: "Clips Example",
};
pub const PACKAGE: &str = "com.ss.android.ugc.clipsdemo";
const SERIAL: u64 = 0x3001;

fn manifest() -> Vec<u8> {
    let doc = common::manifest(PACKAGE, 12, "12.0.1")
        .child(common::uses_sdk(26, 34))
        .child(common::uses_permission("android.permission.INTERNET"))
        .child(common::uses_permission("android.permission.CAMERA"))
        .child(common::uses_permission("android.permission.RECORD_AUDIO"))
        .child(common::uses_permission("android.permission.ACCESS_COARSE_LOCATION"))
        .child(
            Element::new("application")
                .android("label", Value::Reference(arsc::APP_NAME_ID))
                .android("allowBackup", Value::Bool(false))
                .child(common::launcher_activity("com.ss.android.ugc.clipsdemo.MainActivity")),
        );
    axml::encode(&doc, axml::Options::default())
}

fn classes_dex() -> Vec<u8> {
    let mut dex = DexSpec::default();
    dex.class("Lcom/ss/android/ugc/clipsdemo/MainActivity;", "Landroid/app/Activity;")
        .class("Lcom/ss/android/ugc/clipsdemo/Recorder;", "Ljava/lang/Object;")
        .method("Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V")
        .method("Lcom/ss/android/ugc/clipsdemo/MainActivity;->onCreate(Landroid/os/Bundle;)V")
        .method("Landroid/media/MediaRecorder;->start()V")
        .method("Landroid/location/LocationManager;->getLastKnownLocation(Ljava/lang/String;)Landroid/location/Location;")
        .string("https://api.clips-example.com/v2/feed");
    crate::dex::build(&dex)
}

pub fn shortvideo_apk() -> Vec<u8> {
    let manifest = manifest();
    let dex = classes_dex();
    let resources = arsc::app_resources(PACKAGE, "Clips");
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &manifest, Compression::Deflated);
    zip.add("classes.dex", &dex, Compression::Deflated);
    zip.add("resources.arsc", &resources, Compression::Stored);
    apk_sign_v2::sign(&zip.finish(), &common::signer(DemoKey::Notes, &SUBJECT, SERIAL))
}
