//! Parties in the report: who owns the code that reaches a capability
//! (`capabilities[].reached_by[]`). Part of the report model, kept apart
//! from `model.rs` so that each file keeps to one job.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::string_enum::string_enum;

/// A party whose own code calls a capability's APIs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Reach {
    pub party: Party,
    /// The APIs it calls (`Lcls;->member`), sorted; classes holding the calls (`callers`: at most 10).
    pub apis: Vec<String>,
    pub callers_total: u32,
    pub callers: Vec<String>,
}

/// Who a piece of code belongs to; `id`: the SDK id, the app's package, the library or the package.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct Party {
    pub kind: PartyKind,
    pub id: String,
    pub name: String,
    pub owner: Option<String>,
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// How an SDK party was inferred when no signature names its classes (`namespace com.alipay: ant-group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<String>,
}

string_enum! {
    /// app: the publisher's own package; sdk: a matched SDK; library: a
    /// platform library (AndroidX, Kotlin, Play services); unattributed: none of these.
    #[derive(Default)]
    pub enum PartyKind {
        App = "app",
        Sdk = "sdk",
        Library = "library",
        #[default]
        Unattributed = "unattributed",
    }
}

impl Party {
    /// `sdk Baidu Mobile Stats (Baidu, Inc., CN)`, `library AndroidX`: how renderers name a party.
    pub fn label(&self) -> String {
        let name = if self.name.is_empty() { &self.id } else { &self.name };
        let about: Vec<&str> =
            [self.owner.as_deref(), self.country.as_deref()].into_iter().flatten().collect();
        let inferred = if self.inferred.is_some() { ", inferred" } else { "" };
        if about.is_empty() {
            format!("{} {name}{inferred}", self.kind)
        } else {
            format!("{} {name} ({}){inferred}", self.kind, about.join(", "))
        }
    }
}
