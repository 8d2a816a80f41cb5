//! Diagnostics: what a stage could not read or found suspicious, with a
//! stable code. The bottom layer: parsers raise them without knowing the
//! report that will carry them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Diagnostic {
    pub level: Level,
    /// Stable dotted code (`zip.janus_prefix`, `axml.bad_chunk_size`), documented in the README.
    #[schemars(regex(pattern = r"^[a-z0-9_]+(\.[a-z0-9_]+)+$"))]
    pub code: String,
    pub message: String,
    /// Entry path and/or offset, when known.
    pub location: Option<String>,
}

impl Diagnostic {
    pub fn new(level: Level, code: &str, message: impl Into<String>) -> Self {
        Diagnostic { level, code: code.to_string(), message: message.into(), location: None }
    }

    pub fn info(code: &str, message: impl Into<String>) -> Self {
        Self::new(Level::Info, code, message)
    }

    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, code, message)
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::new(Level::Error, code, message)
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}
