//! appvet's signature database: the reviewable text files under
//! `signatures/` (SDK definitions, entities, domains, publishers, Android
//! permissions), their parsers, the SDK matcher, and a binary snapshot of the
//! parsed and indexed database.
//!
//! A separate crate so that appvet's build script can parse the embedded
//! files once at build time (see `snapshot`): a one-app run then starts
//! from the snapshot instead of parsing ~300 KB of JSON and TSV.

pub mod automaton;
pub mod control;
pub mod entities;
pub mod lazy;
pub mod permissions;
pub mod sdks;
pub mod snapshot;

use std::collections::HashMap;

pub use entities::{Entities, EntityTables};
pub use permissions::PermissionInfo;
pub use sdks::{ClassMatcher, MatcherTables, SdkDef, SdkMatcher};

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Syntax { path: String, line: usize, message: String },
}

pub const VERSION_FILE: &str = "VERSION";
pub const PERMISSIONS_FILE: &str = "android/permissions.tsv";
/// SDK definition files, in load order (an id defined twice is an error).
pub const SDK_FILES: &[&str] = &["sdks/exodus.json", "sdks/cn_ru.json", "sdks/native.json", "sdks/ios.json"];
/// Entity files, and whether each is curated: curated first (they win), then imported.
pub const ENTITY_FILES: &[(&str, bool)] = &[("entities/curated.tsv", true), ("entities/imported.tsv", false)];
/// Domain files, curated first (the first owner named for a domain wins).
pub const DOMAIN_FILES: &[&str] = &["domains/curated.tsv", "domains/imported.tsv"];
pub const PUBLISHER_FILE: &str = "publishers.tsv";

/// The whole database, parsed and indexed, before the matcher's automata are built.
#[derive(Debug, Default)]
pub struct Parsed {
    pub version: String,
    pub permissions: HashMap<String, PermissionInfo>,
    pub sdks: MatcherTables,
    pub entities: EntityTables,
}

/// Parses every database file through `read` (a path under `signatures/` to its text).
pub fn parse(read: impl Fn(&str) -> Result<String, SignatureError> + Sync) -> Result<Parsed, SignatureError> {
    let version = read(VERSION_FILE)?.trim().to_string();
    // Loading a directory runs at the start of a process, so the two
    // independent halves (SDK definitions, entities) are built on two
    // threads; each half is deterministic on its own.
    let (defs, entities, permissions) = std::thread::scope(|scope| {
        let entities = scope.spawn(|| -> Result<EntityTables, SignatureError> {
            let mut entities = EntityTables::default();
            for (rel, curated) in ENTITY_FILES {
                entities.add_entities(&read(rel)?, rel, *curated)?;
            }
            for rel in DOMAIN_FILES {
                entities.add_domains(&read(rel)?, rel)?;
            }
            entities.add_publishers(&read(PUBLISHER_FILE)?, PUBLISHER_FILE)?;
            Ok(entities)
        });
        let permissions = permissions::parse(&read(PERMISSIONS_FILE)?, PERMISSIONS_FILE)?;
        let mut defs = Vec::new();
        for rel in SDK_FILES {
            defs.extend(sdks::parse_file(&read(rel)?, rel)?);
        }
        let entities = entities.join().unwrap_or_else(|_| {
            Err(SignatureError::Syntax {
                path: "entities".into(),
                line: 0,
                message: "loader panicked".into(),
            })
        })?;
        Ok::<_, SignatureError>((defs, entities, permissions))
    })?;
    let mut entities = entities;
    // An SDK's own domains belong to its owner (imported rows win: they are more specific).
    for d in &defs {
        if let Some(owner) = &d.owner {
            for dom in &d.domains {
                entities.domains.entry(dom.to_ascii_lowercase()).or_insert(entities::DomainOwner {
                    entity: owner.clone(),
                    source: format!("domain of SDK {} ({})", d.id, d.source),
                });
            }
        }
    }
    Ok(Parsed { version, permissions, sdks: MatcherTables::prepare(defs), entities })
}

/// [`parse`] over a directory laid out like `signatures/`.
pub fn parse_dir(dir: &std::path::Path) -> Result<Parsed, SignatureError> {
    parse(|rel: &str| {
        let path = dir.join(rel);
        std::fs::read_to_string(&path)
            .map_err(|source| SignatureError::Io { path: path.display().to_string(), source })
    })
}
