//! `appvet sigs`: statistics about the signature database and a consistency
//! check (regexes compile, ids unique, owners have a country and a source,
//! no ownership cycles).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use appvet::database::{Database, LinkKind};

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

/// Registered country of an SDK's owner, or `unknown`.
fn owner_country(db: &Database, owner: Option<&str>) -> String {
    owner
        .and_then(|o| db.entities.by_id.get(o))
        .and_then(|e| e.country.clone())
        .unwrap_or_else(|| "unknown".into())
}

/// Country an entity is controlled from (the end of its chain of control), or `unknown`.
fn controlling_country(db: &Database, owner: Option<&str>) -> String {
    owner
        .and_then(|o| db.entities.control_chain(o).country().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
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
    }
    let mut entity_ids: Vec<&str> = db.entities.by_id.keys().collect();
    entity_ids.sort();
    for id in entity_ids {
        let Some(e) = db.entities.by_id.get(id) else { continue };
        match &e.country {
            None => problems.push(format!("entity {id}: no country")),
            Some(c) if c.len() != 2 || !c.chars().all(|x| x.is_ascii_uppercase()) => {
                problems.push(format!("entity {id}: country {c:?} is not ISO 3166-1 alpha-2 upper case"))
            }
            _ => {}
        }
        if e.source.trim().is_empty() {
            problems.push(format!("entity {id}: no source"));
        }
        // A parent's country is its own: an importer that copies a
        // subsidiary's country onto its parent says so in the source.
        if e.source.contains("country of subsidiary") || e.source.contains("parent named only") {
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
