//! The resource seal of a bundle (`_CodeSignature/CodeResources`): the
//! `files2` dictionary gives each sealed file's SHA-256 (`hash2`) and SHA-1
//! (`hash`), and `rules2` says which files of the bundle must be sealed
//! (regular expressions over the bundle-relative path, the heaviest match
//! deciding; `omit` files are left out, `nested` code is sealed by its own
//! signature, `optional` files may be missing). As `codesign --verify`
//! does, a sealed file that is missing, a file whose hash differs and a file
//! the rules seal but `files2` does not list make the signature fail, each
//! named. A seal from before version 2 (`files` and `rules` only) is
//! checked the same way with its SHA-1 hashes. Symbolic links and nested code entries are not compared here: the
//! nested code's own signature is verified on its own.

use std::collections::HashMap;

use plist::{Dictionary, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::formats::property_list;

/// Sealed files looked at per bundle: a hostile seal cannot make the check
/// unbounded (a real app seals a few thousand).
pub const MAX_SEALED: usize = 100_000;
/// Rules compiled per seal (Apple's default set has about a dozen).
const MAX_RULES: usize = 256;
/// Longest rule pattern compiled.
const MAX_PATTERN_LEN: usize = 1024;
/// Compiled size bound of one rule's regular expression.
const MAX_REGEX_SIZE: usize = 1 << 20;
/// Problems named one by one before the rest are only counted.
const NAMED: usize = 5;

/// One `files2` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sealed {
    /// A file with its hashes (either may be absent in an old seal).
    File { sha256: Option<Vec<u8>>, sha1: Option<Vec<u8>>, optional: bool },
    /// A symbolic link or nested code (`cdhash`), not compared here.
    Other,
}

#[derive(Debug)]
struct Rule {
    pattern: regex::Regex,
    weight: f64,
    omit: bool,
    nested: bool,
}

/// A parsed resource seal.
#[derive(Debug)]
pub struct Seal {
    files: HashMap<String, Sealed>,
    rules: Vec<Rule>,
    /// The seal has a `rules2` dictionary, so files it does not list can be judged.
    has_rules: bool,
}

/// What checking a seal found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SealCheck {
    /// Why the seal does not hold (empty when it holds).
    pub errors: Vec<String>,
    /// Sealed files that could not be read (resource limits): unchecked.
    pub unreadable: Vec<String>,
}

impl Seal {
    /// Parses CodeResources (XML or binary plist). Fails on a seal that is
    /// not a dictionary or has no `files2` (a seal from before 2013's
    /// version 2 format, which iOS no longer accepts).
    pub fn parse(data: &[u8]) -> Result<Seal, String> {
        let dict =
            property_list::parse_dict(data).map_err(|e| format!("CodeResources is unreadable: {e}"))?;
        // Version 2 (`files2`, `rules2`) when present; a seal made before it
        // (iOS 6 era) has only `files` and `rules`, which iOS still accepts.
        let (files_key, rules_key) =
            if dict.contains_key("files2") { ("files2", "rules2") } else { ("files", "rules") };
        let Some(Value::Dictionary(sealed_files)) = dict.get(files_key) else {
            return Err("CodeResources seals no files (no files2 or files dictionary)".into());
        };
        if sealed_files.len() > MAX_SEALED {
            return Err(format!("CodeResources seals {} files, more than {MAX_SEALED}", sealed_files.len()));
        }
        let files = sealed_files.iter().map(|(path, value)| (path.clone(), sealed(value))).collect();
        let (rules, has_rules) = match dict.get(rules_key) {
            Some(Value::Dictionary(rules2)) => (rules(rules2)?, true),
            _ => (Vec::new(), false),
        };
        Ok(Seal { files, rules, has_rules })
    }

    /// Checks the seal against the bundle: `present` are the bundle-relative
    /// paths of its files (no directories), `exclude` those the seal never
    /// covers (the bundle's own executable and `_CodeSignature/`), and `read`
    /// returns a file's bytes (None when it cannot be read).
    pub fn check(
        &self,
        present: &[&str],
        exclude: impl Fn(&str) -> bool,
        mut read: impl FnMut(&str) -> Option<Vec<u8>>,
    ) -> SealCheck {
        let mut missing = Vec::new();
        let mut changed = Vec::new();
        let mut added = Vec::new();
        let mut unreadable = Vec::new();
        let listed: std::collections::HashSet<&str> = present.iter().copied().collect();
        let mut sealed: Vec<(&String, &Sealed)> = self.files.iter().collect();
        sealed.sort_by(|a, b| a.0.cmp(b.0));
        for (path, entry) in sealed {
            let Sealed::File { sha256, sha1, optional } = entry else { continue };
            if !listed.contains(path.as_str()) {
                if !optional {
                    missing.push(path.clone());
                }
                continue;
            }
            let Some(data) = read(path) else {
                unreadable.push(path.clone());
                continue;
            };
            let matches = match (sha256, sha1) {
                (Some(want), _) => Sha256::digest(&data)[..] == want[..],
                (None, Some(want)) => Sha1::digest(&data)[..] == want[..],
                (None, None) => true,
            };
            if !matches {
                changed.push(path.clone());
            }
        }
        if self.has_rules {
            // Nested code (`Frameworks/Kit.framework` with a cdhash) seals
            // the files inside it with its own signature.
            let nested: Vec<String> = self
                .files
                .iter()
                .filter(|(_, s)| **s == Sealed::Other)
                .map(|(p, _)| format!("{}/", p.trim_end_matches('/')))
                .collect();
            let inside_nested = |p: &str| nested.iter().any(|n| p.starts_with(n.as_str()));
            let mut extra: Vec<&str> = present
                .iter()
                .copied()
                .filter(|p| {
                    !exclude(p) && !self.files.contains_key(*p) && !inside_nested(p) && self.must_seal(p)
                })
                .collect();
            extra.sort_unstable();
            added.extend(extra.into_iter().map(str::to_string));
        }
        let mut errors = Vec::new();
        for (what, paths) in [("missing", missing), ("modified", changed), ("added, not sealed", added)] {
            if !paths.is_empty() {
                errors.push(format!("sealed resource {what}: {}", named(&paths)));
            }
        }
        SealCheck { errors, unreadable }
    }

    /// Whether the heaviest rules matching `path` seal it (not omitted, not
    /// nested code). Among rules of equal weight Apple's order is that of an
    /// unordered dictionary (Xcode's `^` at weight 20 ties with
    /// `^Info\.plist$` omit at 20), so an omit or nested rule of the top
    /// weight wins: a file is only required when no top rule leaves it out.
    fn must_seal(&self, path: &str) -> bool {
        let matching: Vec<&Rule> = self.rules.iter().filter(|r| r.pattern.is_match(path)).collect();
        let Some(top) = matching.iter().map(|r| r.weight).reduce(f64::max) else {
            return false;
        };
        matching.iter().filter(|r| r.weight >= top).all(|r| !r.omit && !r.nested)
    }
}

fn named(paths: &[String]) -> String {
    let mut out = paths.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > NAMED {
        out.push_str(&format!(" and {} more", paths.len() - NAMED));
    }
    out
}

fn sealed(value: &Value) -> Sealed {
    match value {
        // The version 1 form: the value is the SHA-1 itself.
        Value::Data(sha1) => Sealed::File { sha256: None, sha1: Some(sha1.clone()), optional: false },
        Value::Dictionary(d) if d.contains_key("symlink") || d.contains_key("cdhash") => Sealed::Other,
        Value::Dictionary(d) => Sealed::File {
            sha256: data(d, "hash2"),
            sha1: data(d, "hash"),
            optional: matches!(d.get("optional"), Some(Value::Boolean(true))),
        },
        _ => Sealed::Other,
    }
}

fn data(d: &Dictionary, key: &str) -> Option<Vec<u8>> {
    match d.get(key) {
        Some(Value::Data(bytes)) => Some(bytes.clone()),
        _ => None,
    }
}

fn rules(rules2: &Dictionary) -> Result<Vec<Rule>, String> {
    if rules2.len() > MAX_RULES {
        return Err(format!("CodeResources has {} rules, more than {MAX_RULES}", rules2.len()));
    }
    let mut out = Vec::new();
    for (pattern, value) in rules2 {
        let flag = |d: &Dictionary, key: &str| matches!(d.get(key), Some(Value::Boolean(true)));
        let (weight, omit, nested) = match value {
            Value::Dictionary(d) => {
                let weight = match d.get("weight") {
                    Some(Value::Real(w)) => *w,
                    Some(Value::Integer(w)) => w.as_signed().map_or(1.0, |w| w as f64),
                    _ => 1.0,
                };
                (weight, flag(d, "omit"), flag(d, "nested"))
            }
            // `false` excludes, as `omit` does.
            Value::Boolean(sealed) => (1.0, !sealed, false),
            _ => continue,
        };
        if pattern.len() > MAX_PATTERN_LEN {
            return Err("CodeResources has a rule pattern too long to evaluate".into());
        }
        let pattern = regex::RegexBuilder::new(pattern).size_limit(MAX_REGEX_SIZE).build().map_err(|_| {
            format!("CodeResources rule {pattern:?} is not a regular expression appvet can evaluate")
        })?;
        out.push(Rule { pattern, weight, omit, nested });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "seal_tests.rs"]
mod tests;
