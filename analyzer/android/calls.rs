//! Call sites of sensitive APIs in one DEX: walks every method's code once
//! and keeps the `invoke-*` / `sget*` whose target the risk tables name,
//! and the `const-string`s that hold a host, each with the method holding it.

use rustc_hash::FxHashMap;

use crate::evidence::calls::CallSite;
use crate::evidence::Names;
use crate::formats::dex::{walk_code, DexFile, Operand};

/// Sensitive references of one DEX: `method_ids` / `field_ids` index ->
/// position of its `Lclass;->member` text in the unit's API list.
#[derive(Default)]
pub struct Targets {
    pub methods: FxHashMap<u32, usize>,
    pub fields: FxHashMap<u32, usize>,
    /// `string_ids` index -> `host:name` lines of the hosts the string holds.
    pub strings: FxHashMap<u32, Vec<String>>,
}

/// The call sites of `targets` in `file`, one line per (API, caller method),
/// sorted; and whether the walk stopped at its budget. The budget is the
/// file's own size in code units: code items are disjoint in a well-formed
/// DEX, so only methods pointing at shared code can exceed it.
pub fn call_sites(file: &DexFile, apis: &Names, targets: &Targets) -> (Names, bool) {
    let mut out = Names::new();
    if targets.methods.is_empty() && targets.fields.is_empty() && targets.strings.is_empty() {
        return (out, false);
    }
    let mut budget = file.data().len() / 2;
    let mut hits: Vec<usize> = Vec::new();
    let mut hosts: Vec<&str> = Vec::new();
    for class in file.class_defs() {
        for m in file.class_methods(&class) {
            let Some(insns) = file.code_insns(m.code_off) else { continue };
            let units = insns.len() / 2;
            if units > budget {
                out.sort_unstable_dedup();
                return (out, true);
            }
            budget -= units;
            hits.clear();
            hosts.clear();
            walk_code(insns, |op| match op {
                Operand::Invoke(idx) => hits.extend(targets.methods.get(&idx)),
                Operand::StaticField(idx) => hits.extend(targets.fields.get(&idx)),
                Operand::String(idx) => {
                    hosts.extend(targets.strings.get(&idx).into_iter().flatten().map(String::as_str))
                }
            });
            if hits.is_empty() && hosts.is_empty() {
                continue;
            }
            let caller = caller_name(file, m.method_idx);
            for api in hits.iter().filter_map(|&i| apis.get(i)).chain(hosts.iter().copied()) {
                out.push(&CallSite::line(api, &caller));
            }
        }
    }
    out.sort_unstable_dedup();
    (out, false)
}

/// `Lclass;->name(args)ret` of a defined method, or its index when the
/// tables cannot resolve it (a damaged file still says where the call was).
fn caller_name(file: &DexFile, idx: u32) -> String {
    match file.method_ref(idx) {
        Some(m) => format!("{m}{}", file.proto_descriptor(u32::from(m.proto_idx)).unwrap_or_default()),
        None => format!("method@{idx}"),
    }
}
