//! The signature database: reviewable text files under `signatures/`,
//! embedded at build time and overridable with `--signatures DIR`.
//!
//! Compiled once into an immutable [`Database`] shared by all workers.

mod permissions;

use std::collections::HashMap;
use std::path::Path;

pub use permissions::PermissionInfo;

/// Version of the embedded database; bump when any file under `signatures/` changes.
pub const EMBEDDED_VERSION: &str = include_str!("../../signatures/VERSION");

const EMBEDDED_PERMISSIONS: &str = include_str!("../../signatures/android/permissions.tsv");

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
}

impl Database {
    /// The database compiled into the binary.
    pub fn embedded() -> Self {
        Database {
            version: EMBEDDED_VERSION.trim().to_string(),
            permissions: permissions::parse(EMBEDDED_PERMISSIONS, "android/permissions.tsv")
                .unwrap_or_default(),
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
        Ok(Database { version, permissions })
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
        assert!(p.protection_level.starts_with("dangerous"), "{}", p.protection_level);
        assert!(db.permission("android.permission.INTERNET").unwrap().protection_level.starts_with("normal"));
        assert!(db.permission("com.example.NOT_A_PERMISSION").is_none());
    }

    #[test]
    fn directory_override_matches_embedded_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("signatures");
        let db = Database::load_dir(&dir).unwrap();
        assert_eq!(db.permissions.len(), Database::embedded().permissions.len());
    }
}
