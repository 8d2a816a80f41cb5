//! Positives and decoys for host extraction, plus a corpus smoke test.

use super::*;

fn hosts_of(own: &[&str], strings: &[&str]) -> Vec<Host> {
    let own: Vec<String> = own.iter().map(|s| s.to_string()).collect();
    let mut extractor = HostExtractor::new(&own);
    for s in strings {
        extractor.scan("classes.dex", EvidenceKind::String, s);
    }
    extractor.finish()
}

fn names(strings: &[&str]) -> Vec<String> {
    hosts_of(&[], strings).into_iter().map(|h| h.host).collect()
}

fn one(text: &str) -> Option<Host> {
    let mut hosts = hosts_of(&[], &[text]);
    assert!(hosts.len() <= 1, "{text:?} gave {hosts:?}");
    hosts.pop()
}

#[track_caller]
fn assert_none(text: &str) {
    let found = names(&[text]);
    assert!(found.is_empty(), "{text:?} should give no host, gave {found:?}");
}

#[track_caller]
fn assert_host(text: &str, host: &str) {
    let found = names(&[text]);
    assert_eq!(found, vec![host.to_string()], "for {text:?}");
}

#[test]
fn url_with_path_gives_host_domain_and_scheme() {
    let h = one("https://alog.umeng.com/app_logs").unwrap();
    assert_eq!(h.host, "alog.umeng.com");
    assert_eq!(h.domain.as_deref(), Some("umeng.com"));
    assert_eq!(h.schemes, vec!["https"]);
    assert!(!h.ip);
    assert_eq!(h.owner, None);
    assert_eq!(h.country, None);
    assert_eq!(h.evidence_total, 1);
    assert_eq!(h.evidence[0].value, "https://alog.umeng.com/app_logs");
    assert_eq!(h.evidence[0].source, "classes.dex");
    assert_eq!(h.evidence[0].kind, EvidenceKind::String);
}

#[test]
fn url_with_port_and_other_schemes() {
    let h = one("http://collect.example.cn:8080/upload").unwrap();
    assert_eq!((h.host.as_str(), h.domain.as_deref()), ("collect.example.cn", Some("example.cn")));
    assert_eq!(h.evidence[0].value, "http://collect.example.cn:8080/upload");
    let h = one("wss://push.example.ru/ws").unwrap();
    assert_eq!((h.host.as_str(), h.schemes.as_slice()), ("push.example.ru", &["wss".to_string()][..]));
    let h = one("rtmp://live.example.com.cn/app/stream").unwrap();
    assert_eq!(h.domain.as_deref(), Some("example.com.cn"));
    assert_host("mqtt://broker.example.io:1883", "broker.example.io");
    assert_host("ftp://user:secret@files.example.org/pub", "files.example.org");
}

#[test]
fn ip_literals_in_urls() {
    let h = one("http://203.0.113.7/beacon").unwrap();
    assert_eq!((h.host.as_str(), h.ip, h.domain.clone()), ("203.0.113.7", true, None));
    let h = one("http://[2001:db8::1]/x").unwrap();
    assert_eq!((h.host.as_str(), h.ip), ("2001:db8::1", true));
    assert_host("http://[2001:DB8:0:0::1]:8443/", "2001:db8::1");
    assert_host("http://127.0.0.1:8080/debug", "127.0.0.1");
    assert_host("http://localhost:3000", "localhost");
    assert_none("http://0.0.0.0:8080/");
    assert_none("http://[::]/");
}

#[test]
fn bare_ipv4_rules() {
    assert_host("203.0.113.7", "203.0.113.7");
    assert_host("8.8.8.8", "8.8.8.8");
    assert_host("server 192.168.1.20:5555 ready", "192.168.1.20");
    assert_none("255.255.255.0");
    assert_none("255.255.255.255");
    assert_none("0.0.0.0");
    assert_none("1.0.0.0");
    assert_none("2.5.4.3");
    assert_none("1.3.6.1");
    assert_none("1.2.840.113549.1.1.1");
    assert_none("1.2.3");
    assert_none("version 1.2.3.4.5");
    assert_none("Chrome/58.0.3029.110");
    assert_none("01.02.03.04");
    assert_none("2.12.9.2");
    assert_host("1.1.1.1", "1.1.1.1");
}

#[test]
fn bare_hostnames() {
    assert_host("api.umeng.com", "api.umeng.com");
    let h = one("log.example.cn:8080").unwrap();
    assert_eq!(h.host, "log.example.cn");
    assert_eq!(h.evidence[0].value, "log.example.cn:8080");
    assert!(h.schemes.is_empty());
    assert_host("upload to api.example.com now", "api.example.com");
    assert_host("上报地址api.example.cn失败", "api.example.cn");
    assert_host("host=stats.example.net&x=1", "stats.example.net");
    // A leading dot alone is a hidden file or a key suffix as often as a
    // cookie domain: a host only when the database knows it or in context.
    assert_none(".example.com");
    assert_host(".example.com/path", "example.com");
    assert_host("163.com", "163.com");
    assert_host("api.example.com/v1/report", "api.example.com");
    assert_host("cdn.example.co.uk", "cdn.example.co.uk");
}

#[test]
fn trailing_dot_uppercase_and_idn() {
    assert_host("api.example.com.", "api.example.com");
    assert_host("https://API.Example.COM/x", "api.example.com");
    assert_host("API.EXAMPLE.COM", "api.example.com");
    let h = one("https://xn--fiqs8s.xn--fiqs8s/").unwrap();
    assert_eq!(h.host, "xn--fiqs8s.xn--fiqs8s");
    let h = one("https://Пример.РФ/путь").unwrap();
    assert_eq!(h.host, "пример.рф");
    assert_eq!(h.domain.as_deref(), Some("пример.рф"));
}

#[test]
fn package_and_class_decoys() {
    assert_none("com.facebook.ads");
    assert_none("android.intent.action.MAIN");
    assert_none("android.permission.CAMERA");
    assert_none("com.umeng.analytics.pro");
    assert_none("R.layout.main");
    assert_none("Landroid/location/LocationManager;");
    assert_none("com.example.app.MainActivity");
    assert_none("io.sentry.android.core");
    assert_none("kotlin.jvm.internal.Intrinsics");
    assert_none("androidx.core.app");
    assert_none("cn.jpush.android");
    assert_none("ro.build.id");
    assert_none("persist.sys.language");
    assert_none("Foo.Bar");
    assert_none("Log.INFO");
    assert_none("Example.com");
    assert_none("a.b.cn");
    assert_none("org.apache.http.conn.ssl");
}

#[test]
fn ambiguous_word_tlds_use_context() {
    // `.ads` is a real TLD; alone `facebook.ads` is ambiguous and a
    // two-label name on a word TLD is not believed without a scheme.
    assert_none("facebook.ads");
    assert!(hosts_of(&["com.facebook.ads"], &["facebook.ads.internal.example.ads"]).is_empty());
    assert_host("https://facebook.ads/x", "facebook.ads");
    // Alone in code, a word gTLD ends a key path; with a port or a path it is a host.
    assert_none("api.example.app");
    assert_host("api.example.app:443", "api.example.app");
    assert_host("api.example.app/v1/events", "api.example.app");
    assert_host("myproject.web.app", "myproject.web.app");
    assert_none("user.name");
    assert_none("user.id");
    assert_none("e.target");
    assert_none("if (e.target.id) this.name = window.top;");
    assert_none("dialog.show(); dialog.show");
}

#[test]
fn own_and_code_packages_reject_lookalikes() {
    // `example.cn` as a package root would pass every shape rule.
    let own = ["cn.example.sdk"];
    assert!(hosts_of(&own, &["cn.example.sdk.core"]).is_empty());
    let mut extractor = HostExtractor::new(&[]);
    extractor.add_code_packages(["Lnet/yoyo/track/Client;", "umeng.analytics.pro.x"]);
    extractor.scan("classes.dex", EvidenceKind::String, "umeng.analytics.pro.cn");
    extractor.scan("classes.dex", EvidenceKind::String, "yoyo.track.cn");
    extractor.scan("classes.dex", EvidenceKind::String, "track.yoyo.net");
    let got: Vec<String> = extractor.finish().into_iter().map(|h| h.host).collect();
    assert_eq!(got, vec!["track.yoyo.net"]);
}

#[test]
fn file_version_and_format_decoys() {
    assert_none("foo.png");
    assert_none("libfoo.so");
    assert_none("README.md");
    assert_none("Android.mk");
    assert_none("proguard-rules.pro");
    assert_none("build.zip");
    assert_none("clip.mov");
    assert_none("application.properties");
    assert_none("res/drawable/icon.png");
    assert_none("assets/www/example.com");
    assert_none("%s.%s");
    assert_none("%d.%d.%d");
    assert_none("1.2.3");
    assert_none("v2.4.1");
    assert_none("icon@2x.png");
    assert_none("-Dfoo.example.com");
    assert_none(".data.rel.ro");
    assert_none("coverage.ec");
    assert_none("patch.info");
    assert_none("press.jm");
    assert_none("co.uk");
    assert_host("yandex.ru", "yandex.ru");
    assert_host("api.example.ec", "api.example.ec");
    assert_none("http://schema.org/ViewAction");
    assert_none("foo_bar.example.com");
    assert_none("Thread.currentThread().getName()");
}

#[test]
fn local_and_identifier_urls_are_skipped() {
    assert_none("content://com.example.provider/items");
    assert_none("file:///sdcard/Download/x.apk");
    assert_none("android.resource://com.example.app/raw/beep");
    assert_none("market://details?id=com.example.app");
    assert_none("http://schemas.android.com/apk/res/android");
    assert_none("http://www.w3.org/2000/svg");
    assert_none("http://www.apache.org/licenses/LICENSE-2.0");
    assert_none("myapp://open");
    assert_host("myapp://api.example.com/cb", "api.example.com");
    assert_none("myapp://com.example.app/cb");
    assert_none("https://");
    assert_none("http://%s/%s");
    assert_none("https://${host}/path");
}

#[test]
fn templates_escapes_and_encodings() {
    assert_host("https://%s.umeng.com/v1", "umeng.com");
    assert_host("https://{region}.api.example.com/x", "api.example.com");
    assert_host("{\"url\":\"https:\\/\\/api.example.com\\/v2\"}", "api.example.com");
    assert_host("redirect=https%3A%2F%2Fsso.example.com%2Flogin", "sso.example.com");
    assert_host("%s.example.com", "example.com");
    assert_host("<script src=\"//cdn.example.com/x.js\">", "cdn.example.com");
    assert_host("see (https://docs.example.com/a) for more", "docs.example.com");
    let h = one("updatescrollHeighttps://facebook.github.io/react-native/").unwrap();
    assert_eq!((h.host.as_str(), h.schemes.as_slice()), ("facebook.github.io", &["https".to_string()][..]));
    assert_eq!(h.evidence[0].value, "https://facebook.github.io/react-native/");
}

#[test]
fn nested_urls_and_multiple_hosts_in_order() {
    let h = hosts_of(&[], &["https://a.example.com/r?u=https://b.example.org/x and c.example.net"]);
    let got: Vec<&str> = h.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(got, vec!["a.example.com", "b.example.org", "c.example.net"]);
}

#[test]
fn emails_count_with_mailto_scheme() {
    let h = one("Contact support@example.com for help").unwrap();
    assert_eq!(h.host, "example.com");
    assert_eq!(h.schemes, vec!["mailto"]);
    assert_eq!(h.evidence[0].value, "support@example.com");
    assert_host("john.doe@mail.example.de", "mail.example.de");
    assert_none("@kotlin.jvm.JvmStatic");
    assert_host("foo@163.com", "163.com");
    // Dart private-name mangling, not an address.
    assert_none("_Uri@0150898.directory");
}

#[test]
fn aggregation_is_deterministic_and_capped() {
    let mut extractor = HostExtractor::new(&[]);
    for i in 0..10 {
        extractor.scan(&format!("classes{i}.dex"), EvidenceKind::String, "https://z.example.com/a");
        extractor.scan("lib/arm64-v8a/libx.so", EvidenceKind::NativeString, "http://z.example.com/b");
    }
    extractor.scan("AndroidManifest.xml", EvidenceKind::Manifest, "a.example.com");
    let hosts = extractor.finish();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0].host, "a.example.com");
    let z = &hosts[1];
    assert_eq!(z.evidence_total, 20);
    assert_eq!(z.evidence.len(), MAX_EVIDENCE_PER_HOST);
    assert_eq!(z.schemes, vec!["http", "https"]);
    assert_eq!(z.evidence[0].source, "classes0.dex");
    assert_eq!(z.evidence[1].source, "lib/arm64-v8a/libx.so");
    assert_eq!(z.evidence[1].kind, EvidenceKind::NativeString);
}

#[test]
fn distinct_host_cap_reports_a_diagnostic() {
    let mut extractor = HostExtractor::new(&[]);
    for i in 0..(MAX_HOSTS + 3) {
        extractor.scan("classes.dex", EvidenceKind::String, &format!("https://h{i}.example.com/"));
    }
    let (hosts, diagnostics) = extractor.finish_with_diagnostics(|_| false);
    assert_eq!(hosts.len(), MAX_HOSTS);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, "hosts.capped");
}

#[test]
fn hostile_inputs_do_not_panic_and_stay_bounded() {
    let long_label = format!("https://{}.com/", "a".repeat(64));
    assert_none(&long_label);
    let long_name = format!("https://{}com/", "a.".repeat(130));
    assert_none(&long_name);
    let huge = "https://x.example.com/".to_string() + &"é".repeat(1000);
    let h = one(&huge).unwrap();
    assert!(h.evidence[0].value.len() <= scan::MAX_VALUE_LEN);
    for text in [
        "",
        ".",
        "..",
        "://",
        ":\\/\\/",
        "%3A%2F%2F",
        "@",
        "a@",
        "@.",
        "[",
        "http://[",
        "http://[::1",
        "x:",
        "é.é",
        "//",
        "1.",
        ".1",
        "a.b:99999999",
    ] {
        let _ = names(&[text]);
    }
    let many_dots = ".".repeat(100_000);
    assert_none(&many_dots);
}

#[test]
fn corpus_apks_scan_without_panicking() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dex");
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(bytes) = std::fs::read(entry.path()) else {
            continue;
        };
        let mut extractor = HostExtractor::new(&[]);
        // A crude strings dump: printable runs, like a strings(1) pass.
        for run in bytes.split(|b| !(0x20..0x7f).contains(b)).filter(|r| r.len() >= 4) {
            if let Ok(text) = std::str::from_utf8(run) {
                extractor.scan("classes.dex", EvidenceKind::String, text);
            }
        }
        let hosts = extractor.finish();
        assert!(hosts.windows(2).all(|w| w[0].host < w[1].host));
    }
}

/// Exploration aid, not a check: `APPVET_HOSTS_RECORDS=file cargo test --lib
/// evidence::hosts::tests::dump_records -- --ignored --nocapture` prints the
/// hosts found in a NUL-separated `source\tkind\ttext` dump (kind `class`
/// feeds the code-package context).
#[test]
#[ignore]
#[allow(clippy::print_stdout)] // its output is the point
fn dump_records() {
    let Ok(path) = std::env::var("APPVET_HOSTS_RECORDS") else {
        return;
    };
    let Ok(data) = std::fs::read_to_string(path) else {
        return;
    };
    let records: Vec<(&str, &str, &str)> = data
        .split('\0')
        .filter_map(|r| {
            let mut parts = r.splitn(3, '\t');
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
        .collect();
    let mut extractor = HostExtractor::new(&[]);
    extractor.add_code_packages(records.iter().filter(|r| r.1 == "class").map(|r| r.2));
    for (source, kind, text) in records.iter().filter(|r| r.1 != "class") {
        extractor.scan(source, EvidenceKind::parse(kind).expect("corpus evidence kind"), text);
    }
    for h in extractor.finish() {
        let e = &h.evidence[0];
        println!(
            "{}\t{:?}\t{:?}\t{}\t{}\t{}",
            h.host, h.domain, h.schemes, h.evidence_total, e.kind, e.value
        );
    }
}

#[test]
fn registrable_domain_uses_the_icann_section() {
    let mut x = HostExtractor::new(&[]);
    x.scan("classes.dex", EvidenceKind::String, "https://www.googleapis.com/auth");
    x.scan("classes.dex", EvidenceKind::String, "https://alog.umeng.com/app_logs");
    x.scan("classes.dex", EvidenceKind::String, "https://a.b.example.co.uk/");
    let hosts = x.finish();
    let domain = |h: &str| hosts.iter().find(|x| x.host == h).and_then(|x| x.domain.clone());
    assert_eq!(domain("www.googleapis.com").as_deref(), Some("googleapis.com"));
    assert_eq!(domain("alog.umeng.com").as_deref(), Some("umeng.com"));
    assert_eq!(domain("a.b.example.co.uk").as_deref(), Some("example.co.uk"));
}

#[test]
fn bare_names_seen_before_their_package_is_known_are_dropped() {
    let mut x = HostExtractor::new(&[]);
    x.scan("resources.arsc", EvidenceKind::Resource, "acme.api.shop");
    x.scan("resources.arsc", EvidenceKind::Resource, "https://log.umeng.cn/x");
    let mut before = HostExtractor::new(&[]);
    before.scan("resources.arsc", EvidenceKind::Resource, "acme.api.shop");
    assert_eq!(before.finish().len(), 1, "accepted while no package covers it");
    x.add_code_packages(["Lcom/acme/api/shop/Main;"]);
    let hosts: Vec<_> = x.finish().into_iter().map(|h| h.host).collect();
    assert_eq!(hosts, ["log.umeng.cn"]);
}

/// A bare dotted word is a host only under a key that holds hosts; a URL,
/// an e-mail address or an IP literal is one anywhere.
#[test]
fn keyed_values_take_bare_names_only_under_host_keys() {
    let keyed = |key: &str, value: &str| {
        let mut e = HostExtractor::new(&[]);
        e.scan_keyed("res/xml/splits0.xml", EvidenceKind::Resource, key, value);
        e.finish().into_iter().map(|h| h.host).collect::<Vec<_>>()
    };
    assert!(keyed("split", "config.ru").is_empty());
    assert!(keyed("id", "config.ru").is_empty());
    assert_eq!(keyed("host", "api.example.ru"), ["api.example.ru"]);
    assert_eq!(keyed("com.example.API_DOMAIN", "api.example.cn"), ["api.example.cn"]);
    assert_eq!(keyed("serverUrl", "api.example.cn"), ["api.example.cn"]);
    assert_eq!(keyed("text", "see https://docs.example.org/x"), ["docs.example.org"]);
    assert_eq!(keyed("defaultValue", "10.0.2.2"), ["10.0.2.2"]);
    assert!(holds_host("android:host") && holds_host("domain") && !holds_host("name"));
}

fn judged(strings: &[(EvidenceKind, &str)], known: impl Fn(&str) -> bool) -> (Vec<Host>, Vec<Diagnostic>) {
    let mut extractor = HostExtractor::new(&[]);
    for (kind, s) in strings {
        extractor.scan("classes.dex", *kind, s);
    }
    extractor.finish_with_diagnostics(known)
}

#[test]
fn property_keys_on_real_tlds_are_not_hosts_but_are_listed() {
    // SDK property keys, intent extras and hidden file names that end in a
    // real TLD (all seen in real apps, plus shapes of the same kinds).
    let keys = [
        "tpns.msg.id",
        "tpush.running.service.name",
        "build.changelist.as.int",
        "intent.extra.update.info",
        ".mid.world.ro",
        "push.settings.user.info",
        "sdk.session.run",
        "player.state.world",
        "a.b.com",
    ];
    let strings: Vec<(EvidenceKind, &str)> = keys.iter().map(|k| (EvidenceKind::String, *k)).collect();
    let (hosts, diagnostics) = judged(&strings, |_| false);
    assert!(hosts.is_empty(), "{hosts:?}");
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, "hosts.not_hosts");
    assert_eq!(diagnostics[0].level, crate::report::Level::Info);
    for key in keys {
        assert!(
            diagnostics[0].message.contains(key.trim_start_matches('.')),
            "{key}: {}",
            diagnostics[0].message
        );
    }
}

#[test]
fn real_bare_endpoints_stay_and_are_marked_weak() {
    let strings = [
        (EvidenceKind::String, "resolver.msg.global.xiaomi.net"),
        (EvidenceKind::String, "epc.tmobile.com"),
        (EvidenceKind::NativeString, "report.example.cn"),
        (EvidenceKind::Asset, "cdn.example.io"),
    ];
    let (hosts, diagnostics) = judged(&strings, |_| false);
    let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(
        names,
        ["cdn.example.io", "epc.tmobile.com", "report.example.cn", "resolver.msg.global.xiaomi.net"]
    );
    assert!(hosts.iter().all(|h| h.weak), "{hosts:?}");
    assert!(diagnostics.is_empty());
}

#[test]
fn a_key_shape_is_a_host_in_context_in_a_host_list_or_when_the_database_knows_it() {
    let (hosts, _) = judged(
        &[
            (EvidenceKind::String, "push.example.info:8443"),
            (EvidenceKind::String, "api.example.name/v2"),
            (EvidenceKind::String, "support@help.example.app"),
            (EvidenceKind::String, "eu.example.info, us.example.info"),
            (EvidenceKind::String, "https://tracker.example.info/x"),
            (EvidenceKind::String, "sdk.metrics.id"),
        ],
        |host| host.ends_with("metrics.id"),
    );
    let names: Vec<&str> = hosts.iter().map(|h| h.host.as_str()).collect();
    assert_eq!(
        names,
        [
            "api.example.name",
            "eu.example.info",
            "help.example.app",
            "push.example.info",
            "sdk.metrics.id",
            "tracker.example.info",
            "us.example.info"
        ]
    );
    // A URL or an e-mail address is not weak; bare names in code text are.
    let weak: Vec<&str> = hosts.iter().filter(|h| h.weak).map(|h| h.host.as_str()).collect();
    assert_eq!(
        weak,
        ["api.example.name", "eu.example.info", "push.example.info", "sdk.metrics.id", "us.example.info"]
    );
    // A list needs nothing but names: text around them is not a list.
    let (hosts, _) = judged(&[(EvidenceKind::String, "set tpns.msg.id and tpush.unrge.info")], |_| false);
    assert!(hosts.is_empty(), "{hosts:?}");
}

#[test]
fn a_name_under_a_host_valued_key_is_not_judged_by_its_shape() {
    // `scan_keyed` under `host` / `domain`: the place says it is a host.
    let mut extractor = HostExtractor::new(&[]);
    extractor.scan_keyed(
        "AndroidManifest.xml",
        EvidenceKind::Manifest,
        "android:host",
        "deeplink.example.app",
    );
    extractor.scan_keyed("AndroidManifest.xml", EvidenceKind::Manifest, "android:name", "tpns.msg.id");
    let (hosts, diagnostics) = extractor.finish_with_diagnostics(|_| false);
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].host, "deeplink.example.app");
    assert!(!hosts[0].weak);
    assert!(diagnostics.is_empty());
}
