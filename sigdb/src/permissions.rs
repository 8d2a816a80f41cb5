//! Android permission protection levels (`signatures/android/permissions.tsv`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::SignatureError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionInfo {
    /// AOSP protectionLevel flags as written (`dangerous`, `signature|privileged`).
    pub protection_level: String,
    pub group: Option<String>,
    pub source: String,
}

/// Parses `name<TAB>protection_level<TAB>group<TAB>source` lines; `#` starts a comment.
pub fn parse(text: &str, path: &str) -> Result<HashMap<String, PermissionInfo>, SignatureError> {
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, level, group, source] = cols[..] else {
            return Err(SignatureError::Syntax {
                path: path.to_string(),
                line: i + 1,
                message: format!("expected 4 tab-separated columns, found {}", cols.len()),
            });
        };
        out.insert(
            name.to_string(),
            PermissionInfo {
                protection_level: level.to_string(),
                group: (!group.is_empty()).then(|| group.to_string()),
                source: source.to_string(),
            },
        );
    }
    Ok(out)
}
