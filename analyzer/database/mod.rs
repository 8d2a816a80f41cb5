//! The signature database as loaded: the reviewable text files under
//! `signatures/`, compiled by the `appvet-sigdb` crate into a snapshot that
//! is embedded at build time, or read from `--signatures DIR`. Reference
//! data below the stages: the Android stage looks up permissions in it, the
//! attribution stage matches evidence against it.
//!
//! Compiled once into an immutable [`Database`] shared by all workers.

mod deferred;

use std::path::Path;

pub use appvet_sigdb::control::{EntityKind, LinkKind, ParentLink, SourceConfidence};
pub use appvet_sigdb::lazy::LazyMap;
pub use appvet_sigdb::{entities, sdks, PermissionInfo, SdkDef, SdkMatcher, SignatureError};
pub use deferred::Deferred;
pub use entities::Entities;

/// Version of the embedded database; bump when any file under `signatures/`
/// changes. (The snapshot carries it too; this is the fallback's.)
pub const EMBEDDED_VERSION: &str = include_str!("../../signatures/VERSION");

/// The embedded database, parsed and indexed by the build script (`build.rs`).
const EMBEDDED_SNAPSHOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/signatures.bin"));

/// Everything the later stages match against.
#[derive(Debug)]
pub struct Database {
    pub version: String,
    pub permissions: Deferred<LazyMap<PermissionInfo>>,
    /// SDK / tracker definitions compiled into one matcher.
    pub sdks: Deferred<SdkMatcher>,
    pub entities: Deferred<Entities>,
}

fn no_sdks() -> SdkMatcher {
    SdkMatcher::compile(Vec::new())
}

impl Database {
    /// The database compiled into the binary, from the build-time snapshot.
    /// The build fails if the text files do not parse, and the snapshot is
    /// written and read by the same code; should a section still not decode,
    /// that part of the database is left empty rather than failing the scan.
    pub fn embedded() -> Self {
        match appvet_sigdb::snapshot::Snapshot::split(EMBEDDED_SNAPSHOT) {
            Ok(snap) => Self::from_snapshot(snap),
            Err(_) => Database {
                version: EMBEDDED_VERSION.trim().to_string(),
                permissions: Deferred::ready(LazyMap::default(), LazyMap::default),
                sdks: Deferred::ready(no_sdks(), no_sdks),
                entities: Deferred::ready(Entities::default(), Entities::default),
            },
        }
    }

    /// A database read from a directory laid out like `signatures/`.
    pub fn load_dir(dir: &Path) -> Result<Self, SignatureError> {
        let parsed = appvet_sigdb::parse_dir(dir)?;
        let snap = appvet_sigdb::snapshot::encode_static(&parsed).map_err(|e| SignatureError::Syntax {
            path: dir.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        Ok(Self::from_snapshot(snap))
    }

    /// Opens a snapshot's tables on first use: the permission and entity
    /// tables and the SDK definitions are only indexed (entries decode on
    /// first lookup), the class-name automaton is used in place, and the SDK
    /// matcher's other tables are decoded.
    fn from_snapshot(snap: appvet_sigdb::snapshot::Snapshot) -> Self {
        Database {
            version: snap.version.trim().to_string(),
            permissions: Deferred::lazy(move || snap.permissions().unwrap_or_default(), LazyMap::default),
            sdks: Deferred::lazy(move || snap.matcher().unwrap_or_else(|_| no_sdks()), no_sdks),
            entities: Deferred::lazy(move || snap.entities().unwrap_or_default(), Entities::default),
        }
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

    /// The text files the build script compiled into the snapshot.
    fn parse_embedded() -> appvet_sigdb::Parsed {
        appvet_sigdb::parse_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("signatures")).unwrap()
    }

    #[test]
    fn embedded_files_parse_and_compile_cleanly() {
        let parsed = parse_embedded();
        assert!(parsed.sdks.problems.is_empty(), "{:?}", parsed.sdks.problems);
        let m = SdkMatcher::from_tables(parsed.sdks);
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert!(m.defs.iter().filter(|d| d.exodus_id.is_some()).count() >= 432);
        assert!(parsed.entities.domains.len() >= 1500);
    }

    #[test]
    fn snapshot_equals_the_embedded_text_files() {
        let parsed = parse_embedded();
        let db = Database::embedded();
        assert_eq!(db.version, parsed.version);
        assert_eq!(db.permissions.to_map(), parsed.permissions);
        assert_eq!(db.entities.by_id.to_map(), parsed.entities.by_id);
        assert_eq!(db.entities.domains.to_map(), parsed.entities.domains);
        assert_eq!(db.entities.publishers, parsed.entities.publishers);
        assert_eq!(db.sdks.defs.len(), parsed.sdks.defs.len());
        let defs: Vec<&SdkDef> = db.sdks.defs.iter().collect();
        assert_eq!(format!("{defs:?}"), format!("{:?}", parsed.sdks.defs.iter().collect::<Vec<_>>()));
    }
}
