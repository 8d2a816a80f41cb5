//! `appvet sigs`: statistics about the signature database and a consistency
//! check (regexes compile, ids unique, owners have a country and a source,
//! no ownership cycles).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use appvet::database::{Database, EntityKind, LinkKind};

use super::error::write_stdout;
use super::{Error, EXIT_OK};

#[derive(clap::Args)]
pub struct SigsArgs {
    #[command(subcommand)]
    command: SigsCommand,
    /// Use the signature database in this directory instead of the embedded one.
    #[arg(long, global = true)]
    signatures: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum SigsCommand {
    /// Counts by kind, country and category.
    Stats {
        /// text or json
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Checks the database; exits 1 when a problem is found.
    Check,
    /// How a domain, package prefix, SDK id or entity id resolves, link by
    /// link up to the country that controls it, with each link's source.
    Why {
        /// A domain or host, a package / bundle id or class prefix, an SDK id or an entity id.
        target: String,
        /// text or json
        #[arg(long, default_value = "text")]
        format: String,
    },
}

pub fn run(args: SigsArgs) -> Result<i32, Error> {
    let db = match &args.signatures {
        Some(dir) => Database::load_dir(dir).map_err(|e| Error::Signatures(e.to_string()))?,
        None => Database::embedded(),
    };
    match args.command {
        SigsCommand::Stats { format } => match format.as_str() {
            "json" => write_stdout(
                (serde_json::to_string_pretty(&stats(&db)).unwrap_or_default() + "\n").as_bytes(),
            ),
            "text" => write_stdout(render_text(&stats(&db)).as_bytes()),
            other => Err(Error::Usage(format!("unknown format {other:?} (text or json)"))),
        },
        SigsCommand::Why { target, format } => {
            let found = appvet::attribution::why::why(&db, &target);
            match format.as_str() {
                "json" => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"target": target, "resolutions": found})
                    )
                    .unwrap_or_default()
                ),
                "text" => print!("{}", appvet::attribution::why::render(&target, &found)),
                other => return Err(Error::Usage(format!("unknown format {other:?} (text or json)"))),
            }
            // Like grep: 1 when the database knows nothing of the target.
            Ok(if found.is_empty() { 1 } else { EXIT_OK })
        }
        SigsCommand::Check => {
            let problems = check(&db);
            let mut text = String::new();
            for p in &problems {
                text.push_str(&format!("{p}\n"));
            }
            if problems.is_empty() {
                text.push_str(&format!("signatures {}: ok\n", db.version));
            } else {
                text.push_str(&format!("signatures {}: {} problems\n", db.version, problems.len()));
            }
            write_stdout(text.as_bytes())?;
            Ok(if problems.is_empty() { EXIT_OK } else { 1 })
        }
    }
}

/// The row of a country table for an entity without a country: an
/// open-source project that no company controls is not "unknown".
fn no_country(kind: Option<EntityKind>) -> String {
    match kind {
        Some(EntityKind::OpenSource) => "open-source".into(),
        _ => "unknown".into(),
    }
}

/// Registered country of an SDK's owner, `open-source` or `unknown`.
fn owner_country(db: &Database, owner: Option<&str>) -> String {
    let e = owner.and_then(|o| db.entities.by_id.get(o));
    e.and_then(|e| e.country.clone()).unwrap_or_else(|| no_country(e.map(|e| e.kind)))
}

/// Country an entity is controlled from (the end of its chain of control),
/// `open-source` (no company controls it) or `unknown`.
fn controlling_country(db: &Database, owner: Option<&str>) -> String {
    let chain = owner.map(|o| db.entities.control_chain(o)).unwrap_or_default();
    chain.country().map(str::to_string).unwrap_or_else(|| no_country(chain.controller().map(|e| e.kind)))
}

pub fn stats(db: &Database) -> serde_json::Value {
    let defs = &db.sdks.defs;
    let exodus = defs.iter().filter(|d| d.exodus_id.is_some()).count();
    let ios =
        defs.iter().filter(|d| !d.ios_frameworks.is_empty() || !d.ios_class_prefixes.is_empty()).count();
    let native =
        defs.iter().filter(|d| !d.native_libs.is_empty() || !d.native_lib_prefixes.is_empty()).count();
    let packers = defs.iter().filter(|d| d.packer).count();
    let non_exodus = defs.len() - exodus;
    let with_owner = defs.iter().filter(|d| d.owner.is_some()).count();
    let mut by_country: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_control: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    let exodus_owned = defs.iter().filter(|d| d.exodus_id.is_some() && d.owner.is_some()).count();
    for d in defs.iter() {
        *by_country.entry(owner_country(db, d.owner.as_deref())).or_default() += 1;
        *by_control.entry(controlling_country(db, d.owner.as_deref())).or_default() += 1;
        for c in &d.categories {
            *by_category.entry(c.clone()).or_default() += 1;
        }
    }
    let mut domains_by_country: BTreeMap<String, usize> = BTreeMap::new();
    let mut domains_by_control: BTreeMap<String, usize> = BTreeMap::new();
    let mut domains_with_owner = 0;
    for owner in db.entities.domains.values() {
        if let Some(e) = db.entities.by_id.get(&owner.entity) {
            domains_with_owner += 1;
            *domains_by_country.entry(e.country.clone().unwrap_or_else(|| "unknown".into())).or_default() +=
                1;
            *domains_by_control.entry(controlling_country(db, Some(&e.id))).or_default() += 1;
        }
    }
    let curated = db.entities.by_id.values().filter(|e| e.curated).count();
    // What stands behind each Exodus tracker: a company, an open-source
    // project, a vendor whose company is unknown, or nothing recorded.
    let mut exodus_owner_kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for d in defs.iter().filter(|d| d.exodus_id.is_some()) {
        let kind = d.owner.as_deref().and_then(|o| db.entities.by_id.get(o)).map(|e| e.kind.as_str());
        *exodus_owner_kinds.entry(kind.unwrap_or("none")).or_default() += 1;
    }
    // Owners: the entities that own an SDK, a domain or a publisher prefix.
    let mut owners: Vec<&str> = defs.iter().filter_map(|d| d.owner.as_deref()).collect();
    owners.extend(db.entities.domains.values().map(|o| o.entity.as_str()));
    owners.extend(db.entities.publishers.iter().map(|p| p.entity.as_str()));
    owners.sort_unstable();
    owners.dedup();
    let mut owners_registered: BTreeMap<String, usize> = BTreeMap::new();
    let mut owners_controlled: BTreeMap<String, usize> = BTreeMap::new();
    for o in &owners {
        *owners_registered.entry(owner_country(db, Some(o))).or_default() += 1;
        *owners_controlled.entry(controlling_country(db, Some(o))).or_default() += 1;
    }
    serde_json::json!({
        "version": db.version,
        "sdks": {
            "total": defs.len(),
            "exodus": exodus,
            "non_exodus": non_exodus,
            "ios": ios,
            "native": native,
            "packers": packers,
            "with_owner": with_owner,
            "exodus_with_owner": exodus_owned,
            "exodus_owner_kinds": exodus_owner_kinds,
            "code_patterns": db.sdks.wild_pattern_count(),
            "by_owner_country": by_country,
            "by_owner_controlling_country": by_control,
            "by_category": by_category,
        },
        "entities": {
            "total": db.entities.by_id.len(),
            "curated": curated,
            "imported": db.entities.by_id.len() - curated,
        },
        "owners": {
            "total": owners.len(),
            "by_registered_country": owners_registered,
            "by_controlling_country": owners_controlled,
        },
        "domains": {
            "total": db.entities.domains.len(),
            "with_owner": domains_with_owner,
            "by_country": domains_by_country,
            "by_controlling_country": domains_by_control,
        },
        "publisher_prefixes": db.entities.publishers.len(),
        "permissions": db.permissions.len(),
    })
}

fn render_text(s: &serde_json::Value) -> String {
    let mut out = format!("signature database {}\n", s["version"].as_str().unwrap_or("?"));
    let sdks = &s["sdks"];
    out.push_str(&format!(
        "sdks: {} ({} Exodus trackers, {} of them with an owner, {} others; {} iOS, {} native, {} packers; {} with an owner)\n",
        sdks["total"],
        sdks["exodus"],
        sdks["exodus_with_owner"],
        sdks["non_exodus"],
        sdks["ios"],
        sdks["native"],
        sdks["packers"],
        sdks["with_owner"]
    ));
    out.push_str(&format!(
        "entities: {} ({} curated); domains: {} ({} with an owner); publisher prefixes: {}; permissions: {}\n",
        s["entities"]["total"],
        s["entities"]["curated"],
        s["domains"]["total"],
        s["domains"]["with_owner"],
        s["publisher_prefixes"],
        s["permissions"]
    ));
    for (title, map) in [
        ("Exodus trackers by what owns them", &sdks["exodus_owner_kinds"]),
        ("sdks by owner country", &sdks["by_owner_country"]),
        ("sdks by owner's controlling country", &sdks["by_owner_controlling_country"]),
        ("sdks by category", &sdks["by_category"]),
        ("owners by registered country", &s["owners"]["by_registered_country"]),
        ("owners by controlling country", &s["owners"]["by_controlling_country"]),
        ("domains by owner country", &s["domains"]["by_country"]),
        ("domains by owner's controlling country", &s["domains"]["by_controlling_country"]),
    ] {
        out.push_str(&format!("{title}:\n"));
        let mut rows: Vec<(&String, u64)> = map
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k, v.as_u64().unwrap_or(0))).collect())
            .unwrap_or_default();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (k, v) in rows {
            out.push_str(&format!("  {k:<20} {v}\n"));
        }
    }
    out
}

/// Every problem in the database, one line each.
pub fn check(db: &Database) -> Vec<String> {
    let mut problems: Vec<String> = db.sdks.problems.clone();
    let mut ids = HashSet::new();
    let mut exodus_ids = HashSet::new();
    let known_exodus: HashSet<u32> = db.sdks.defs.iter().filter_map(|d| d.exodus_id).collect();
    let mut claimed = HashSet::new();
    for d in db.sdks.defs.iter() {
        // `same_as` folds an Exodus tracker into this entry: it must name one real tracker, once.
        for s in &d.same_as {
            match s.strip_prefix("exodus:").map(str::parse::<u32>) {
                Some(Ok(x)) if !known_exodus.contains(&x) => {
                    problems.push(format!("sdk {}: same_as {s}: no such Exodus tracker", d.id))
                }
                Some(Ok(x)) if !claimed.insert(x) => {
                    problems.push(format!("sdk {}: same_as {s}: claimed by another sdk too", d.id))
                }
                Some(Ok(_)) => {}
                _ => problems.push(format!("sdk {}: same_as {s:?}: expected exodus:<id>", d.id)),
            }
        }
        if d.exodus_id.is_some() && !d.same_as.is_empty() {
            problems.push(format!("sdk {}: an Exodus tracker cannot itself be same_as another", d.id));
        }
        if d.same_as_exodus().count() > 1 {
            problems.push(format!("sdk {}: same_as names more than one Exodus tracker", d.id));
        }
        if !ids.insert(d.id.as_str()) {
            problems.push(format!("sdk {}: duplicate id", d.id));
        }
        if let Some(x) = d.exodus_id {
            if !exodus_ids.insert(x) {
                problems.push(format!("sdk {}: exodus id {x} used twice", d.id));
            }
        }
        if d.source.trim().is_empty() {
            problems.push(format!("sdk {}: no source", d.id));
        }
        if let Some(o) = &d.owner {
            if !db.entities.by_id.contains_key(o) {
                problems.push(format!("sdk {}: owner {o} is not an entity", d.id));
            }
        }
        // Every Exodus tracker names what stands behind it: a company, an
        // open-source project or a vendor recorded as unidentified, each
        // with the source that says so (sdks/exodus_owners.tsv).
        if let (Some(x), None) = (d.exodus_id, &d.owner) {
            problems.push(format!("sdk {}: Exodus tracker #{x} has no owner", d.id));
        }
    }
    let mut entity_ids: Vec<&str> = db.entities.by_id.keys().collect();
    entity_ids.sort();
    for id in entity_ids {
        let Some(e) = db.entities.by_id.get(id) else { continue };
        match (&e.country, e.kind) {
            (None, EntityKind::Company) => problems.push(format!("entity {id}: no country")),
            // Neither has a country: a project with a steward names it as its
            // parent, and a vendor whose country is known is a company.
            (Some(_), EntityKind::OpenSource | EntityKind::Unknown) => problems.push(format!(
                "entity {id}: an {} entity has no country of its own",
                e.kind.as_str().replace('_', "-")
            )),
            (Some(c), _) if c.len() != 2 || !c.chars().all(|x| x.is_ascii_uppercase()) => {
                problems.push(format!("entity {id}: country {c:?} is not ISO 3166-1 alpha-2 upper case"))
            }
            _ => {}
        }
        if e.kind == EntityKind::Unknown && e.parent.is_some() {
            problems.push(format!("entity {id}: a vendor whose company is unknown cannot have a parent"));
        }
        if e.source.trim().is_empty() {
            problems.push(format!("entity {id}: no source"));
        }
        // A parent's country is its own: an importer that copies a
        // subsidiary's country onto its parent says so in the source, and a
        // company the data sets name only as a parent has no country of its
        // own there, so one that carries a country took its child's.
        if e.source.contains("country of subsidiary")
            || e.source.contains("parent named only")
            || (e.country.is_some() && e.source.contains("named as a parent"))
        {
            problems.push(format!("entity {id}: country inherited from a subsidiary ({})", e.source));
        }
        if e.curated && e.parent.is_some() && e.link.as_ref().is_some_and(|l| l.kind == LinkKind::Unstated) {
            problems.push(format!(
                "entity {id}: curated parent link without its kind (wholly_owned, acquired:DATE ...)"
            ));
        }
        if let Some(p) = &e.parent {
            if !db.entities.by_id.contains_key(p) {
                problems.push(format!("entity {id}: parent {p} is not an entity"));
            }
        }
    }
    for id in db.entities.cycles() {
        problems.push(format!("entity {id}: ownership cycle"));
    }
    let mut domains: Vec<(&str, &String)> = db.entities.domains.iter().map(|(d, o)| (d, &o.entity)).collect();
    domains.sort();
    for (d, owner) in domains {
        if !db.entities.by_id.contains_key(owner) {
            problems.push(format!("domain {d}: owner {owner} is not an entity"));
        }
    }
    for p in &db.entities.publishers {
        if !db.entities.by_id.contains_key(&p.entity) {
            problems.push(format!("publisher prefix {}: entity {} is not an entity", p.prefix, p.entity));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_countries_missing_sources_and_unstated_curated_links_are_problems() {
        let mut db = Database::embedded();
        let mut t = appvet::database::entities::EntityTables::default();
        t.add_entities(
            "p\tParent\t\tUS\t\tX-Ray 2020, country of subsidiary\nc\tChild\tp\tUS\t\ts\nn\tNo source\t\tUS\t\t\n",
            "curated.tsv",
            true,
        )
        .unwrap();
        db.entities = appvet::database::Deferred::ready(t.into_lookup().unwrap(), Default::default);
        let problems = check(&db);
        assert!(problems.iter().any(|p| p.starts_with("entity p: country inherited")), "{problems:?}");
        assert!(
            problems.iter().any(|p| p.starts_with("entity c: curated parent link without")),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p == "entity n: no source"), "{problems:?}");
    }

    fn with_entities(curated: &str, imported: &str) -> Database {
        let mut db = Database::embedded();
        let mut t = appvet::database::entities::EntityTables::default();
        t.add_entities(curated, "curated.tsv", true).unwrap();
        t.add_entities(imported, "imported.tsv", false).unwrap();
        db.entities = appvet::database::Deferred::ready(t.into_lookup().unwrap(), Default::default);
        db
    }

    #[test]
    fn a_parent_named_only_as_a_parent_cannot_carry_a_country() {
        // The importer's record of a parent it met only as somebody's parent:
        // with a country, that country can only be the child's.
        let db = with_entities(
            "",
            "child\tChild Ltd\tholding\tGB\t\tX-Ray 2020\n\
             holding\tHolding\t\tGB\t\tTrackerControl X-Ray 2020 (GPL-3.0), named as a parent\n",
        );
        let problems = check(&db);
        assert!(problems.iter().any(|p| p.starts_with("entity holding: country inherited")), "{problems:?}");
        assert!(!problems.iter().any(|p| p.starts_with("entity child: country inherited")), "{problems:?}");
    }

    #[test]
    fn open_source_and_unknown_owners_need_no_country_but_a_source_and_no_made_up_country() {
        let db = with_entities(
            "acra\tACRA\t\t\t\thttps://github.com/ACRA/acra (Apache-2.0)\t\t\t\topen_source\n\
             tq\tTeleQuid\t\t\t\t\t\t\t\tunknown\n\
             vx\tVeloxity\t\tTR\t\tguess\t\t\t\tunknown\n\
             co\tNo Country Ltd\t\t\t\ts\n",
            "",
        );
        let problems: Vec<String> = check(&db).into_iter().filter(|p| p.starts_with("entity ")).collect();
        assert!(!problems.iter().any(|p| p.starts_with("entity acra")), "{problems:?}");
        assert!(problems.contains(&"entity tq: no source".to_string()), "{problems:?}");
        assert!(
            problems.contains(&"entity vx: an unknown entity has no country of its own".to_string()),
            "{problems:?}"
        );
        assert!(problems.contains(&"entity co: no country".to_string()), "{problems:?}");
    }

    #[test]
    fn an_exodus_tracker_without_owner_is_a_problem() {
        let mut db = Database::embedded();
        let mut defs: Vec<appvet::database::SdkDef> = db.sdks.defs.iter().cloned().collect();
        let t = defs.iter().position(|d| d.exodus_id == Some(444)).unwrap();
        assert!(defs[t].owner.is_some(), "ACRA's owner is recorded");
        defs[t].owner = None;
        db.sdks = appvet::database::Deferred::ready(appvet::database::SdkMatcher::compile(defs), || {
            appvet::database::SdkMatcher::compile(Vec::new())
        });
        let problems = check(&db);
        assert_eq!(problems, vec!["sdk exodus-444: Exodus tracker #444 has no owner".to_string()]);
    }

    #[test]
    fn stats_count_owners_by_registered_and_controlling_country() {
        let s = stats(&Database::embedded());
        let sdks = &s["sdks"];
        assert_eq!(sdks["exodus"], sdks["exodus_with_owner"], "every Exodus tracker has an owner");
        assert!(sdks["exodus_owner_kinds"].get("none").is_none());
        assert!(sdks["exodus_owner_kinds"]["open_source"].as_u64().unwrap() >= 4);
        // TikTok's owner is registered in SG but controlled from CN.
        let reg = &s["owners"]["by_registered_country"];
        let ctl = &s["owners"]["by_controlling_country"];
        assert!(ctl["CN"].as_u64().unwrap() > reg["CN"].as_u64().unwrap(), "{reg} {ctl}");
        assert!(ctl.get("KY").is_none_or(|v| v.as_u64() < reg["KY"].as_u64()), "{reg} {ctl}");
        assert!(ctl["open-source"].as_u64().unwrap() >= 4, "{ctl}");
    }

    #[test]
    fn same_as_must_name_one_real_exodus_tracker_once() {
        let mut db = Database::embedded();
        assert_eq!(check(&db), Vec::<String>::new());
        let mut defs: Vec<appvet::database::SdkDef> = db.sdks.defs.iter().cloned().collect();
        let first = defs.iter().position(|d| d.id == "umeng").unwrap();
        let second = defs.iter().position(|d| d.id == "tencent-bugly").unwrap();
        defs[first].same_as = vec!["exodus:119".into(), "exodus:99999".into(), "libradar:x".into()];
        defs[second].same_as = vec!["exodus:119".into()];
        db.sdks = appvet::database::Deferred::ready(appvet::database::SdkMatcher::compile(defs), || {
            appvet::database::SdkMatcher::compile(Vec::new())
        });
        let problems = check(&db);
        assert!(problems.iter().any(|p| p.contains("exodus:99999: no such Exodus tracker")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("libradar:x")), "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("tencent-bugly: same_as exodus:119: claimed")),
            "{problems:?}"
        );
    }
}
