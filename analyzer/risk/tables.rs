//! The risk tables: capability metadata, what declares and what reaches each
//! capability, and the score weights, read from `signatures/capabilities/`
//! and `signatures/risk/weights.toml`. Embedded at build time; parsed once.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Syntax { path: String, line: usize, message: String },
    #[error("{path}: {message}")]
    Toml { path: String, message: String },
}

/// One row of `capabilities.tsv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityInfo {
    pub id: String,
    pub data_class: String,
    pub needs_permission: bool,
    pub label: String,
}

/// A table row mapping a key to a capability, with the row's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRef {
    pub capability: String,
    pub source: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCollectionWeights {
    pub declared_only_percent: u32,
    pub tracking_sdk_categories: Vec<String>,
    pub tracking_sdk: u32,
    pub tracking_sdk_max: u32,
    pub dynamic_code: u32,
    /// iOS: a privacy manifest denies tracking that code or hosts show.
    #[serde(default)]
    pub undeclared_tracking: u32,
    /// iOS: code reaches data no manifest declares as collected.
    #[serde(default)]
    pub undeclared_collection: u32,
    pub capabilities: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectWeights {
    pub publisher: u32,
    pub sdk_owner: u32,
    pub host_owner: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfidencePercents {
    pub certificate: u32,
    pub entity: u32,
    pub package_prefix: u32,
    pub cctld: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachWeights {
    pub no_sensitive_data_percent: u32,
    pub sensitive_data_classes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JurisdictionWeights {
    pub countries: Vec<String>,
    pub subject: SubjectWeights,
    pub confidence: ConfidencePercents,
    pub reach: ReachWeights,
    /// Lower-case top-level domain -> country.
    pub cctld: BTreeMap<String, String>,
}

/// `signatures/risk/weights.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub data_collection: DataCollectionWeights,
    pub jurisdiction: JurisdictionWeights,
}

/// Everything the risk stage matches against; immutable and shared.
#[derive(Debug, Clone, Default)]
pub struct RiskTables {
    /// In table order, which is the order capabilities are reported in.
    pub capabilities: Vec<CapabilityInfo>,
    /// Declaration name (permission, usage key, component permission,
    /// intent action) -> capabilities.
    pub declarations: HashMap<String, Vec<CapabilityRef>>,
    /// `Lclass;->member` -> capabilities (Android DEX and native imports).
    /// Looked up for every API an app references: FxHash, not SipHash.
    pub apis: rustc_hash::FxHashMap<String, Vec<CapabilityRef>>,
    /// Substring of an imported Mach-O symbol -> capability.
    pub ios_symbols: Vec<(String, CapabilityRef)>,
    /// Lower-case SDK category -> capabilities.
    pub sdk_categories: HashMap<String, Vec<CapabilityRef>>,
    pub weights: Weights,
}

const FILES: [(&str, &str); 8] = [
    ("capabilities/capabilities.tsv", include_str!("../../signatures/capabilities/capabilities.tsv")),
    ("capabilities/declarations.tsv", include_str!("../../signatures/capabilities/declarations.tsv")),
    ("capabilities/android_apis.tsv", include_str!("../../signatures/capabilities/android_apis.tsv")),
    (
        "capabilities/android_apis_dangerous.tsv",
        include_str!("../../signatures/capabilities/android_apis_dangerous.tsv"),
    ),
    (
        "capabilities/android_apis_curated.tsv",
        include_str!("../../signatures/capabilities/android_apis_curated.tsv"),
    ),
    ("capabilities/ios_symbols.tsv", include_str!("../../signatures/capabilities/ios_symbols.tsv")),
    ("capabilities/sdk_categories.tsv", include_str!("../../signatures/capabilities/sdk_categories.tsv")),
    ("risk/weights.toml", include_str!("../../signatures/risk/weights.toml")),
];

impl RiskTables {
    /// The tables compiled into the binary, parsed on first use. The embedded
    /// files are checked by a unit test, so a parse failure cannot ship; if
    /// one did, the stage would run with empty tables rather than crash.
    pub fn embedded() -> &'static RiskTables {
        static TABLES: OnceLock<RiskTables> = OnceLock::new();
        TABLES.get_or_init(|| {
            Self::parse_with(|rel| {
                FILES.iter().find(|(p, _)| *p == rel).map(|(_, t)| t.to_string()).ok_or_else(|| {
                    TableError::Io {
                        path: rel.to_string(),
                        source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    }
                })
            })
            .unwrap_or_default()
        })
    }

    /// Tables read from a directory laid out like `signatures/`.
    pub fn load_dir(dir: &Path) -> Result<RiskTables, TableError> {
        Self::parse_with(|rel| {
            let path = dir.join(rel);
            std::fs::read_to_string(&path)
                .map_err(|source| TableError::Io { path: path.display().to_string(), source })
        })
    }

    /// Tables from a directory laid out like `signatures/` where each file
    /// it holds replaces the embedded one and missing files fall back to the
    /// embedded copy (a `--signatures` directory may hold only what it changes).
    pub fn load_dir_over_embedded(dir: &Path) -> Result<RiskTables, TableError> {
        Self::parse_with(|rel| {
            let path = dir.join(rel);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => FILES
                    .iter()
                    .find(|(p, _)| *p == rel)
                    .map(|(_, t)| t.to_string())
                    .ok_or_else(|| TableError::Io { path: path.display().to_string(), source: e }),
                Err(source) => Err(TableError::Io { path: path.display().to_string(), source }),
            }
        })
    }

    fn parse_with(read: impl Fn(&str) -> Result<String, TableError>) -> Result<RiskTables, TableError> {
        let mut t = RiskTables::default();
        let path = "capabilities/capabilities.tsv";
        for (line, cols) in rows(&read(path)?, path, 5)? {
            let needs_permission = match cols[2] {
                "yes" => true,
                "no" => false,
                other => {
                    return Err(syntax(
                        path,
                        line,
                        format!("needs_permission must be yes or no, not {other:?}"),
                    ))
                }
            };
            t.capabilities.push(CapabilityInfo {
                id: cols[0].to_string(),
                data_class: cols[1].to_string(),
                needs_permission,
                label: cols[3].to_string(),
            });
        }
        let known = |cap: &str| t.capabilities.iter().any(|c| c.id == cap);
        let check = |path: &str, line: usize, cap: &str| {
            if known(cap) {
                Ok(())
            } else {
                Err(syntax(path, line, format!("unknown capability {cap:?}")))
            }
        };
        let path = "capabilities/declarations.tsv";
        let mut declarations: HashMap<String, Vec<CapabilityRef>> = HashMap::new();
        for (line, cols) in rows(&read(path)?, path, 4)? {
            check(path, line, cols[2])?;
            declarations.entry(cols[1].to_string()).or_default().push(cap_ref(cols[2], cols[3]));
        }
        let mut apis: rustc_hash::FxHashMap<String, Vec<CapabilityRef>> = rustc_hash::FxHashMap::default();
        for path in [
            "capabilities/android_apis.tsv",
            "capabilities/android_apis_dangerous.tsv",
            "capabilities/android_apis_curated.tsv",
        ] {
            for (line, cols) in rows(&read(path)?, path, 3)? {
                check(path, line, cols[1])?;
                let list = apis.entry(cols[0].to_string()).or_default();
                if !list.iter().any(|r| r.capability == cols[1]) {
                    list.push(cap_ref(cols[1], cols[2]));
                }
            }
        }
        let path = "capabilities/ios_symbols.tsv";
        let mut ios_symbols = Vec::new();
        for (line, cols) in rows(&read(path)?, path, 3)? {
            check(path, line, cols[1])?;
            ios_symbols.push((cols[0].to_string(), cap_ref(cols[1], cols[2])));
        }
        let path = "capabilities/sdk_categories.tsv";
        let mut sdk_categories: HashMap<String, Vec<CapabilityRef>> = HashMap::new();
        for (line, cols) in rows(&read(path)?, path, 3)? {
            check(path, line, cols[1])?;
            sdk_categories.entry(cols[0].to_lowercase()).or_default().push(cap_ref(cols[1], cols[2]));
        }
        let path = "risk/weights.toml";
        let weights: Weights = toml::from_str(&read(path)?)
            .map_err(|e| TableError::Toml { path: path.into(), message: e.to_string() })?;
        for cap in weights.data_collection.capabilities.keys() {
            check(path, 0, cap)?;
        }
        t.declarations = declarations;
        t.apis = apis;
        t.ios_symbols = ios_symbols;
        t.sdk_categories = sdk_categories;
        t.weights = weights;
        Ok(t)
    }

    pub fn capability(&self, id: &str) -> Option<&CapabilityInfo> {
        self.capabilities.iter().find(|c| c.id == id)
    }
}

fn cap_ref(capability: &str, source: &str) -> CapabilityRef {
    CapabilityRef { capability: capability.to_string(), source: source.to_string() }
}

fn syntax(path: &str, line: usize, message: String) -> TableError {
    TableError::Syntax { path: path.to_string(), line, message }
}

/// Tab-separated rows with exactly `columns` fields; `#` lines are comments.
fn rows<'t>(text: &'t str, path: &str, columns: usize) -> Result<Vec<(usize, Vec<&'t str>)>, TableError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != columns {
            return Err(syntax(
                path,
                i + 1,
                format!("expected {columns} tab-separated columns, found {}", cols.len()),
            ));
        }
        out.push((i + 1, cols));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_tables_parse_and_cross_reference() {
        let read = |rel: &str| Ok(FILES.iter().find(|(p, _)| *p == rel).map(|(_, t)| t.to_string()).unwrap());
        let t = RiskTables::parse_with(read).unwrap();
        assert!(t.capabilities.len() >= 20);
        assert_eq!(
            t.apis["Landroid/location/LocationManager;->getLastKnownLocation"][0].capability,
            "location"
        );
        assert_eq!(t.declarations["android.permission.RECORD_AUDIO"][0].capability, "microphone");
        for c in &t.capabilities {
            assert!(t.weights.data_collection.capabilities.contains_key(&c.id), "no weight for {}", c.id);
        }
    }

    #[test]
    fn directory_override_matches_embedded_tables() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("signatures");
        let t = RiskTables::load_dir(&dir).unwrap();
        assert_eq!(t.apis.len(), RiskTables::embedded().apis.len());
    }

    #[test]
    fn bad_rows_are_reported_with_their_line() {
        let e = rows("# c\na\tb\n", "x.tsv", 3).unwrap_err();
        assert!(e.to_string().contains("x.tsv:2"), "{e}");
    }
}
