//! Control of a party: the chain of companies that controls an SDK's
//! owner, a host's owner or the publisher, and the country it is
//! controlled from (the 2023 bans named "ByteDance or an entity owned by
//! ByteDance": control, not the subsidiary's registration, decides).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{EntityKind, LinkConfidence};

/// Who controls a party, as the signature database traces it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Control {
    /// The chain, link by link: `TikTok Pte. Ltd. (SG) -> ByteDance Ltd. (KY, run from CN)`.
    /// A minority holder is shown after `-/->`: it does not control.
    pub chain: String,
    /// Entity ids on the chain of control, from the party up to its controller.
    pub path: Vec<String>,
    /// Country the party is controlled from: where its top controller is run from.
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// Country the party itself is registered in.
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub registered: Option<String>,
    /// Every country on the chain of control (registered and run from), in
    /// chain order: a country of concern anywhere here is a finding.
    pub countries: Vec<String>,
    /// The weakest link's confidence: strong (every link curated with its
    /// kind), medium (a link from an imported data set that does not say how
    /// the parent holds the child, or an entity known from its own terms
    /// only), weak (an entity without a source, or known from a press report only).
    pub confidence: LinkConfidence,
    /// What stands at the top of the chain: a company, or an open-source
    /// project / unidentified vendor, which no country controls.
    #[serde(default)]
    pub controller_kind: EntityKind,
}

impl Control {
    /// Whether the chain reaches one of `countries` (registered or run from, at any link).
    pub fn touches(&self, countries: &[String]) -> Option<&str> {
        self.countries.iter().find(|c| countries.contains(c)).map(String::as_str)
    }
}
