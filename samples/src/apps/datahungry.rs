//! datahungry.apk: "Flashlight" (com.example.flashlight), a torch app that
//! requests location, contacts, SMS, microphone, camera, call log and the
//! installed-app list, embeds Chinese/US analytics SDKs, ships a tracking
//! native library, a second dex for dynamic loading and a nested plugin APK,
//! and is v2-signed by a Shenzhen publisher.

use crate::apk_sign_v2;
use crate::arsc;
use crate::axml::{self, Element, Value};
use crate::dex::DexSpec;
use crate::elf::{self, SharedObject};
use crate::keys::DemoKey;
use crate::x509::DistinguishedName;
use crate::zip::{Compression, ZipWriter};

use super::common;

pub const FLASHLIGHT_SUBJECT: DistinguishedName = DistinguishedName {
    country: "CN",
    organization: "Shenzhen Example Technology Co., Ltd.",
    common_name: "Example Flashlight",
};
pub const PACKAGE: &str = "com.example.flashlight";
/// protectionLevel flag value of "signature".
const PROTECTION_SIGNATURE: u32 = 0x2;

const PERMISSIONS: &[&str] = &[
    "android.permission.ACCESS_FINE_LOCATION",
    "android.permission.ACCESS_COARSE_LOCATION",
    "android.permission.ACCESS_BACKGROUND_LOCATION",
    "android.permission.READ_CONTACTS",
    "android.permission.READ_SMS",
    "android.permission.RECEIVE_SMS",
    "android.permission.RECORD_AUDIO",
    "android.permission.CAMERA",
    "android.permission.READ_PHONE_STATE",
    "android.permission.READ_CALL_LOG",
    "android.permission.QUERY_ALL_PACKAGES",
    "android.permission.INTERNET",
];

fn manifest() -> Vec<u8> {
    let own_permission = "com.example.flashlight.permission.PUSH";
    let doc = common::manifest(PACKAGE, 41, "4.1.0")
        .child(common::uses_sdk(24, 33))
        .child(
            Element::new("permission")
                .android_str("name", own_permission)
                .android("protectionLevel", Value::Hex(PROTECTION_SIGNATURE)),
        )
        .children(PERMISSIONS.iter().map(|p| common::uses_permission(p)))
        .child(Element::new("uses-permission-sdk-23").android_str("name", "android.permission.GET_ACCOUNTS"))
        .child(
            common::uses_permission("android.permission.WRITE_EXTERNAL_STORAGE")
                .android("maxSdkVersion", Value::Int(28)),
        )
        .child(common::uses_permission(own_permission))
        .child(
            Element::new("queries").children(
                ["com.tencent.mm", "com.eg.android.AlipayGphone", "org.telegram.messenger"]
                    .iter()
                    .map(|p| Element::new("package").android_str("name", p)),
            ),
        )
        .child(
            Element::new("application")
                .android_str("name", "com.example.flashlight.FlashApp")
                .android("label", Value::Reference(arsc::APP_NAME_ID))
                .android("allowBackup", Value::Bool(true))
                .android("usesCleartextTraffic", Value::Bool(true))
                .android("networkSecurityConfig", Value::Reference(arsc::NETWORK_SECURITY_CONFIG_ID))
                .child(
                    Element::new("meta-data")
                        .android_str("name", "UMENG_APPKEY")
                        .android_str("value", "5f3c9a1b2d4e6f7a8b9c0d1e"),
                )
                .child(
                    Element::new("meta-data")
                        .android_str("name", "com.facebook.sdk.ApplicationId")
                        .android_str("value", "fb000000000000001"),
                )
                .child(common::launcher_activity("com.example.flashlight.MainActivity"))
                // No android:exported: implicitly exported (pre-31 rule) because
                // of the intent filter, and no permission guards it.
                .child(
                    Element::new("receiver")
                        .android_str("name", "com.example.flashlight.BootReceiver")
                        .child(common::intent_filter(
                            &[
                                "android.intent.action.BOOT_COMPLETED",
                                "android.provider.Telephony.SMS_RECEIVED",
                            ],
                            &[],
                        )),
                )
                .child(
                    Element::new("service")
                        .android_str("name", "com.example.flashlight.TrackingService")
                        .android("exported", Value::Bool(false)),
                )
                .child(
                    Element::new("provider")
                        .android_str("name", "com.example.flashlight.DataProvider")
                        .android_str("authorities", "com.example.flashlight.data")
                        .android("exported", Value::Bool(true)),
                ),
        );
    axml::encode(&doc, axml::Options::default())
}

fn classes_dex() -> Vec<u8> {
    let mut dex = DexSpec::default();
    dex.class("Lcom/example/flashlight/MainActivity;", "Landroid/app/Activity;")
        .class("Lcom/example/flashlight/FlashApp;", "Landroid/app/Application;")
        .class(
            "Lcom/example/flashlight/BootReceiver;",
            "Landroid/content/BroadcastReceiver;",
        )
        .class("Lcom/example/flashlight/TrackingService;", "Landroid/app/Service;")
        .class(
            "Lcom/example/flashlight/DataProvider;",
            "Landroid/content/ContentProvider;",
        )
        .class("Lcom/umeng/analytics/MobclickAgent;", "Ljava/lang/Object;")
        .class("Lcom/tencent/bugly/crashreport/CrashReport;", "Ljava/lang/Object;")
        .class("Lcom/facebook/appevents/AppEventsLogger;", "Ljava/lang/Object;")
        .method("Landroid/location/LocationManager;->getLastKnownLocation(Ljava/lang/String;)Landroid/location/Location;")
        .method("Landroid/telephony/TelephonyManager;->getDeviceId()Ljava/lang/String;")
        .method("Landroid/telephony/SmsManager;->sendTextMessage(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Landroid/app/PendingIntent;Landroid/app/PendingIntent;)V")
        .method("Landroid/media/AudioRecord;->startRecording()V")
        .method("Landroid/content/ClipboardManager;->getPrimaryClip()Landroid/content/ClipData;")
        .method("Landroid/content/pm/PackageManager;->getInstalledPackages(I)Ljava/util/List;")
        .method("Landroid/content/ContentResolver;->query(Landroid/net/Uri;[Ljava/lang/String;Ljava/lang/String;[Ljava/lang/String;Ljava/lang/String;)Landroid/database/Cursor;")
        .method("Ldalvik/system/DexClassLoader;-><init>(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/ClassLoader;)V")
        .method("Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V")
        .method("Lcom/umeng/analytics/MobclickAgent;->onResume(Landroid/content/Context;)V")
        .method("Lcom/tencent/bugly/crashreport/CrashReport;->initCrashReport(Landroid/content/Context;Ljava/lang/String;Z)V")
        .method("Lcom/facebook/appevents/AppEventsLogger;->activateApp(Landroid/app/Application;)V")
        .field("Landroid/provider/ContactsContract$Contacts;->CONTENT_URI:Landroid/net/Uri;")
        .string("https://alog.umeng.com/app_logs")
        .string("http://collect.example.cn:8080/upload")
        .string("wss://push.example.ru/ws")
        .string("http://203.0.113.7/beacon")
        .string("assets/payload.dex")
        .string("tracker")
        // Decoys: look like hosts, are not.
        .string("com.facebook.ads")
        .string("android.intent.action.MAIN")
        .string("com.umeng.analytics.pro");
    crate::dex::build(&dex)
}

/// assets/payload.dex: loaded at run time through DexClassLoader.
pub fn payload_dex() -> Vec<u8> {
    let mut dex = DexSpec::default();
    dex.class("Lcom/example/payload/Loader;", "Ljava/lang/Object;")
        .method("Landroid/telephony/TelephonyManager;->getSubscriberId()Ljava/lang/String;")
        .method("Ljava/lang/Runtime;->exec(Ljava/lang/String;)Ljava/lang/Process;")
        .string("https://cmd.example.cn/task");
    crate::dex::build(&dex)
}

fn native_tracker() -> Vec<u8> {
    elf::build(&SharedObject {
        soname: "libtracker.so".into(),
        needed: vec!["liblog.so".into(), "libc.so".into()],
        imports: vec![
            "__android_log_print".into(),
            "getaddrinfo".into(),
            "connect".into(),
            "send".into(),
            "strlen".into(),
        ],
        exports: vec!["JNI_OnLoad".into(), "Java_com_example_flashlight_TrackingService_report".into()],
        rodata_strings: vec![
            "https://sdk.tracker.example.cn/v1".into(),
            "/proc/self/maps".into(),
            "tracker".into(),
        ],
    })
}

/// assets/plugin.apk: a small unsigned APK with its own manifest and dex.
fn plugin_apk() -> Vec<u8> {
    let doc = common::manifest("com.example.flashlight.plugin", 1, "1.0")
        .child(common::uses_sdk(24, 33))
        .child(common::uses_permission("android.permission.READ_SMS"))
        .child(Element::new("application").android_str("label", "Plugin"));
    let mut dex = DexSpec::default();
    dex.class("Lcom/example/plugin/SmsPlugin;", "Ljava/lang/Object;")
        .method("Landroid/telephony/SmsManager;->getDefault()Landroid/telephony/SmsManager;")
        .string("https://plugin.example.cn/update");
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &axml::encode(&doc, axml::Options::default()), Compression::Deflated);
    zip.add("classes.dex", &crate::dex::build(&dex), Compression::Deflated);
    zip.finish()
}

const CONFIG_JSON: &str = r#"{
  "endpoint": "https://config.example.cn/v2/settings",
  "upload_interval_s": 60,
  "collect": ["location", "contacts", "sms"]
}
"#;

pub fn datahungry_apk() -> Vec<u8> {
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &manifest(), Compression::Deflated);
    zip.add("classes.dex", &classes_dex(), Compression::Deflated);
    zip.add("resources.arsc", &arsc::app_resources(PACKAGE, "Flashlight"), Compression::Stored);
    zip.add(
        arsc::NETWORK_SECURITY_CONFIG_PATH,
        &common::network_security_config(true, true),
        Compression::Deflated,
    );
    zip.add("lib/arm64-v8a/libtracker.so", &native_tracker(), Compression::Stored);
    zip.add("assets/config.json", CONFIG_JSON.as_bytes(), Compression::Deflated);
    zip.add("assets/payload.dex", &payload_dex(), Compression::Deflated);
    zip.add("assets/plugin.apk", &plugin_apk(), Compression::Stored);
    let signer = common::signer(DemoKey::Flashlight, &FLASHLIGHT_SUBJECT, 0x2001);
    apk_sign_v2::sign(&zip.finish(), &signer)
}
