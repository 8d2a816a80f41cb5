//! Who reaches what: each capability's call sites grouped by the party
//! whose own code holds them (`capabilities[].reached_by[]`): DEX call
//! sites by their caller class, Mach-O and ELF imports by their binary.

use std::collections::{BTreeMap, BTreeSet};

use crate::attribution::parties::Parties;
use crate::database::Database;
use crate::evidence::calls::CallSite;
use crate::evidence::{AppEvidence, UnitKind};
use crate::report::{Party, Reach, Report};

use super::capabilities::api_capabilities;
use super::tables::RiskTables;

/// Caller classes listed per party and capability; `callers_total` counts all.
pub const MAX_CALLERS: usize = 10;

#[derive(Default)]
struct Group {
    apis: BTreeSet<String>,
    callers: BTreeSet<String>,
}

/// Capability id -> its parties, each with the APIs it calls and its caller classes.
pub fn reached_by(
    db: &Database,
    report: &Report,
    evidence: &AppEvidence,
    tables: &RiskTables,
) -> BTreeMap<String, Vec<Reach>> {
    let mut parties = Parties::with_evidence(db, report, evidence);
    let mut groups: BTreeMap<(&str, Party), Group> = BTreeMap::new();
    for unit in &evidence.units {
        if unit.kind != UnitKind::Dex {
            // A Mach-O or ELF binary is one party's code as a whole: its
            // imported symbols are its calls, the binary is the caller.
            let party = parties.of_binary(&unit.source, unit.kind == UnitKind::Native);
            for api in &unit.apis {
                for cap in api_capabilities(unit.kind, api, tables) {
                    let g = groups.entry((cap, party.clone())).or_default();
                    g.apis.insert(api.to_string());
                    g.callers.insert(unit.source.clone());
                }
            }
            continue;
        }
        for site in unit.calls.iter().filter_map(CallSite::parse) {
            let Some(refs) = tables.apis.get(site.api) else { continue };
            let class = site.caller_class();
            let party = parties.of(class);
            for r in refs {
                let g = groups.entry((r.capability.as_str(), party.clone())).or_default();
                g.apis.insert(site.api.to_string());
                g.callers.insert(class.to_string());
            }
        }
    }
    let mut out: BTreeMap<String, Vec<Reach>> = BTreeMap::new();
    for ((cap, party), g) in groups {
        out.entry(cap.to_string()).or_default().push(Reach {
            party,
            apis: g.apis.into_iter().collect(),
            callers_total: u32::try_from(g.callers.len()).unwrap_or(u32::MAX),
            callers: g.callers.into_iter().take(MAX_CALLERS).collect(),
        });
    }
    out
}

/// Parties listed per host at most.
pub const MAX_HOST_PARTIES: usize = 10;

/// Host name -> the parties whose code loads it as a string constant, sorted.
pub fn host_parties(db: &Database, report: &Report, evidence: &AppEvidence) -> BTreeMap<String, Vec<Party>> {
    let mut parties = Parties::with_evidence(db, report, evidence);
    let mut found: BTreeMap<String, BTreeSet<Party>> = BTreeMap::new();
    for unit in &evidence.units {
        for site in unit.calls.iter().filter_map(CallSite::parse) {
            let Some(host) = site.host() else { continue };
            let party = parties.of(site.caller_class());
            found.entry(host.to_string()).or_default().insert(party);
        }
    }
    found.into_iter().map(|(h, set)| (h, set.into_iter().take(MAX_HOST_PARTIES).collect())).collect()
}

/// One call site as `appvet calls` lists it.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct CallRecord {
    /// `Lcls;->member` of the sensitive API.
    pub api: String,
    /// Capability the API reaches (first in table order when several).
    pub capability: String,
    /// `Lcls;->method(args)ret` holding the call.
    pub caller: String,
    /// Code unit (`classes2.dex`, `assets/x.apk!classes.dex`).
    pub source: String,
    pub party: Party,
}

/// Every call site of a sensitive API in the evidence, uncapped, in evidence order.
pub fn call_records(
    db: &Database,
    report: &Report,
    evidence: &AppEvidence,
    tables: &RiskTables,
) -> Vec<CallRecord> {
    let mut parties = Parties::with_evidence(db, report, evidence);
    let mut out = Vec::new();
    for unit in &evidence.units {
        for site in unit.calls.iter().filter_map(CallSite::parse) {
            let Some(r) = tables.apis.get(site.api).and_then(|refs| refs.first()) else { continue };
            out.push(CallRecord {
                api: site.api.to_string(),
                capability: r.capability.clone(),
                caller: site.caller.to_string(),
                source: unit.source.clone(),
                party: parties.of(site.caller_class()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::CodeUnit;
    use crate::report::PartyKind;
    use crate::risk::tests_support;

    const LOCATION: &str = "Landroid/location/LocationManager;->getLastKnownLocation";

    fn reach_of(evidence: &AppEvidence) -> BTreeMap<String, Vec<Reach>> {
        reached_by(&Database::embedded(), &tests_support::report(), evidence, RiskTables::embedded())
    }

    #[test]
    fn call_sites_count_against_the_party_whose_code_holds_them() {
        let mut dex = CodeUnit::new("classes.dex", UnitKind::Dex);
        dex.calls = [
            // AndroidX night mode: a library's call, not the publisher's.
            format!("{LOCATION}\tLandroidx/appcompat/app/TwilightManager;->a()Landroid/location/Location;"),
            format!("{LOCATION}\tLcom/example/t/Main;->b()V"),
            format!("{LOCATION}\tLcom/example/t/Main;->c()V"),
            // Tencent's namespace, no signature: inferred, with the basis.
            format!("{LOCATION}\tLcom/tencent/a/b/e;->a()V"),
        ]
        .iter()
        .collect();
        let ev = AppEvidence { units: vec![dex], ..Default::default() };
        let reach = reach_of(&ev);
        let location = &reach["location"];
        let kinds: Vec<(PartyKind, &str)> =
            location.iter().map(|r| (r.party.kind, r.party.id.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (PartyKind::App, "com.example.t"),
                (PartyKind::Sdk, "com.tencent"),
                (PartyKind::Library, "androidx")
            ]
        );
        assert_eq!(location[0].callers, ["Lcom/example/t/Main;"]);
        assert_eq!(location[0].apis, [LOCATION]);
        assert_eq!(location[1].party.country.as_deref(), Some("CN"));
        assert!(location[1].party.inferred.as_deref().is_some_and(|b| b.contains("com.tencent")));
    }

    #[test]
    fn a_renamed_package_that_loads_an_sdk_host_is_that_sdks() {
        let db = Database::embedded();
        let m = &db.sdks;
        let (i, _) = m.match_host("lbs.map.qq.com").expect("a Tencent map host in the database");
        let def = m.defs.get(i).unwrap();
        let target = def.exodus_id.and_then(|x| m.exodus_claim(x)).unwrap_or(i);
        let id = m.defs.get(target).unwrap().id.clone();
        let mut report = tests_support::report();
        report.sdks.push(crate::report::Sdk { id: id.clone(), name: "Maps".into(), ..Default::default() });
        let mut dex = CodeUnit::new("classes.dex", UnitKind::Dex);
        dex.calls = [format!("{LOCATION}\tLa/b/c;->a()V"), "host:lbs.map.qq.com\tLa/b/d;->b()V".to_string()]
            .iter()
            .collect();
        let ev = AppEvidence { units: vec![dex], ..Default::default() };
        let reach = reached_by(&db, &report, &ev, RiskTables::embedded());
        let party = &reach["location"][0].party;
        assert_eq!((party.kind, party.id.as_str()), (PartyKind::Sdk, id.as_str()));
        assert_eq!(party.inferred.as_deref(), Some("code of its package loads lbs.map.qq.com (a.b.d)"));
        // The class holding the host is placed by its own code.
        let holder = &host_parties(&db, &report, &ev)["lbs.map.qq.com"][0];
        assert_eq!(holder.id, id);
        assert_eq!(holder.inferred.as_deref(), Some("its code loads lbs.map.qq.com"));
    }

    /// The reported SDK the database gives native library `lib` to.
    fn sdk_of_library(db: &Database, lib: &str) -> crate::report::Sdk {
        sdk_of(db, db.sdks.match_native_lib(lib).unwrap_or_else(|| panic!("{lib} in the database")))
    }

    /// The SDK entry `i` is reported as (an Exodus entry folds into the curated one claiming it).
    fn sdk_of(db: &Database, i: usize) -> crate::report::Sdk {
        let m = &db.sdks;
        let def = m.defs.get(i).unwrap();
        let target = def.exodus_id.and_then(|x| m.exodus_claim(x)).unwrap_or(i);
        let d = m.defs.get(target).unwrap();
        crate::report::Sdk { id: d.id.clone(), name: d.name.clone(), ..Default::default() }
    }

    #[test]
    fn renamed_code_that_loads_an_sdks_native_library_is_that_sdks() {
        let db = Database::embedded();
        let sdk = sdk_of_library(&db, "libBugly.so");
        let mut report = tests_support::report();
        report.sdks.push(sdk.clone());
        let mut dex = CodeUnit::new("classes.dex", UnitKind::Dex);
        dex.calls = [
            format!("{LOCATION}	Lo/x;->a()V"),
            format!("{LOCATION}	Lo/y;->a()V"),
            "lib:libBugly.so	Lo/x;-><clinit>()V".to_string(),
            // Not a library the database knows: places nothing.
            "lib:libfoo.so	Lp/q;-><clinit>()V".to_string(),
            format!("{LOCATION}	Lp/q;->a()V"),
        ]
        .iter()
        .collect();
        let ev = AppEvidence { units: vec![dex], ..Default::default() };
        let reach = reached_by(&db, &report, &ev, RiskTables::embedded());
        let by: Vec<(PartyKind, &str, Option<&str>)> = reach["location"]
            .iter()
            .map(|r| (r.party.kind, r.party.id.as_str(), r.party.inferred.as_deref()))
            .collect();
        assert_eq!(
            by,
            [
                (
                    PartyKind::Sdk,
                    sdk.id.as_str(),
                    Some("code of its package loads the native library libBugly.so (o.x)")
                ),
                (PartyKind::Sdk, sdk.id.as_str(), Some("its code loads the native library libBugly.so")),
                (PartyKind::Unattributed, "p", None),
            ]
        );
    }

    #[test]
    fn a_package_whose_code_points_at_two_sdks_places_only_its_own_classes() {
        let db = Database::embedded();
        let bugly = sdk_of_library(&db, "libBugly.so");
        let maps = sdk_of(&db, db.sdks.match_host("lbs.map.qq.com").unwrap().0);
        assert_ne!(maps.id, bugly.id, "two different SDKs");
        let mut report = tests_support::report();
        report.sdks.push(bugly.clone());
        report.sdks.push(maps);
        let mut dex = CodeUnit::new("classes.dex", UnitKind::Dex);
        dex.calls = [
            "lib:libBugly.so	Lo/x;->a()V".to_string(),
            "host:lbs.map.qq.com	Lo/y;->a()V".to_string(),
            format!("{LOCATION}	Lo/x;->b()V"),
            format!("{LOCATION}	Lo/z;->b()V"),
        ]
        .iter()
        .collect();
        let ev = AppEvidence { units: vec![dex], ..Default::default() };
        let reach = reached_by(&db, &report, &ev, RiskTables::embedded());
        let by: Vec<(PartyKind, &str)> =
            reach["location"].iter().map(|r| (r.party.kind, r.party.id.as_str())).collect();
        assert_eq!(by, [(PartyKind::Sdk, bugly.id.as_str()), (PartyKind::Unattributed, "o")]);
    }

    #[test]
    fn a_binary_is_the_caller_of_its_imports() {
        let mut lib = CodeUnit::new("lib/arm64-v8a/libfoo.so", UnitKind::Native);
        lib.apis = [LOCATION].into();
        let ev = AppEvidence { units: vec![lib], ..Default::default() };
        let reach = reach_of(&ev);
        let r = &reach["location"][0];
        assert_eq!((r.party.kind, r.party.id.as_str()), (PartyKind::Unattributed, "libfoo.so"));
        assert_eq!(r.callers, ["lib/arm64-v8a/libfoo.so"]);

        let symbol = "_OBJC_CLASS_$_CLLocationManager";
        let mut main = CodeUnit::new("Payload/T.app/T", UnitKind::Macho);
        main.apis = [symbol].into();
        let mut framework = CodeUnit::new("Payload/T.app/Frameworks/Geo.framework/Geo", UnitKind::Macho);
        framework.apis = [symbol].into();
        let ev = AppEvidence { units: vec![main, framework], ..Default::default() };
        let parties: Vec<(PartyKind, String)> =
            reach_of(&ev)["location"].iter().map(|r| (r.party.kind, r.party.id.clone())).collect();
        assert_eq!(
            parties,
            [(PartyKind::App, "com.example.t".into()), (PartyKind::Unattributed, "Geo".into())]
        );
    }
}
