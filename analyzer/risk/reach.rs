//! Who reaches what: each capability's call sites grouped by the party
//! whose own code holds them (`capabilities[].reached_by[]`).

use std::collections::{BTreeMap, BTreeSet};

use crate::attribution::parties::Parties;
use crate::database::Database;
use crate::evidence::calls::CallSite;
use crate::evidence::AppEvidence;
use crate::report::{Party, Reach, Report};

use super::tables::RiskTables;

/// Caller classes listed per party and capability; `callers_total` counts all.
pub const MAX_CALLERS: usize = 10;

#[derive(Default)]
struct Group {
    apis: BTreeSet<String>,
    callers: BTreeSet<String>,
}

/// Capability id -> its parties, each with the APIs it calls and its caller classes.
pub fn reached_by(
    db: &Database,
    report: &Report,
    evidence: &AppEvidence,
    tables: &RiskTables,
) -> BTreeMap<String, Vec<Reach>> {
    let mut parties = Parties::new(db, report);
    let mut groups: BTreeMap<(&str, Party), Group> = BTreeMap::new();
    for unit in &evidence.units {
        for site in unit.calls.iter().filter_map(CallSite::parse) {
            let Some(refs) = tables.apis.get(site.api) else { continue };
            let class = site.caller_class();
            let party = parties.of(class);
            for r in refs {
                let g = groups.entry((r.capability.as_str(), party.clone())).or_default();
                g.apis.insert(site.api.to_string());
                g.callers.insert(class.to_string());
            }
        }
    }
    let mut out: BTreeMap<String, Vec<Reach>> = BTreeMap::new();
    for ((cap, party), g) in groups {
        out.entry(cap.to_string()).or_default().push(Reach {
            party,
            apis: g.apis.into_iter().collect(),
            callers_total: u32::try_from(g.callers.len()).unwrap_or(u32::MAX),
            callers: g.callers.into_iter().take(MAX_CALLERS).collect(),
        });
    }
    out
}

/// One call site as `appvet calls` lists it.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct CallRecord {
    /// `Lcls;->member` of the sensitive API.
    pub api: String,
    /// Capability the API reaches (first in table order when several).
    pub capability: String,
    /// `Lcls;->method(args)ret` holding the call.
    pub caller: String,
    /// Code unit (`classes2.dex`, `assets/x.apk!classes.dex`).
    pub source: String,
    pub party: Party,
}

/// Every call site of a sensitive API in the evidence, uncapped, in evidence order.
pub fn call_records(
    db: &Database,
    report: &Report,
    evidence: &AppEvidence,
    tables: &RiskTables,
) -> Vec<CallRecord> {
    let mut parties = Parties::new(db, report);
    let mut out = Vec::new();
    for unit in &evidence.units {
        for site in unit.calls.iter().filter_map(CallSite::parse) {
            let Some(r) = tables.apis.get(site.api).and_then(|refs| refs.first()) else { continue };
            out.push(CallRecord {
                api: site.api.to_string(),
                capability: r.capability.clone(),
                caller: site.caller.to_string(),
                source: unit.source.clone(),
                party: parties.of(site.caller_class()),
            });
        }
    }
    out
}
