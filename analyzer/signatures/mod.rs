//! The signature database: reviewable text files under `signatures/`,
//! embedded at build time and overridable with `--signatures DIR`.
//!
//! Compiled once into an immutable [`Database`] shared by all workers.

pub mod attribution;
mod deferred;
pub mod entities;
mod permissions;
pub mod sdks;

use std::collections::HashMap;
use std::path::Path;

pub use deferred::Deferred;
pub use entities::Entities;
pub use permissions::PermissionInfo;
pub use sdks::{SdkDef, SdkMatcher};

/// Version of the embedded database; bump when any file under `signatures/` changes.
pub const EMBEDDED_VERSION: &str = include_str!("../../signatures/VERSION");

const EMBEDDED_PERMISSIONS: &str = include_str!("../../signatures/android/permissions.tsv");

/// SDK definition files, in load order (an id defined twice is an error).
pub const SDK_FILES: &[(&str, &str)] = &[
    ("sdks/exodus.json", include_str!("../../signatures/sdks/exodus.json")),
    ("sdks/cn_ru.json", include_str!("../../signatures/sdks/cn_ru.json")),
    ("sdks/native.json", include_str!("../../signatures/sdks/native.json")),
    ("sdks/ios.json", include_str!("../../signatures/sdks/ios.json")),
];
/// Entity files: curated first (they win), then imported.
const ENTITY_FILES: &[(&str, &str, bool)] = &[
    ("entities/curated.tsv", include_str!("../../signatures/entities/curated.tsv"), true),
    ("entities/imported.tsv", include_str!("../../signatures/entities/imported.tsv"), false),
];
const DOMAIN_FILES: &[(&str, &str)] =
    &[("domains/imported.tsv", include_str!("../../signatures/domains/imported.tsv"))];
const PUBLISHER_FILE: (&str, &str) = ("publishers.tsv", include_str!("../../signatures/publishers.tsv"));

/// Text of an embedded database file by its path under `signatures/`.
pub fn embedded_file(rel: &str) -> Option<&'static str> {
    SDK_FILES
        .iter()
        .copied()
        .chain(ENTITY_FILES.iter().map(|(p, t, _)| (*p, *t)))
        .chain(DOMAIN_FILES.iter().copied())
        .chain(std::iter::once(PUBLISHER_FILE))
        .find(|(p, _)| *p == rel)
        .map(|(_, t)| t)
}

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Syntax { path: String, line: usize, message: String },
}

/// Everything the later stages match against.
#[derive(Debug)]
pub struct Database {
    pub version: String,
    pub permissions: HashMap<String, PermissionInfo>,
    /// SDK / tracker definitions compiled into one matcher.
    pub sdks: Deferred<SdkMatcher>,
    pub entities: Deferred<Entities>,
}

fn no_sdks() -> SdkMatcher {
    SdkMatcher::compile(Vec::new())
}

impl Database {
    /// The database compiled into the binary. The embedded files are checked
    /// by the test suite, so a syntax error here cannot ship; should one slip
    /// through, that file's part of the database is left empty.
    pub fn embedded() -> Self {
        let permissions =
            permissions::parse(EMBEDDED_PERMISSIONS, "android/permissions.tsv").unwrap_or_default();
        // Compiled on a background thread: reading the app does not need it.
        let (sdks_tx, sdks_rx) = std::sync::mpsc::sync_channel(1);
        let (entities_tx, entities_rx) = std::sync::mpsc::sync_channel(1);
        std::thread::spawn(move || {
            let built = Self::assemble(EMBEDDED_VERSION.trim().to_string(), HashMap::new(), |rel| {
                Ok(embedded_file(rel).unwrap_or_default().to_string())
            });
            if let Ok(db) = built {
                let Database { sdks, entities, .. } = db;
                let _ = sdks_tx.send(sdks.into_inner());
                let _ = entities_tx.send(entities.into_inner());
            }
        });
        Database {
            version: EMBEDDED_VERSION.trim().to_string(),
            permissions,
            sdks: Deferred::pending(sdks_rx, no_sdks),
            entities: Deferred::pending(entities_rx, Entities::default),
        }
    }

    /// A database read from a directory laid out like `signatures/`.
    pub fn load_dir(dir: &Path) -> Result<Self, SignatureError> {
        let read = |rel: &str| {
            let path = dir.join(rel);
            std::fs::read_to_string(&path)
                .map_err(|source| SignatureError::Io { path: path.display().to_string(), source })
        };
        let version = read("VERSION")?.trim().to_string();
        let permissions = permissions::parse(&read("android/permissions.tsv")?, "android/permissions.tsv")?;
        Self::assemble(version, permissions, read)
    }

    /// Parses every SDK, entity, domain and publisher file through `read`
    /// and compiles the matcher.
    fn assemble(
        version: String,
        permissions: HashMap<String, PermissionInfo>,
        read: impl Fn(&str) -> Result<String, SignatureError> + Sync,
    ) -> Result<Self, SignatureError> {
        // Loading runs at every start of a one-app process, so the two
        // independent halves (SDK definitions, entities) are built on two
        // threads; each half is deterministic on its own.
        let (defs, entities) = std::thread::scope(|scope| {
            let entities = scope.spawn(|| -> Result<Entities, SignatureError> {
                let mut entities = Entities::default();
                for (rel, _, curated) in ENTITY_FILES {
                    entities.add_entities(&read(rel)?, rel, *curated)?;
                }
                for (rel, _) in DOMAIN_FILES {
                    entities.add_domains(&read(rel)?, rel)?;
                }
                entities.add_publishers(&read(PUBLISHER_FILE.0)?, PUBLISHER_FILE.0)?;
                Ok(entities)
            });
            let mut defs = Vec::new();
            for (rel, _) in SDK_FILES {
                defs.extend(sdks::parse_file(&read(rel)?, rel)?);
            }
            let entities = entities.join().unwrap_or_else(|_| {
                Err(SignatureError::Syntax {
                    path: "entities".into(),
                    line: 0,
                    message: "loader panicked".into(),
                })
            })?;
            Ok::<_, SignatureError>((defs, entities))
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
        Ok(Database {
            version,
            permissions,
            sdks: Deferred::ready(SdkMatcher::compile(defs), no_sdks),
            entities: Deferred::ready(entities, Entities::default),
        })
    }

    pub fn permission(&self, name: &str) -> Option<&PermissionInfo> {
        self.permissions.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_database_knows_dangerous_permissions() {
        let db = Database::embedded();
        assert!(!db.version.is_empty());
        let p = db.permission("android.permission.ACCESS_FINE_LOCATION").unwrap();
        assert!(p.protection_level.split('|').any(|f| f == "dangerous"));
        assert!(db.permission("android.permission.INTERNET").unwrap().protection_level.starts_with("normal"));
        assert!(db.permission("com.example.NOT_A_PERMISSION").is_none());
    }

    #[test]
    fn directory_override_matches_embedded_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("signatures");
        let db = Database::load_dir(&dir).unwrap();
        assert_eq!(db.permissions.len(), Database::embedded().permissions.len());
        assert_eq!(db.sdks.defs.len(), Database::embedded().sdks.defs.len());
        assert_eq!(db.entities.by_id.len(), Database::embedded().entities.by_id.len());
    }

    #[test]
    fn embedded_files_parse_and_compile_cleanly() {
        let version = EMBEDDED_VERSION.trim().to_string();
        let db = Database::assemble(version, HashMap::new(), |rel| {
            embedded_file(rel).map(str::to_string).ok_or_else(|| SignatureError::Syntax {
                path: rel.into(),
                line: 0,
                message: "missing".into(),
            })
        })
        .unwrap();
        assert!(db.sdks.problems.is_empty(), "{:?}", db.sdks.problems);
        assert!(db.sdks.defs.iter().filter(|d| d.exodus_id.is_some()).count() >= 432);
        assert!(db.entities.domains.len() >= 1500);
    }
}
