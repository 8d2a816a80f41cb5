//! SDK and tracker definitions (`signatures/sdks/*.json`) and the matcher
//! compiled from them once per database.
//!
//! Exodus semantics: exodus-core runs `dexdump` on every `classes*.dex`,
//! collects every match of `[A-Z]+((?:\w+\/)+\w+)` (so `Lcom/foo/Bar$1;`
//! yields `com/foo/Bar`), and reports a tracker when `re.search(code_signature)`
//! hits any of them; signatures of 3 characters or fewer are skipped. All 432
//! signatures are `|`-alternations of literal text and `.` (any character,
//! which is what lets `com.umeng.` match `com/umeng/`). Every name Exodus
//! collects is a substring of a slashed type descriptor, so searching the
//! whole descriptor (`com/foo/Bar$1`) finds at least everything Exodus finds.
//! Each alternative is indexed in one Aho-Corasick automaton by its most
//! selective literal run and verified around the hit; an alternative that
//! uses any other regex syntax falls back to a `Regex`.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::automaton::Automaton;
use crate::lazy::LazyVec;
use crate::snapshot::SnapshotError;
use crate::SignatureError;

/// Exodus ignores signatures this short (an empty one would match everything).
const EXODUS_MIN_SIGNATURE: usize = 4;

/// Literal runs so common in class names that they make poor anchors.
const COMMON_RUNS: &[&str] =
    &["com", "org", "net", "io", "android", "google", "sdk", "ads", "analytics", "api", "app"];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdkDef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub exodus_id: Option<u32>,
    /// Entity id (`entities/*.tsv`).
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_source: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Other databases' ids for the same SDK (`exodus:190`): a curated entry
    /// that names an Exodus tracker absorbs it in reports, so the SDK is listed once.
    #[serde(default)]
    pub same_as: Vec<String>,
    /// Exodus `code_signature` (regex over slashed class names).
    #[serde(default)]
    pub code_signature: String,
    /// Exodus `network_signature` (regex searched in host names).
    #[serde(default)]
    pub network_signature: String,
    /// Java class-name prefixes in dotted form (`com.umeng.`), matched at the start.
    #[serde(default)]
    pub class_prefixes: Vec<String>,
    /// Manifest `<meta-data>` names.
    #[serde(default)]
    pub meta_data: Vec<String>,
    /// Native library file names (`libBugly.so`).
    #[serde(default)]
    pub native_libs: Vec<String>,
    /// Native library file-name prefixes (`libshella-`).
    #[serde(default)]
    pub native_lib_prefixes: Vec<String>,
    /// Archive entry paths (or path prefixes ending in `/`).
    #[serde(default)]
    pub entries: Vec<String>,
    /// Manifest component-name suffixes the SDK makes an app declare under
    /// the app's own package (`.wxapi.WXEntryActivity`): neither renaming
    /// nor packing can change them, and no class prefix covers them.
    #[serde(default)]
    pub component_suffixes: Vec<String>,
    #[serde(default)]
    pub ios_frameworks: Vec<String>,
    #[serde(default)]
    pub ios_class_prefixes: Vec<String>,
    #[serde(default)]
    pub plist_keys: Vec<String>,
    /// Domains the SDK talks to (matched as host suffixes).
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub website: String,
    /// A packer / protector: its presence means the real code is hidden.
    #[serde(default)]
    pub packer: bool,
    pub source: String,
}

impl SdkDef {
    /// Exodus tracker ids named in `same_as` (malformed entries are left to `sigs check`).
    pub fn same_as_exodus(&self) -> impl Iterator<Item = u32> + '_ {
        self.same_as.iter().filter_map(|s| s.strip_prefix("exodus:")?.parse().ok())
    }

    /// Known only by iOS frameworks / classes: no Android evidence at all.
    pub fn is_ios_only(&self) -> bool {
        (!self.ios_frameworks.is_empty() || !self.ios_class_prefixes.is_empty())
            && self.code_signature.is_empty()
            && self.class_prefixes.is_empty()
            && self.native_libs.is_empty()
            && self.meta_data.is_empty()
    }
}

#[derive(Debug, Deserialize)]
struct SdkFile {
    sdks: Vec<SdkDef>,
}

pub fn parse_file(text: &str, path: &str) -> Result<Vec<SdkDef>, SignatureError> {
    serde_json::from_str::<SdkFile>(text).map(|f| f.sdks).map_err(|e| SignatureError::Syntax {
        path: path.to_string(),
        line: e.line(),
        message: e.to_string(),
    })
}

/// One alternative of an Exodus code signature: literal characters and `.` wildcards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WildPattern {
    sdk: usize,
    /// The alternative as written (for evidence and `sigs check`).
    text: String,
    /// Characters before the anchor run (`None` = wildcard).
    before: Vec<Option<char>>,
    /// Characters after the anchor run.
    after: Vec<Option<char>>,
}

impl WildPattern {
    fn verify(&self, name: &str, start: usize, end: usize) -> bool {
        let (Some(head), Some(tail)) = (name.get(..start), name.get(end..)) else {
            return false;
        };
        let mut back = head.chars().rev();
        for want in self.before.iter().rev() {
            match (back.next(), want) {
                (None, _) => return false,
                (Some(c), Some(w)) if c != *w => return false,
                (Some('\n'), None) => return false,
                _ => {}
            }
        }
        let mut fwd = tail.chars();
        for want in &self.after {
            match (fwd.next(), want) {
                (None, _) => return false,
                (Some(c), Some(w)) if c != *w => return false,
                (Some('\n'), None) => return false,
                _ => {}
            }
        }
        true
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Key {
    /// Anchor of `WildPattern` n.
    Wild(usize),
    /// Slashed class prefix of this SDK, must match at offset 0.
    Prefix(usize),
}

/// What matched a class name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassHit {
    pub sdk: usize,
    /// The signature alternative or class prefix that matched.
    pub rule: String,
}

/// The lookup tables of a matcher: everything but the compiled automata,
/// so that a build-time snapshot can store them (see `crate::snapshot`).
/// Maps are written as key-sorted lists of pairs, which `Lookups` reads
/// in place.
#[derive(Debug, Default, Serialize)]
pub struct MatcherTables {
    /// A snapshot stores the definitions in a section of their own, each
    /// decoded on first use (`crate::lazy::LazyVec`).
    #[serde(skip)]
    pub defs: Vec<SdkDef>,
    /// Exodus tracker id -> the first definition that declares it `same_as`.
    exodus_claims: Vec<(u32, usize)>,
    /// Aho-Corasick needles; `keys[n]` says what needle `n` stands for.
    /// A snapshot stores the automaton built from them instead (`crate::automaton`).
    #[serde(skip)]
    pub needles: Vec<String>,
    keys: Vec<Key>,
    /// Stored in a section of their own like `defs`: a pattern is only
    /// needed when its anchor is found in a class name.
    #[serde(skip)]
    pub(crate) wild: Vec<WildPattern>,
    /// Code-signature alternatives that are real regexes (none in the current Exodus list).
    class_regexes: Vec<(usize, String)>,
    #[serde(serialize_with = "sorted_pairs")]
    native_libs: HashMap<String, usize>,
    native_lib_prefixes: Vec<(String, usize)>,
    entries: Vec<(String, usize)>,
    #[serde(serialize_with = "sorted_pairs")]
    meta_data: HashMap<String, usize>,
    #[serde(serialize_with = "sorted_pairs")]
    plist_keys: HashMap<String, usize>,
    #[serde(serialize_with = "sorted_pairs")]
    frameworks: HashMap<String, usize>,
    /// Longest prefix first.
    objc_prefixes: Vec<(String, usize)>,
    #[serde(serialize_with = "sorted_pairs")]
    domains: HashMap<String, usize>,
    /// Network-signature alternatives that are not plain domains.
    network_regexes: Vec<(usize, String)>,
    component_suffixes: Vec<(String, usize)>,
    /// Problems found while preparing (`sigs check` reports them).
    pub problems: Vec<String>,
}

/// Writes a map as a list of `(key, value)` pairs in key order: the same
/// bytes on every build, and binary-searchable where [`Lookups`] reads them.
fn sorted_pairs<S: serde::Serializer>(
    map: &HashMap<String, usize>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut pairs: Vec<(&str, usize)> = map.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    pairs.sort_unstable();
    serializer.collect_seq(pairs)
}

/// [`MatcherTables`] as a matcher reads them: straight from the encoded
/// bytes, every string borrowed, so opening the embedded database allocates
/// a few vectors instead of thousands of strings. Field order follows
/// `MatcherTables`, whose skipped fields are stored elsewhere.
#[derive(Debug, Default, Deserialize)]
struct Lookups<'a> {
    exodus_claims: Vec<(u32, usize)>,
    keys: Vec<Key>,
    #[serde(borrow)]
    class_regexes: Vec<(usize, &'a str)>,
    #[serde(borrow)]
    native_libs: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    native_lib_prefixes: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    entries: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    meta_data: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    plist_keys: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    frameworks: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    objc_prefixes: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    domains: Vec<(&'a str, usize)>,
    #[serde(borrow)]
    network_regexes: Vec<(usize, &'a str)>,
    #[serde(borrow)]
    component_suffixes: Vec<(&'a str, usize)>,
    problems: Vec<String>,
}

impl<'a> Lookups<'a> {
    fn decode(bytes: &'a [u8]) -> Result<Self, SnapshotError> {
        let decode_error = |message: String| SnapshotError::Decode { section: "sdks", message };
        let l: Lookups = postcard::from_bytes(bytes).map_err(|e| decode_error(e.to_string()))?;
        for (name, pairs) in [
            ("native_libs", &l.native_libs),
            ("meta_data", &l.meta_data),
            ("plist_keys", &l.plist_keys),
            ("frameworks", &l.frameworks),
            ("domains", &l.domains),
        ] {
            if !pairs.windows(2).all(|w| w[0].0 < w[1].0) {
                return Err(decode_error(format!("{name}: keys out of order")));
            }
        }
        Ok(l)
    }

    /// The value of `key` in a key-sorted list of pairs.
    fn find(pairs: &[(&str, usize)], key: &str) -> Option<usize> {
        pairs.binary_search_by(|(k, _)| (*k).cmp(key)).ok().map(|i| pairs[i].1)
    }
}

/// The immutable, compiled SDK matcher.
#[derive(Debug)]
pub struct SdkMatcher {
    pub defs: LazyVec<SdkDef>,
    /// Problems found while compiling (`sigs check` reports them).
    pub problems: Vec<String>,
    tables: Lookups<'static>,
    wild: LazyVec<WildPattern>,
    automaton: Option<Automaton>,
    class_regexes: Vec<(usize, &'static str, Regex)>,
    /// Compiled on the first host lookup: many apps never need them.
    network_regexes: OnceLock<Vec<(usize, Regex)>>,
}

/// The class-name automaton over a matcher's needles.
pub fn build_automaton<N: AsRef<[u8]>>(needles: &[N]) -> Result<Automaton, String> {
    Automaton::build(needles).map_err(|e| e.to_string())
}

/// Matches class names one after another, remembering the automaton's run
/// over the previous name: names come sorted, so each shares a long prefix
/// with the one before (`com/umeng/analytics/A`, `com/umeng/analytics/A$1`),
/// and only the rest is run again, from the state the shared prefix left.
/// The automaton is deterministic, so the hits that end inside the prefix
/// are the previous name's; they are replayed, and every hit is verified
/// against the whole name, so the result is exactly
/// [`SdkMatcher::match_class`]'s.
pub struct ClassMatcher<'m> {
    m: &'m SdkMatcher,
    previous: Vec<u8>,
    /// `states[i]`: the automaton's state after `i` bytes of `previous`
    /// (`states[0]` is the start state), so `states.len() == previous.len() + 1`.
    states: Vec<usize>,
    /// The previous name's hits `(needle, start, end)`, in the order they
    /// were found, which is by `end`.
    hits: Vec<(usize, usize, usize)>,
}

impl ClassMatcher<'_> {
    pub fn match_class(&mut self, name: &str, out: &mut Vec<ClassHit>) {
        let m = self.m;
        if let Some(ac) = &m.automaton {
            let name_bytes = name.as_bytes();
            let shared = common_prefix_len(&self.previous, name_bytes);
            self.previous.truncate(shared);
            self.previous.extend_from_slice(&name_bytes[shared..]);
            self.states.truncate(shared + 1);
            let kept = self.hits.partition_point(|&(_, _, end)| end <= shared);
            self.hits.truncate(kept);
            let start = self.states.last().copied().unwrap_or(0);
            let tail = &name_bytes[shared..];
            // One slot per byte, sized up front: a push per byte (the hot
            // loop of attribution) checked the capacity every time.
            let base = self.states.len();
            self.states.resize(base + tail.len(), 0);
            let mut slots = self.states.get_mut(base..).unwrap_or_default().iter_mut();
            let hits = &mut self.hits;
            ac.resume_tracking(
                start,
                tail,
                shared,
                |state| {
                    if let Some(slot) = slots.next() {
                        *slot = state;
                    }
                },
                |needle, from, to| hits.push((needle, from, to)),
            );
            for &(needle, from, to) in &self.hits {
                m.class_hit(name, needle, from, to, out);
            }
        }
        for (i, alt, re) in &m.class_regexes {
            if re.is_match(name) {
                out.push(ClassHit { sdk: *i, rule: alt.to_string() });
            }
        }
    }
}

/// How many leading bytes `a` and `b` share, compared eight at a time
/// (sorted class names share most of their length with the one before).
fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    let mut n = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) else { break };
        let diff = u64::from_le_bytes(x) ^ u64::from_le_bytes(y);
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + a[n..].iter().zip(&b[n..]).take_while(|(x, y)| x == y).count()
}

/// Splits an alternative into literal runs; `None` if it uses regex syntax beyond `.`.
fn wild_chars(alt: &str) -> Option<Vec<Option<char>>> {
    let mut out = Vec::new();
    let mut chars = alt.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => out.push(None),
            '\\' => match chars.next() {
                Some(e) if !e.is_alphanumeric() => out.push(Some(e)),
                _ => return None,
            },
            '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => return None,
            c => out.push(Some(c)),
        }
    }
    Some(out)
}

/// The literal run that makes the best anchor: long, and not a common package word.
fn best_run(chars: &[Option<char>]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize, usize)> = None;
    let mut start = 0;
    for end in 0..=chars.len() {
        if end < chars.len() && chars[end].is_some() {
            continue;
        }
        if end > start {
            let run: String = chars[start..end].iter().flatten().collect();
            let weight = if COMMON_RUNS.contains(&run.as_str()) { 1 } else { 4 };
            let score = (end - start) * weight;
            if best.is_none_or(|b| score > b.2) {
                best = Some((start, end, score));
            }
        }
        start = end + 1;
    }
    best.map(|(s, e, _)| (s, e))
}

impl MatcherTables {
    /// Indexes SDK definitions: picks each signature alternative's anchor,
    /// checks every regex, and fills the lookup maps.
    pub fn prepare(defs: Vec<SdkDef>) -> Self {
        let mut m = MatcherTables::default();
        for (i, d) in defs.iter().enumerate() {
            if d.code_signature.len() >= EXODUS_MIN_SIGNATURE {
                for alt in d.code_signature.split('|') {
                    let chars = wild_chars(alt);
                    match chars.as_deref().and_then(|c| best_run(c).map(|r| (c, r))) {
                        Some((chars, (s, e))) => {
                            let n = m.wild.len();
                            m.wild.push(WildPattern {
                                sdk: i,
                                text: alt.to_string(),
                                before: chars[..s].to_vec(),
                                after: chars[e..].to_vec(),
                            });
                            m.needles.push(chars[s..e].iter().flatten().collect());
                            m.keys.push(Key::Wild(n));
                        }
                        None => match Regex::new(alt) {
                            Ok(_) => m.class_regexes.push((i, alt.to_string())),
                            Err(e) => m.problems.push(format!("{}: code_signature {alt:?}: {e}", d.id)),
                        },
                    }
                }
            }
            for p in &d.class_prefixes {
                if p.is_empty() {
                    m.problems.push(format!("{}: empty class prefix", d.id));
                    continue;
                }
                m.needles.push(p.replace('.', "/"));
                m.keys.push(Key::Prefix(i));
            }
            for l in &d.native_libs {
                m.native_libs.entry(l.to_ascii_lowercase()).or_insert(i);
            }
            for l in &d.native_lib_prefixes {
                m.native_lib_prefixes.push((l.to_ascii_lowercase(), i));
            }
            for e in &d.entries {
                m.entries.push((e.clone(), i));
            }
            for c in &d.component_suffixes {
                if c.len() < 2 || !c.starts_with('.') {
                    m.problems.push(format!("{}: component suffix {c:?} must start with '.'", d.id));
                    continue;
                }
                m.component_suffixes.push((c.clone(), i));
            }
            for k in &d.meta_data {
                m.meta_data.entry(k.clone()).or_insert(i);
            }
            for k in &d.plist_keys {
                m.plist_keys.entry(k.clone()).or_insert(i);
            }
            for f in &d.ios_frameworks {
                m.frameworks.entry(f.clone()).or_insert(i);
            }
            for p in &d.ios_class_prefixes {
                m.objc_prefixes.push((p.clone(), i));
            }
            for dom in &d.domains {
                m.domains.entry(dom.to_ascii_lowercase()).or_insert(i);
            }
            for alt in d.network_signature.split('|').filter(|a| !a.is_empty()) {
                if !is_literal_domain(alt) {
                    match Regex::new(alt) {
                        Ok(_) => m.network_regexes.push((i, alt.to_string())),
                        Err(e) => m.problems.push(format!("{}: network_signature {alt:?}: {e}", d.id)),
                    }
                }
            }
        }
        m.objc_prefixes.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        for (i, d) in defs.iter().enumerate() {
            for x in d.same_as_exodus() {
                // `sigs check` rejects a second claimant; keep the first deterministically.
                if !m.exodus_claims.iter().any(|(c, _)| *c == x) {
                    m.exodus_claims.push((x, i));
                }
            }
        }
        m.defs = defs;
        m
    }
}

impl SdkMatcher {
    pub fn compile(defs: Vec<SdkDef>) -> Self {
        Self::from_tables(MatcherTables::prepare(defs))
    }

    /// Builds the automata over prepared tables (from `prepare`), and
    /// encodes the rest as a snapshot would store it: a matcher reads its
    /// tables from bytes that live as long as the process.
    pub fn from_tables(mut tables: MatcherTables) -> Self {
        let automaton = build_automaton(&tables.needles);
        let defs = LazyVec::from_items(&std::mem::take(&mut tables.defs));
        let wild = LazyVec::from_items(&std::mem::take(&mut tables.wild));
        let lookups = postcard::to_stdvec(&tables)
            .map_err(|e| SnapshotError::Decode { section: "sdks", message: e.to_string() })
            .and_then(|bytes| Lookups::decode(Box::leak(bytes.into_boxed_slice())));
        match lookups {
            Ok(lookups) => Self::from_parts(lookups, wild, automaton, defs),
            Err(e) => {
                let mut m = Self::from_parts(Lookups::default(), wild, automaton, defs);
                m.problems.push(format!("SDK tables: {e}"));
                m
            }
        }
    }

    /// Opens a matcher over a snapshot's sections: `lookups` (encoded
    /// [`MatcherTables`]), the wild patterns and definitions (each decoded on
    /// first use) and the automaton built at build time from the needles.
    pub(crate) fn open(
        lookups: &'static [u8],
        wild: Result<LazyVec<WildPattern>, SnapshotError>,
        automaton: Result<Automaton, String>,
        defs: Result<LazyVec<SdkDef>, SnapshotError>,
    ) -> Result<Self, SnapshotError> {
        Ok(Self::from_parts(Lookups::decode(lookups)?, wild, automaton, defs))
    }

    fn from_parts(
        mut tables: Lookups<'static>,
        wild: Result<LazyVec<WildPattern>, SnapshotError>,
        automaton: Result<Automaton, String>,
        defs: Result<LazyVec<SdkDef>, SnapshotError>,
    ) -> Self {
        let mut problems = std::mem::take(&mut tables.problems);
        let automaton = automaton.map_err(|e| problems.push(format!("class-name automaton: {e}"))).ok();
        let defs = defs.map_err(|e| problems.push(format!("SDK definitions: {e}"))).unwrap_or_default();
        let wild =
            wild.map_err(|e| problems.push(format!("code-signature patterns: {e}"))).unwrap_or_default();
        let class_regexes = tables
            .class_regexes
            .iter()
            .filter_map(|&(i, alt)| Regex::new(alt).ok().map(|re| (i, alt, re)))
            .collect();
        SdkMatcher {
            defs,
            problems,
            tables,
            wild,
            automaton,
            class_regexes,
            network_regexes: OnceLock::new(),
        }
    }

    /// The definition that absorbs Exodus tracker `exodus_id` (`same_as`), if any.
    pub fn exodus_claim(&self, exodus_id: u32) -> Option<usize> {
        self.tables.exodus_claims.iter().find(|(x, _)| *x == exodus_id).map(|c| c.1)
    }

    fn network_regexes(&self) -> &[(usize, Regex)] {
        self.network_regexes.get_or_init(|| {
            self.tables
                .network_regexes
                .iter()
                .filter_map(|&(i, alt)| Regex::new(alt).ok().map(|re| (i, re)))
                .collect()
        })
    }

    /// SDKs whose code signature or class prefix matches a slashed class name
    /// (`com/umeng/analytics/MobclickAgent`, no `L` and `;`).
    pub fn match_class(&self, name: &str, out: &mut Vec<ClassHit>) {
        self.class_matcher().match_class(name, out);
    }

    /// A matcher for many class names in a row (see [`ClassMatcher`]).
    pub fn class_matcher(&self) -> ClassMatcher<'_> {
        ClassMatcher { m: self, previous: Vec::new(), states: vec![0], hits: Vec::new() }
    }

    fn class_hit(&self, name: &str, needle: usize, start: usize, end: usize, out: &mut Vec<ClassHit>) {
        match self.tables.keys.get(needle) {
            Some(Key::Wild(n)) => {
                if let Some(w) = self.wild.get(*n) {
                    if w.verify(name, start, end) {
                        out.push(ClassHit { sdk: w.sdk, rule: w.text.clone() });
                    }
                }
            }
            Some(Key::Prefix(i)) if start == 0 => {
                let rule = self.defs.get(*i).map(|d| prefix_rule(d, name)).unwrap_or_default();
                out.push(ClassHit { sdk: *i, rule });
            }
            _ => {}
        }
    }

    /// SDK identified by a native library file name.
    pub fn match_native_lib(&self, file_name: &str) -> Option<usize> {
        let lower = file_name.to_ascii_lowercase();
        Lookups::find(&self.tables.native_libs, &lower).or_else(|| {
            self.tables.native_lib_prefixes.iter().find(|(p, _)| lower.starts_with(p)).map(|x| x.1)
        })
    }

    /// SDKs identified by an archive entry path.
    pub fn match_entry(&self, path: &str) -> Option<usize> {
        self.tables
            .entries
            .iter()
            .find(|(e, _)| if e.ends_with('/') { path.starts_with(e) } else { path == *e })
            .map(|x| x.1)
    }

    /// SDK whose component suffix ends a manifest component name, with the suffix.
    pub fn match_component_suffix(&self, name: &str) -> Option<(usize, &str)> {
        self.tables.component_suffixes.iter().find(|(c, _)| name.ends_with(c)).map(|&(c, i)| (i, c))
    }

    pub fn match_meta_data(&self, key: &str) -> Option<usize> {
        Lookups::find(&self.tables.meta_data, key).or_else(|| Lookups::find(&self.tables.plist_keys, key))
    }

    pub fn match_framework(&self, name: &str) -> Option<usize> {
        Lookups::find(&self.tables.frameworks, name)
    }

    pub fn match_objc_class(&self, name: &str) -> Option<usize> {
        self.tables.objc_prefixes.iter().find(|(p, _)| name.starts_with(p)).map(|x| x.1)
    }

    /// SDK whose domains or network signature cover `host`, with the rule that matched.
    pub fn match_host(&self, host: &str) -> Option<(usize, String)> {
        let mut rest = host;
        loop {
            if let Some(i) = Lookups::find(&self.tables.domains, rest) {
                return Some((i, rest.to_string()));
            }
            match rest.split_once('.') {
                Some((_, tail)) if tail.contains('.') => rest = tail,
                _ => break,
            }
        }
        self.network_regexes()
            .iter()
            .find(|(_, re)| re.is_match(host))
            .map(|(i, re)| (*i, re.as_str().to_string()))
    }

    pub fn wild_pattern_count(&self) -> usize {
        self.wild.len() + self.class_regexes.len()
    }
}

fn prefix_rule(d: &SdkDef, name: &str) -> String {
    d.class_prefixes.iter().find(|p| name.starts_with(&p.replace('.', "/"))).cloned().unwrap_or_default()
}

/// `a\.b\.com` (or `a.b.com`) as written in an Exodus network signature.
fn is_literal_domain(alt: &str) -> bool {
    let lit = alt.replace("\\.", ".").replace("\\-", "-");
    !lit.is_empty()
        && lit.contains('.')
        && lit.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

/// Literal domains of a network signature (what `SdkDef::domains` holds after import).
pub fn literal_domains(sig: &str) -> impl Iterator<Item = String> + '_ {
    sig.split('|').filter(|a| is_literal_domain(a)).map(|a| a.replace("\\.", ".").replace("\\-", "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(id: &str, code: &str) -> SdkDef {
        SdkDef {
            id: id.into(),
            name: id.into(),
            code_signature: code.into(),
            source: "t".into(),
            ..Default::default()
        }
    }

    fn hits(m: &SdkMatcher, name: &str) -> Vec<usize> {
        let mut out = Vec::new();
        m.match_class(name, &mut out);
        let mut ids: Vec<usize> = out.into_iter().map(|h| h.sdk).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    #[test]
    fn dots_are_wildcards_and_search_is_unanchored() {
        let m = SdkMatcher::compile(vec![def("umeng", "com.umeng.analytics"), def("lig", ".LigatusManager")]);
        assert_eq!(hits(&m, "com/umeng/analytics/MobclickAgent"), [0]);
        assert_eq!(hits(&m, "x/com/umeng/analytics"), [0]);
        assert!(hits(&m, "com/umeng/analytic").is_empty());
        assert_eq!(hits(&m, "a/LigatusManager"), [1]);
        // The wildcard needs a character: Exodus' `.Ligatus...` does not match at offset 0.
        assert!(hits(&m, "LigatusManager").is_empty());
    }

    #[test]
    fn a_reused_class_matcher_agrees_with_fresh_matches() {
        let mut prefix = def("bugly", "");
        prefix.class_prefixes = vec!["com.tencent.bugly.".into()];
        let m = SdkMatcher::compile(vec![
            def("umeng", "com.umeng.analytics|.LigatusManager"),
            def("pangle", "com.bytedance|com.pgl"),
            prefix,
            def("wild", "a.bc"),
        ]);
        let names = [
            "com/umeng/analytics/A",
            "com/umeng/analytics/B",
            "com/umeng/analyticsX",
            "com/tencent/bugly/crashreport/CrashReport",
            "com/tencent/bugly/crashreport/X",
            "x/com/tencent/bugly/A",
            "a/LigatusManager",
            "LigatusManager",
            "com/pgl/sys/ces/out/StcSDKFactory",
            "com/pgl/sys/ces/out/Other",
            "abc",
            "xa/bc",
            "",
            // Prefixes shared with the name before end inside a needle, or
            // past a hit that the next, shorter name no longer has.
            "com/umeng/analy",
            "com/umeng/analytics",
            "com/umeng/analytic",
            "com/umeng/analytics$1",
            "com/bytedanc",
            "com/bytedance/Sdk",
            "com/bytedance",
            "com/bytedancer/Z",
        ];
        let mut reused = m.class_matcher();
        // Forwards, then backwards: the memo must not depend on sorted input.
        for name in names.iter().chain(names.iter().rev()) {
            let (mut fresh, mut again) = (Vec::new(), Vec::new());
            m.match_class(name, &mut fresh);
            reused.match_class(name, &mut again);
            assert_eq!(again, fresh, "{name}");
        }
    }

    #[test]
    fn short_signatures_are_skipped_like_exodus() {
        let m = SdkMatcher::compile(vec![def("short", "com"), def("empty", "")]);
        assert!(hits(&m, "com/anything").is_empty());
    }

    #[test]
    fn common_words_are_not_chosen_as_anchor() {
        let chars = wild_chars("com.pgl").unwrap();
        assert_eq!(best_run(&chars), Some((4, 7)));
        let m = SdkMatcher::compile(vec![def("pangle", "com.bytedance|com.pgl")]);
        assert_eq!(hits(&m, "com/pgl/sys/ces/out/StcSDKFactory"), [0]);
    }

    #[test]
    fn class_prefixes_match_only_at_the_start() {
        let mut d = def("bugly", "");
        d.class_prefixes = vec!["com.tencent.bugly.".into()];
        let m = SdkMatcher::compile(vec![d]);
        assert_eq!(hits(&m, "com/tencent/bugly/crashreport/CrashReport"), [0]);
        assert!(hits(&m, "x/com/tencent/bugly/A").is_empty());
    }

    #[test]
    fn regex_fallback_and_bad_regex_are_reported() {
        let m = SdkMatcher::compile(vec![def("re", "com.x[0-9]+y"), def("bad", "com.(x")]);
        assert_eq!(hits(&m, "com/x12y/A"), [0]);
        assert_eq!(m.problems.len(), 1);
    }

    #[test]
    fn non_ascii_names_are_verified_by_character() {
        let m = SdkMatcher::compile(vec![def("w", "a.bcdef")]);
        assert_eq!(hits(&m, "aébcdef"), [0]);
        assert!(hits(&m, "bcdef").is_empty());
    }

    #[test]
    fn hosts_match_domains_and_network_regexes() {
        let mut a = def("a", "");
        a.domains = vec!["umeng.com".into()];
        let mut b = def("b", "");
        b.network_signature = ".*\\.jiguang\\.cn".into();
        let m = SdkMatcher::compile(vec![a, b]);
        assert_eq!(m.match_host("alog.umeng.com").unwrap().0, 0);
        assert!(m.match_host("umeng.com.evil").is_none());
        assert_eq!(m.match_host("api.jiguang.cn").unwrap().0, 1);
        assert_eq!(literal_domains("a\\.com|.*x|b-c\\.net").collect::<Vec<_>>(), ["a.com", "b-c.net"]);
    }

    #[test]
    fn libraries_entries_and_keys() {
        let mut d = def("p", "");
        d.native_libs = vec!["libjiagu.so".into()];
        d.native_lib_prefixes = vec!["libshella-".into()];
        d.entries = vec!["assets/ijm_lib/".into(), "assets/ijiami.dat".into()];
        d.meta_data = vec!["UMENG_APPKEY".into()];
        d.component_suffixes = vec![".wxapi.WXEntryActivity".into(), "bad".into()];
        let m = SdkMatcher::compile(vec![d]);
        assert_eq!(
            m.match_component_suffix("com.app.wxapi.WXEntryActivity"),
            Some((0, ".wxapi.WXEntryActivity"))
        );
        assert_eq!(m.match_component_suffix("com.app.MainActivity"), None);
        assert!(m.problems.iter().any(|p| p.contains("\"bad\"")));
        assert_eq!(m.match_native_lib("libJiagu.so"), Some(0));
        assert_eq!(m.match_native_lib("libshella-2.10.so"), Some(0));
        assert_eq!(m.match_entry("assets/ijm_lib/x.so"), Some(0));
        assert_eq!(m.match_entry("assets/ijiami.dat"), Some(0));
        assert_eq!(m.match_entry("assets/ijiami.dat2"), None);
        assert_eq!(m.match_meta_data("UMENG_APPKEY"), Some(0));
    }

    #[test]
    fn lookups_read_in_place_and_refuse_keys_out_of_order() {
        let mut d = def("x", "");
        d.domains = vec!["a.com".into(), "b.com".into()];
        let bytes = postcard::to_stdvec(&MatcherTables::prepare(vec![d])).unwrap();
        let l = Lookups::decode(&bytes).unwrap();
        assert_eq!(Lookups::find(&l.domains, "b.com"), Some(0));
        assert_eq!(Lookups::find(&l.domains, "c.com"), None);
        // Renaming "a.com" to "c.com" puts the two keys out of order.
        let at = bytes.windows(5).position(|w| w == b"a.com").unwrap();
        let mut bad = bytes.clone();
        bad[at] = b'c';
        assert!(Lookups::decode(&bad).is_err());
        for cut in 0..bytes.len() {
            assert!(Lookups::decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn common_prefix_length_agrees_with_a_byte_by_byte_count() {
        let words: [&[u8]; 8] = [
            b"",
            b"a",
            b"com/umeng/analytics/A",
            b"com/umeng/analytics/B",
            b"com/umeng/",
            b"com/umenh",
            b"x",
            b"com/umeng/analytics/A$1",
        ];
        for a in words {
            for b in words {
                let slow = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                assert_eq!(common_prefix_len(a, b), slow, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn malformed_json_is_a_syntax_error() {
        assert!(parse_file("{\"sdks\": [{\"id\": 1}]}", "x.json").is_err());
        assert!(parse_file("not json", "x.json").is_err());
        assert_eq!(parse_file("{\"sdks\": []}", "x.json").unwrap().len(), 0);
    }
}
