//! Parties: who a class belongs to. A call site counts against the party
//! whose own code holds it: an SDK the database matches by the class's
//! name, the publisher (the app's package), a platform library that runs
//! for whoever calls it (AndroidX night mode reads the location for the
//! app's theme, not for its publisher), or no one known.

use rustc_hash::FxHashMap;

use crate::database::entities::PrefixKind;
use crate::database::sdks::ClassMatcher;
use crate::database::Database;
use crate::evidence::calls::CallSite;
use crate::evidence::AppEvidence;
use crate::report::{Party, PartyKind, Report};

use super::slashed_class_name;

/// Libraries of the Android, Kotlin and Google toolchains, by slashed
/// package prefix, with the name shown. Their code calls APIs on behalf of
/// the code that uses them, so a call there is no party's own collection.
const LIBRARIES: &[(&str, &str)] = &[
    ("androidx/", "AndroidX"),
    ("android/support/", "Android Support Library"),
    ("android/arch/", "Android Architecture Components"),
    ("kotlin/", "Kotlin standard library"),
    ("kotlinx/", "Kotlin extensions"),
    ("com/google/android/material/", "Material Components"),
    ("com/google/android/gms/common/", "Google Play services"),
    ("com/google/android/gms/internal/", "Google Play services"),
    ("com/google/android/gms/tasks/", "Google Play services"),
    ("com/google/common/", "Guava"),
    ("java/", "Java class library"),
    ("javax/", "Java class library"),
];

/// Resolves classes to parties for one report; remembers each package.
pub struct Parties<'a> {
    classes: ClassMatcher<'a>,
    db: &'a Database,
    report: &'a Report,
    /// `com/example/app/` from the app's package name.
    app_prefix: Option<String>,
    cache: FxHashMap<String, Party>,
    hits: Vec<crate::database::sdks::ClassHit>,
    /// What places renamed (R8) SDK code: classes whose own code loads a
    /// reported SDK's host or native library.
    inferred: Inferred,
}

/// Renamed code placed by what its code loads. A class is placed by its own
/// evidence; the other classes of its package by the package's, when all
/// of the package's evidence names one SDK (a package R8 filled with
/// several SDKs' code places none of them).
#[derive(Default)]
struct Inferred {
    /// Slashed class name -> (SDK index, why).
    classes: FxHashMap<String, (usize, String)>,
    /// Slashed package -> (SDK index, why), `None` once two SDKs are seen.
    packages: FxHashMap<String, Option<(usize, String)>>,
}

impl Inferred {
    /// `loads`: what `class`'s code loads (`api.example.com`, `the native library libx.so`).
    fn add(&mut self, class: &str, sdk: usize, loads: &str) {
        let package = class.rsplit_once('/').map_or("", |(p, _)| p);
        if !package.is_empty() {
            match self.packages.get_mut(package) {
                None => {
                    let why = format!("code of its package loads {loads} ({})", class.replace('/', "."));
                    self.packages.insert(package.to_string(), Some((sdk, why)));
                }
                Some(seen) => {
                    if seen.as_ref().is_some_and(|(i, _)| *i != sdk) {
                        *seen = None;
                    }
                }
            }
        }
        self.classes.entry(class.to_string()).or_insert_with(|| (sdk, format!("its code loads {loads}")));
    }

    fn get(&self, class: &str, package: &str) -> Option<&(usize, String)> {
        self.classes.get(class).or_else(|| self.packages.get(package)?.as_ref())
    }
}

impl<'a> Parties<'a> {
    pub fn new(db: &'a Database, report: &'a Report) -> Self {
        let app_prefix = report
            .app
            .id
            .as_deref()
            .filter(|id| !id.is_empty())
            .map(|id| format!("{}/", id.replace('.', "/")));
        Parties {
            classes: db.sdks.class_matcher(),
            db,
            report,
            app_prefix,
            cache: FxHashMap::default(),
            hits: Vec::new(),
            inferred: Inferred::default(),
        }
    }

    /// Like [`Parties::new`], also placing code that no name matches by
    /// what it loads (the `host:` and `lib:` lines of the call sites): a
    /// class whose strings name a reported SDK's domain, or that loads a
    /// native library the database gives to a reported SDK, is that SDK's,
    /// `inferred` with the host or library; so is the rest of its package
    /// when nothing there points at another SDK.
    pub fn with_evidence(db: &'a Database, report: &'a Report, evidence: &AppEvidence) -> Self {
        let mut p = Parties::new(db, report);
        for site in evidence.units.iter().flat_map(|u| u.calls.iter()).filter_map(CallSite::parse) {
            let (sdk, loads) = if let Some(host) = site.host() {
                (db.sdks.match_host(host).map(|(i, _)| i), host.to_string())
            } else if let Some(lib) = site.library() {
                (db.sdks.match_native_lib(lib), format!("the native library {lib}"))
            } else {
                continue;
            };
            let Some(sdk) = sdk.filter(|&i| p.sdk_party(i).is_some()) else { continue };
            let Some(name) = slashed_class_name(site.caller_class()) else { continue };
            p.inferred.add(name, sdk, &loads);
        }
        p
    }

    /// The party of a class descriptor (`Lcom/tencent/a/b/e;`) or member
    /// reference (`Lcom/tencent/a/b/e;->a(I)V`).
    pub fn of(&mut self, descriptor: &str) -> Party {
        let name = slashed_class_name(descriptor).unwrap_or(descriptor);
        let package = name.rsplit_once('/').map_or("", |(p, _)| p);
        if let Some(p) = self.cache.get(name) {
            return p.clone();
        }
        let party = self.resolve(name, package);
        self.cache.insert(name.to_string(), party.clone());
        party
    }

    /// The reported SDK of database entry `index` (after an Exodus entry is
    /// folded into the curated one that claims it), if the report lists it.
    fn sdk_party(&self, index: usize) -> Option<Party> {
        let m = &self.db.sdks;
        let def = m.defs.get(index)?;
        let target = def.exodus_id.and_then(|x| m.exodus_claim(x)).unwrap_or(index);
        let id = m.defs.get(target).map_or(def.id.as_str(), |d| d.id.as_str());
        let sdk = self.report.sdks.iter().find(|s| s.id == id)?;
        Some(Party {
            kind: PartyKind::Sdk,
            id: sdk.id.clone(),
            name: sdk.name.clone(),
            owner: sdk.owner.clone(),
            country: sdk.country.clone(),
            inferred: None,
        })
    }

    /// The party of a whole binary: a framework or native library the
    /// database names is its SDK's; the app's own executables (main, app
    /// extensions) are the publisher's; any other library is unattributed.
    pub fn of_binary(&mut self, source: &str, native: bool) -> Party {
        let file = source.rsplit(['/', '!']).next().unwrap_or(source);
        let m = &self.db.sdks;
        let matched = if native {
            m.match_native_lib(file)
        } else {
            source
                .rsplit_once(".framework/")
                .map(|(dir, _)| dir.rsplit('/').next().unwrap_or(dir))
                .and_then(|f| m.match_framework(f))
        };
        if let Some(p) = matched.and_then(|i| self.sdk_party(i)) {
            return p;
        }
        if native || source.contains(".framework/") {
            return Party {
                kind: PartyKind::Unattributed,
                id: file.to_string(),
                name: file.to_string(),
                owner: None,
                country: None,
                inferred: None,
            };
        }
        self.app_party(file)
    }

    /// The publisher's party; `fallback_id` names it when the app has no id.
    fn app_party(&self, fallback_id: &str) -> Party {
        // The strongest publisher links naming a company and a country (Strong sorts first).
        let links = &self.report.publisher.links;
        let link = links.iter().filter(|l| l.entity.is_some()).min_by_key(|l| l.confidence);
        let placed = links.iter().filter(|l| l.country.is_some()).min_by_key(|l| l.confidence);
        Party {
            kind: PartyKind::App,
            id: self.report.app.id.clone().unwrap_or_else(|| fallback_id.to_string()),
            name: self.report.app.name.clone().unwrap_or_default(),
            owner: link.and_then(|l| l.entity.clone()),
            country: placed.and_then(|l| l.country.clone()),
            inferred: None,
        }
    }

    fn resolve(&mut self, name: &str, package: &str) -> Party {
        self.hits.clear();
        self.classes.match_class(name, &mut self.hits);
        let hits = std::mem::take(&mut self.hits);
        let party = hits.iter().find_map(|h| self.sdk_party(h.sdk));
        self.hits = hits;
        if let Some(p) = party {
            return p;
        }
        if let Some((_, lib)) = LIBRARIES.iter().find(|(p, _)| name.starts_with(p)) {
            return Party {
                kind: PartyKind::Library,
                id: lib.to_lowercase().replace(' ', "-"),
                name: (*lib).to_string(),
                owner: None,
                country: None,
                inferred: None,
            };
        }
        let dotted = package.replace('/', ".");
        if self.app_prefix.as_deref().is_some_and(|p| name.starts_with(p)) {
            return self.app_party(&dotted);
        }
        // Code under a company's own namespace (`com.alipay.mobilesecuritysdk`,
        // Alipay's device-fingerprint SDK, which no signature lists) is that
        // company's, though not a known SDK: inferred, and saying from what.
        let entities = &self.db.entities;
        if let Some(p) = entities.publisher_prefix(&dotted, PrefixKind::Package) {
            if let Some(e) = entities.by_id.get(&p.entity) {
                return Party {
                    kind: PartyKind::Sdk,
                    id: p.prefix.clone(),
                    name: format!("{} code", p.prefix),
                    owner: Some(e.name.clone()),
                    country: e.country.clone(),
                    inferred: Some(format!("namespace {}: {}", p.prefix, p.entity)),
                };
            }
        }
        if let Some((i, why)) = self.inferred.get(name, package) {
            if let Some(mut p) = self.sdk_party(*i) {
                p.inferred = Some(why.clone());
                return p;
            }
        }
        Party {
            kind: PartyKind::Unattributed,
            name: dotted.clone(),
            id: dotted,
            owner: None,
            country: None,
            inferred: None,
        }
    }
}
