//! SDK detection that survives obfuscation and packing, on variants built
//! from the project's generated samples (and from the corpus when present):
//! under R8-style renaming at least 90% of the SDKs found in the original
//! are still found, packed behind a stub DEX at least 40%, and every packed
//! variant says its code is hidden.

#[path = "common/variants.rs"]
mod variants;

use std::path::{Path, PathBuf};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;
use variants::{kept, packed, renamed, says_code_hidden, sdk_ids, sdk_reach, Kept};

fn add(total: &mut Kept, k: Kept) {
    total.original += k.original;
    total.found += k.found;
}

/// Scans each APK and its two variants; returns (renamed, packed) totals
/// of SDKs, and of (capability, SDK) pairs an SDK's own code reaches that
/// the renamed variants still give to that SDK.
fn measure(scanner: &Scanner, apks: &[PathBuf]) -> (Kept, Kept, Kept) {
    let (mut r, mut p, mut reach) = (Kept::default(), Kept::default(), Kept::default());
    for path in apks {
        let data = std::fs::read(path).unwrap();
        let name = path.display().to_string();
        let Ok(original) = scanner.scan_bytes(&data, &name) else { continue };
        let ids = sdk_ids(&original.report);
        if let Ok(variant) = renamed(&data) {
            let out = scanner.scan_bytes(&variant, &name).unwrap();
            add(&mut r, kept(&ids, &sdk_ids(&out.report)));
            let (before, after) = (sdk_reach(&original.report), sdk_reach(&out.report));
            reach.original += before.len();
            reach.found += before.keys().filter(|pair| after.contains_key(*pair)).count();
        }
        if let Ok(variant) = packed(&data) {
            let out = scanner.scan_bytes(&variant, &name).unwrap();
            assert!(
                says_code_hidden(&out.report),
                "{name}: the packed variant does not say its code is hidden"
            );
            assert!(!out.report.analysis.complete, "{name}: a packed variant is an incomplete analysis");
            add(&mut p, kept(&ids, &sdk_ids(&out.report)));
        }
    }
    (r, p, reach)
}

fn assert_goals(what: &str, (r, p, reach): (Kept, Kept, Kept)) {
    eprintln!(
        "{what}: renamed {}/{} SDKs, packed {}/{}; renamed keeps {}/{} (capability, SDK) reach pairs",
        r.found, r.original, p.found, p.original, reach.found, reach.original
    );
    // Not a goal of the issue: a floor under what host and library
    // inference give today (43/49 on the corpus), so a regression shows.
    assert!(
        reach.found * 10 >= reach.original * 8,
        "{what}: renamed variants keep {}/{} (capability, SDK) reach pairs (< 80%)",
        reach.found,
        reach.original
    );
    assert!(r.found * 10 >= r.original * 9, "{what}: renamed keeps {}/{} SDKs (< 90%)", r.found, r.original);
    assert!(p.found * 10 >= p.original * 4, "{what}: packed keeps {}/{} SDKs (< 40%)", p.found, p.original);
}

const SHOP: &str = "org.example.shop";

/// A shopping app built with the samples' writers, carrying Chinese SDKs the
/// way real apps do: their classes in the DEX, and in the manifest the
/// activities, services, receivers, intent actions and meta-data each SDK's
/// integration guide makes an app declare, a native library with JNI exports.
fn shop_apk() -> Vec<u8> {
    use appvet_samples::axml::{encode, Element, Options, Value};
    let activity = |name: &str| Element::new("activity").android_str("name", name);
    let filter = |action: &str| {
        Element::new("intent-filter").child(Element::new("action").android_str("name", action))
    };
    let application = Element::new("application")
        .android_str("name", "org.example.shop.ShopApp")
        .child(activity("org.example.shop.MainActivity"))
        .child(activity("org.example.shop.wxapi.WXEntryActivity"))
        .child(activity("com.tencent.tauth.AuthActivity").child(filter("android.intent.action.VIEW")))
        .child(activity("com.tencent.connect.common.AssistActivity"))
        .child(activity("com.alipay.sdk.app.H5PayActivity"))
        .child(Element::new("service").android_str("name", "cn.jpush.android.service.PushService"))
        .child(
            Element::new("receiver")
                .android_str("name", "org.example.shop.PushReceiver")
                .child(filter("cn.jpush.android.intent.REGISTRATION")),
        )
        .child(
            Element::new("meta-data")
                .android_str("name", "UMENG_APPKEY")
                .android_str("value", "5f0000000000"),
        );
    let manifest = Element::new("manifest")
        .android("versionCode", Value::Int(1))
        .android_str("versionName", "1.0")
        .plain("package", Value::Str(SHOP.into()))
        .child(application);
    let mut dex = appvet_samples::dex::DexSpec::default();
    for (class, superclass) in [
        ("Lorg/example/shop/ShopApp;", "Landroid/app/Application;"),
        ("Lorg/example/shop/MainActivity;", "Landroid/app/Activity;"),
        ("Lorg/example/shop/wxapi/WXEntryActivity;", "Landroid/app/Activity;"),
        ("Lorg/example/shop/PushReceiver;", "Landroid/content/BroadcastReceiver;"),
        ("Lorg/example/shop/Cart;", "Ljava/lang/Object;"),
        ("Lcom/tencent/tauth/AuthActivity;", "Landroid/app/Activity;"),
        ("Lcom/tencent/tauth/Tencent;", "Ljava/lang/Object;"),
        ("Lcom/tencent/connect/common/AssistActivity;", "Landroid/app/Activity;"),
        ("Lcom/tencent/mm/opensdk/openapi/WXAPIFactory;", "Ljava/lang/Object;"),
        ("Lcom/alipay/sdk/app/H5PayActivity;", "Landroid/app/Activity;"),
        ("Lcom/alipay/sdk/app/PayTask;", "Ljava/lang/Object;"),
        ("Lcn/jpush/android/service/PushService;", "Landroid/app/Service;"),
        ("Lcn/jpush/android/api/JPushInterface;", "Ljava/lang/Object;"),
        ("Lcom/umeng/analytics/MobclickAgent;", "Ljava/lang/Object;"),
        ("Lcom/tencent/bugly/crashreport/CrashReport;", "Ljava/lang/Object;"),
        ("Lcom/tencent/bugly/crashreport/crash/jni/NativeCrashHandler;", "Ljava/lang/Object;"),
    ] {
        dex.class(class, superclass);
    }
    dex.string("https://api.example.org/cart");
    let bugly = appvet_samples::elf::build(&appvet_samples::elf::SharedObject {
        soname: "libBugly.so".into(),
        needed: vec!["libc.so".into()],
        imports: vec!["malloc".into()],
        exports: vec!["Java_com_tencent_bugly_crashreport_crash_jni_NativeCrashHandler_regist".into()],
        rodata_strings: Vec::new(),
    });
    let mut zip = appvet_samples::zip::ZipWriter::new();
    let deflated = appvet_samples::zip::Compression::Deflated;
    zip.add("AndroidManifest.xml", &encode(&manifest, Options::default()), deflated);
    zip.add("classes.dex", &appvet_samples::dex::build(&dex), deflated);
    zip.add(
        "resources.arsc",
        &appvet_samples::arsc::app_resources(SHOP, "Shop"),
        appvet_samples::zip::Compression::Stored,
    );
    zip.add("lib/arm64-v8a/libBugly.so", &bugly, deflated);
    zip.finish()
}

#[test]
fn an_app_with_sdk_manifest_signals_keeps_its_sdks_under_renaming_and_packing() {
    let dir = std::env::temp_dir().join(format!("appvet-variants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shop.apk");
    std::fs::write(&path, shop_apk()).unwrap();
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let original = sdk_ids(&scanner.scan_bytes(&std::fs::read(&path).unwrap(), "shop.apk").unwrap().report);
    for id in ["qq-connect", "wechat-opensdk", "alipay-sdk", "jpush", "umeng", "tencent-bugly"] {
        assert!(original.contains(id), "{id} in {original:?}");
    }
    let totals = measure(&scanner, &[path]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_goals("shop sample", totals);
}

/// The committed samples declare few SDK components (datahungry's Facebook
/// and Bugly are known by their classes only): the packed variants must
/// still say their code is hidden, and the figures are printed.
#[test]
fn samples_packed_say_their_code_is_hidden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let apks: Vec<PathBuf> =
        ["benign.apk", "datahungry.apk", "shortvideo.apk"].iter().map(|n| dir.join(n)).collect();
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let (r, p, _) = measure(&scanner, &apks);
    eprintln!(
        "committed samples: renamed {}/{} SDKs, packed {}/{}",
        r.found, r.original, p.found, p.original
    );
    assert!(r.original > 0 && r.found <= r.original && p.found <= p.original);
}

#[test]
fn corpus_apps_keep_their_sdks_under_renaming_and_packing() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/apk");
    let Ok(rd) = std::fs::read_dir(&corpus) else { return };
    let mut apks: Vec<PathBuf> =
        rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "apk")).collect();
    apks.sort();
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    assert_goals("corpus", measure(&scanner, &apks));
}
