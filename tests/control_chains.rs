//! Control chains end to end on probe evidence (class names, hosts and app
//! ids as a scan extracts them): subsidiaries registered outside a country
//! of concern but controlled from one are attributed to the controlling
//! country in `risk.jurisdiction.factors[]` with the chain as evidence, and
//! are not approved under nl-aivd; Western SDKs show no country of concern;
//! every entity on a chain that ends in a country of concern has a source.

mod common;

use appvet::archive::zip::Limits;
use appvet::attribution::attribute;
use appvet::database::Database;
use appvet::evidence::{CodeUnit, UnitKind};
use appvet::policy::{Decision, ExceptionSet, Policy};
use appvet::report::{EntityKind, Host, LinkConfidence, Report};
use appvet::risk::{assess, RiskTables};
use appvet::scan::{ScanOutput, Scanner};

/// A probe app: the generated benign sample (`samples/benign.apk`, a complete
/// analysis signed by a Western test key) given another app id, a DEX that
/// defines `classes`, and strings naming `hosts`; attributed and scored again.
fn probe(app_id: &str, classes: &[&str], hosts: &[&str]) -> Report {
    let db = Database::embedded();
    let data = std::fs::read(common::root().join("samples/benign.apk")).unwrap();
    let ScanOutput { mut report, mut evidence } =
        Scanner::new(Database::embedded(), Limits::default()).scan_bytes(&data, "probe.apk").unwrap();
    report.app.id = Some(app_id.into());
    let mut unit = CodeUnit::new("classes2.dex", UnitKind::Dex);
    unit.classes = classes.iter().map(|c| format!("L{};", c.replace('.', "/"))).collect();
    evidence.units.push(unit);
    for h in hosts {
        let labels: Vec<&str> = h.rsplitn(3, '.').collect();
        let domain = format!("{}.{}", labels[1], labels[0]);
        report.hosts.push(Host { host: (*h).into(), domain: Some(domain), ..Default::default() });
    }
    attribute(&db, &mut report, &evidence);
    assess(&db, &mut report, &evidence, RiskTables::embedded());
    report
}

fn factor_countries(r: &Report) -> Vec<(String, String)> {
    r.risk
        .jurisdiction
        .factors
        .iter()
        .map(|f| (f.id.clone(), f.country.clone().unwrap_or_default()))
        .collect()
}

fn decision(r: &Report, policy: &str) -> Decision {
    Policy::preset(policy).unwrap().evaluate(r, &ExceptionSet::none()).decision
}

/// (what, probe, factor id expected, controlling country, text the chain evidence holds)
#[test]
fn subsidiaries_are_attributed_to_the_country_that_controls_them() {
    let cases: &[(&str, Report, &str, &str, &str)] = &[
        (
            "TikTok publisher",
            probe("com.zhiliaoapp.musically", &[], &[]),
            "jurisdiction.publisher.CN",
            "CN",
            "TikTok Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)",
        ),
        (
            "CapCut publisher",
            probe("com.lemon.lvoverseas", &[], &[]),
            "jurisdiction.publisher.CN",
            "CN",
            "Bytedance Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)",
        ),
        (
            "Pangle",
            probe("org.example.game", &["com.bytedance.sdk.openadsdk.TTAdSdk"], &[]),
            "jurisdiction.sdk_owner.pangle",
            "CN",
            "Pangle (Bytedance Pte. Ltd.) (SG)",
        ),
        (
            "Mintegral",
            probe("org.example.game", &["com.mbridge.msdk.MBridgeSDK"], &[]),
            "jurisdiction.sdk_owner.mobvista",
            "CN",
            "Mobvista Inc. (KY, run from CN)",
        ),
        (
            "NativeX",
            probe("org.example.game", &["com.nativex.monetization.MonetizationManager"], &[]),
            "jurisdiction.sdk_owner.nativex",
            "CN",
            "NativeX LLC (US) -> Mobvista Inc. (KY, run from CN)",
        ),
        (
            "Outfit7",
            probe("com.outfit7.mytalkingtom2", &[], &[]),
            "jurisdiction.publisher.CN",
            "CN",
            "Outfit7 Limited (CY, run from SI) -> Zhejiang Jinke Tom Culture Industry Co., Ltd. (CN)",
        ),
        (
            "Kaspersky",
            probe("com.kms.free", &[], &[]),
            "jurisdiction.publisher.RU",
            "RU",
            "AO Kaspersky Lab (RU) -> Kaspersky Labs Limited (GB, run from RU)",
        ),
        (
            "AppMetrica 6",
            probe("org.example.shop", &["io.appmetrica.analytics.AppMetrica"], &[]),
            "jurisdiction.sdk_owner.",
            "RU",
            "Yandex",
        ),
        (
            "myTracker",
            probe("org.example.shop", &["com.my.tracker.MyTracker"], &[]),
            "jurisdiction.sdk_owner.mytracker",
            "RU",
            "myTracker (VK) (RU) -> MKPAO VK (RU)",
        ),
        (
            "ByteDance API domain",
            probe("org.example.news", &[], &["api.zijieapi.com"]),
            "jurisdiction.host_owner.zijieapi.com",
            "CN",
            "ByteDance Ltd. (KY, run from CN)",
        ),
        (
            "TikTok CDN domain",
            probe("org.example.news", &[], &["p16-sign-va.tiktokcdn.com"]),
            "jurisdiction.host_owner.tiktokcdn.com",
            "CN",
            "TikTok Pte. Ltd. (SG) -> ByteDance Ltd.",
        ),
        (
            "Volcengine domain",
            probe("org.example.news", &[], &["open.volcengineapi.volces.com"]),
            "jurisdiction.host_owner.volces.com",
            "CN",
            "Volcengine",
        ),
    ];
    for (what, r, factor, country, chain) in cases {
        let f = r
            .risk
            .jurisdiction
            .factors
            .iter()
            .find(|f| f.id.starts_with(factor))
            .unwrap_or_else(|| panic!("{what}: no factor {factor} in {:?}", factor_countries(r)));
        assert_eq!(f.country.as_deref(), Some(*country), "{what}: {f:?}");
        assert!(
            f.evidence.iter().any(|e| e.kind.as_str() == "control" && e.value.contains(chain)),
            "{what}: chain {chain:?} not in {:?}",
            f.evidence
        );
        assert_ne!(decision(r, "nl-aivd"), Decision::Approve, "{what}");
        assert_ne!(decision(r, "us-foreign-adversaries"), Decision::Approve, "{what}");
    }
}

#[test]
fn western_sdks_show_no_country_of_concern() {
    let r = probe(
        "org.example.notes",
        &[
            "com.google.firebase.analytics.FirebaseAnalytics",
            "com.appsflyer.AppsFlyerLib",
            "com.adjust.sdk.Adjust",
            "com.mixpanel.android.mpmetrics.MixpanelAPI",
        ],
        &["app.adjust.com", "api.mixpanel.com"],
    );
    assert!(r.sdks.len() >= 4, "{:?}", r.sdks.iter().map(|s| &s.id).collect::<Vec<_>>());
    let concern = ["CN", "RU", "IR", "KP", "HK", "CU", "VE"];
    for s in &r.sdks {
        let c = s.control.as_ref().expect("owner known");
        assert!(c.countries.iter().all(|x| !concern.contains(&x.as_str())), "{}: {}", s.id, c.chain);
    }
    assert!(factor_countries(&r).iter().all(|(_, c)| !concern.contains(&c.as_str())));
    assert_eq!(decision(&r, "nl-aivd"), Decision::Approve);
    assert_eq!(decision(&r, "us-foreign-adversaries"), Decision::Approve);
}

#[test]
fn a_bytedance_library_is_not_pangle() {
    let r = probe(
        "org.example.tool",
        &["com.bytedance.shadowhook.ShadowHook", "com.bytedance.android.bytehook.ByteHook"],
        &[],
    );
    assert!(r.sdks.iter().all(|s| !s.name.contains("Pangle")), "{:?}", r.sdks);
}

#[test]
fn every_entity_on_a_chain_to_a_country_of_concern_has_a_source() {
    let db = Database::embedded();
    let concern: Vec<String> = ["CN", "RU", "IR", "KP", "HK", "CU", "VE"].map(String::from).to_vec();
    let mut checked = 0;
    for (id, _) in db.entities.by_id.iter() {
        let chain = db.entities.control_chain(id);
        if chain.countries().iter().any(|c| concern.iter().any(|x| x == c)) {
            for e in &chain.path {
                assert!(!e.source.trim().is_empty(), "{} on the chain of {id} has no source", e.id);
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

/// The groups a security office asks about: a domain or app id of each
/// resolves to the country its owner is controlled from.
#[test]
fn the_groups_of_the_issue_resolve_to_their_controlling_country() {
    let db = Database::embedded();
    let cases: &[(&str, &str)] = &[
        ("open.volcengineapi.volces.com", "CN"),
        ("api.byteplus.com", "CN"),
        ("open.larksuite.com", "CN"),
        ("open.feishu.cn", "CN"),
        ("www.capcut.com", "CN"),
        ("examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com", "CN"),
        ("cvm.tencentcloudapi.com", "CN"),
        ("pay.tenpay.com", "CN"),
        ("oss-cn-hangzhou.aliyuncs.com", "CN"),
        ("api.dingtalk.com", "CN"),
        ("aip.baidubce.com", "CN"),
        ("lbs.netease.im", "CN"),
        ("grs.hicloud.com", "CN"),
        ("account.xiaomi.com", "CN"),
        ("www.mi.com", "CN"),
        ("www.hihonor.com", "CN"),
        ("api.heytapmobi.com", "CN"),
        ("www.vivo.com.cn", "CN"),
        ("api.gifshow.com", "CN"),
        ("www.temu.com", "CN"),
        ("api.pinduoduo.com", "CN"),
        ("www.shein.com", "CN"),
        ("hb.rayjump.com", "CN"),
        ("www.bigo.sg", "CN"),
        ("api.jpush.cn", "CN"),
        ("sdk.open.phone.igexin.com", "CN"),
        ("a1.easemob.com", "CN"),
        ("gateway.95516.com", "CN"),
        ("sdk.sensorsdata.cn", "CN"),
        ("api.growingio.com", "CN"),
        ("cloud.tendcloud.com", "CN"),
        ("fp-it.fengkongcloud.com", "CN"),
        ("fp.tongdun.net", "CN"),
        ("api.geetest.com", "CN"),
        ("api.xfyun.cn", "CN"),
        ("ya.ru", "RU"),
        ("appmetrica.yandex.net", "RU"),
        ("api.vk.com", "RU"),
        ("tracker-api.my.com", "RU"),
        ("ksn.kaspersky-labs.com", "RU"),
        ("catalog.api.2gis.ru", "RU"),
        ("getintent.com", "RU"),
        ("browser-intake-datadoghq.com", "US"),
        ("www.clarity.ms", "US"),
        ("sdkapi.moloco.com", "US"),
        ("ib.adnxs.com", "US"),
    ];
    for (target, country) in cases {
        let found = appvet::attribution::why::why(&db, target);
        let control = found
            .iter()
            .find(|r| r.kind == "domain")
            .and_then(|r| r.control.as_ref())
            .unwrap_or_else(|| panic!("{target}: no owned domain in {found:?}"));
        assert_eq!(control.country.as_deref(), Some(*country), "{target}: {}", control.chain);
    }
}

/// Open-source libraries that no company controls (ACRA, Dropwizard
/// Metrics, Solar2D, Alohalytics) are named as what they are and add no
/// country: they are not foreign-controlled parties, under any policy.
#[test]
fn an_uncontrolled_open_source_library_is_not_a_foreign_party() {
    let r = probe(
        "org.example.crashy",
        &[
            "org.acra.ACRA",
            "com.codahale.metrics.MetricRegistry",
            "com.ansca.corona.CoronaActivity",
            "org.alohalytics.Statistics",
        ],
        &[],
    );
    let open: Vec<_> = r
        .sdks
        .iter()
        .filter(|s| s.control.as_ref().is_some_and(|c| c.controller_kind == EntityKind::OpenSource))
        .collect();
    assert_eq!(open.len(), 4, "{:?}", r.sdks.iter().map(|s| (&s.id, &s.control)).collect::<Vec<_>>());
    for s in &open {
        let c = s.control.as_ref().unwrap();
        assert_eq!((c.country.as_deref(), c.countries.len()), (None, 0), "{}", s.id);
        assert!(c.chain.ends_with("(open-source project, no controlling company)"), "{}", c.chain);
        assert_eq!(s.owner_chain[0].kind, EntityKind::OpenSource);
        assert!(s.owner_chain[0].source.contains("github.com"), "{}", s.owner_chain[0].source);
        let owner = s.owner_chain[0].id.as_str();
        assert!(
            r.risk.jurisdiction.factors.iter().all(|f| !f.id.ends_with(owner)),
            "{owner} became a jurisdiction factor"
        );
    }
    let text = appvet::report::text::render(&r);
    assert!(text.contains("open-source project, no controlling company"), "{text}");
    assert_eq!(decision(&r, "nl-aivd"), Decision::Approve);
    assert_eq!(decision(&r, "us-foreign-adversaries"), Decision::Approve);
}

/// A tracker whose vendor could only be named, not traced to a company or
/// country, says so and adds no country; one traced from its own terms to a
/// company keeps that company's country at a lowered confidence.
#[test]
fn unidentified_vendors_add_no_country_and_self_declared_ones_are_medium() {
    let r = probe("org.example.radio", &["com.telequid.Telequid", "com.adtrial.sdk.AdTrial"], &[]);
    let tq = r.sdks.iter().find(|s| s.exodus_id == Some(87)).expect("TeleQuid");
    let c = tq.control.as_ref().unwrap();
    assert_eq!((c.controller_kind, c.country.as_deref()), (EntityKind::Unknown, None));
    let at = r.sdks.iter().find(|s| s.exodus_id == Some(438)).expect("AdTrial");
    let c = at.control.as_ref().unwrap();
    assert_eq!((c.country.as_deref(), c.confidence), (Some("FR"), LinkConfidence::Medium));
    assert_eq!(at.country.as_deref(), Some("FR"));
}
