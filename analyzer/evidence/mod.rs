//! Evidence gathered from an app: where each class, API, library, symbol and
//! host was seen. The signature and risk stages match against this; the
//! report carries only what matched, each item with its location.

pub mod calls;
pub mod hosts;
mod names;

pub use names::{Names, NamesBuilder};

/// What kind of code unit a set of evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Dex,
    Native,
    Macho,
}

/// Evidence from one code unit (a DEX file, a native library, a Mach-O).
#[derive(Debug, Clone)]
pub struct CodeUnit {
    /// Entry path inside the input (`classes2.dex`, `lib/arm64-v8a/libfoo.so`).
    pub source: String,
    pub kind: UnitKind,
    /// Classes defined here, as descriptors (`Lcom/umeng/analytics/MobclickAgent;`)
    /// or Objective-C / Swift class names.
    pub classes: Names,
    /// References to code defined elsewhere: framework and library APIs
    /// (`Landroid/location/LocationManager;->getLastKnownLocation`) or
    /// imported symbols.
    pub apis: Names,
    /// Linked libraries (DT_NEEDED, LC_LOAD_DYLIB).
    pub libraries: Names,
    /// Exported symbols (native only).
    pub exports: Names,
    /// Call sites of sensitive APIs (DEX only), as [`calls::CallSite`] lines.
    pub calls: Names,
}

impl CodeUnit {
    pub fn new(source: impl Into<String>, kind: UnitKind) -> Self {
        CodeUnit {
            source: source.into(),
            kind,
            classes: Names::new(),
            apis: Names::new(),
            libraries: Names::new(),
            exports: Names::new(),
            calls: Names::new(),
        }
    }
}

/// A manifest or Info.plist key/value that can reveal an SDK
/// (`UMENG_APPKEY`, `com.facebook.sdk.ApplicationId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    pub source: String,
    pub key: String,
    pub value: Option<String>,
}

/// Everything the matching stages read, kept in memory for one app.
#[derive(Debug, Clone, Default)]
pub struct AppEvidence {
    pub units: Vec<CodeUnit>,
    pub config_keys: Vec<ConfigKey>,
    /// Every archive entry name (files such as `assets/libjiagu.so` identify packers).
    pub entry_names: Names,
}

impl AppEvidence {
    pub fn class_count(&self) -> usize {
        self.units.iter().map(|u| u.classes.len()).sum()
    }
}
