//! Entry digests v1 verification will check, computed ahead by whoever
//! inflates the entries anyway, so that no entry is inflated twice.

use std::collections::HashMap;

use super::manifest::{digests_to_verify, ManifestParser, NamedDigest};
use super::{JarEntry, V1Params};
use crate::formats::signing::crypto::HashAlg;

/// Entry digests computed ahead of [`verify`](super::verify) by whoever
/// inflates entries anyway (the analysis), so v1 does not inflate them a
/// second time.
///
/// Built from [`EntryDigests::plan`], which names, per entry index, the
/// algorithms `verify` will check; only the small digests are kept, never
/// the data. An entry never offered is read by `verify` as before.
#[derive(Debug, Clone, Default)]
pub struct EntryDigests {
    wanted: HashMap<usize, Vec<HashAlg>>,
    computed: HashMap<usize, Vec<(HashAlg, Vec<u8>)>>,
}

impl EntryDigests {
    /// The digests `verify` will want for each entry covered by `manifest`
    /// (the bytes of META-INF/MANIFEST.MF) on platforms `params`. Empty when
    /// `verify` would stop before looking at entry digests (duplicate names).
    pub fn plan(entries: &[JarEntry], manifest: &[u8], params: &V1Params) -> Self {
        let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            if e.name.ends_with('/') {
                continue;
            }
            if index_of.insert(e.name.as_str(), i).is_some() {
                return EntryDigests::default();
            }
        }
        let mut parser = ManifestParser::new(manifest);
        let _main = parser.read_section();
        let mut wanted: HashMap<usize, Vec<HashAlg>> = HashMap::new();
        for section in parser.read_all_sections() {
            let Some(name) = section.name() else { continue };
            if name.starts_with("META-INF/") {
                continue;
            }
            let Some(&i) = index_of.get(name) else { continue };
            let Ok(expected) = digests_to_verify(&section, "-Digest", params.min_sdk, params.max_sdk) else {
                continue;
            };
            let algs: Vec<HashAlg> = expected.iter().map(|d| d.alg).collect();
            if !algs.is_empty() {
                // `verify` uses the first section of a name (a duplicate is an error).
                wanted.entry(i).or_insert(algs);
            }
        }
        EntryDigests { wanted, computed: HashMap::new() }
    }

    /// Whether `offer` would digest the entry at `index`.
    pub fn wants(&self, index: usize) -> bool {
        self.wanted.contains_key(&index) && !self.computed.contains_key(&index)
    }

    /// Digests `data`, which must be the entry's whole uncompressed content
    /// exactly as a read of it returns (never a prefix or a capped part).
    pub fn offer(&mut self, index: usize, data: &[u8]) {
        if !self.wants(index) {
            return;
        }
        let Some(algs) = self.wanted.get(&index) else { return };
        let digests: Vec<(HashAlg, Vec<u8>)> =
            algs.iter().filter_map(|&alg| Some((alg, alg.digest(data)?))).collect();
        self.computed.insert(index, digests);
    }

    /// The precomputed digests of entry `index` for every algorithm of
    /// `expected`, in its order; `None` if any is missing.
    pub(super) fn lookup(&self, index: usize, expected: &[NamedDigest]) -> Option<Vec<&[u8]>> {
        let have = self.computed.get(&index)?;
        expected
            .iter()
            .map(|d| have.iter().find(|(alg, _)| *alg == d.alg).map(|(_, v)| v.as_slice()))
            .collect()
    }

    /// Entries digested so far.
    pub fn computed_count(&self) -> usize {
        self.computed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::entries;
    use super::*;

    #[test]
    fn plans_and_serves_entry_digests() {
        let list = entries(&["META-INF/MANIFEST.MF", "classes.dex", "res/", "a.png", "META-INF/X.SF"]);
        let mf = b"Manifest-Version: 1.0\r\n\r\nName: classes.dex\r\nSHA-256-Digest: Zm9v\r\nSHA1-Digest: Zm9v\r\n\r\nName: missing\r\nSHA1-Digest: Zm9v\r\n\r\nName: a.png\r\nSHA-256-Digest: !!\r\n\r\nName: META-INF/X.SF\r\nSHA1-Digest: Zm9v\r\n\r\n";
        let params = V1Params { min_sdk: 21, max_sdk: u32::MAX, found_scheme_ids: vec![] };
        let mut digests = EntryDigests::plan(&list, mf, &params);
        // Only the strongest digest counts from JB MR2 on; bad base64 and
        // META-INF entries are left to `verify`.
        assert_eq!(digests.wanted.get(&1), Some(&vec![HashAlg::Sha256]));
        assert_eq!(digests.wanted.len(), 1);
        assert!(digests.wants(1) && !digests.wants(3) && !digests.wants(2));
        digests.offer(3, b"ignored");
        digests.offer(1, b"dex");
        assert!(!digests.wants(1));
        assert_eq!(digests.computed_count(), 1);
        let expected = vec![NamedDigest { alg: HashAlg::Sha256, digest: vec![] }];
        let got = digests.lookup(1, &expected).unwrap();
        assert_eq!(got, vec![HashAlg::Sha256.digest(b"dex").unwrap().as_slice()]);
        let sha1 = vec![NamedDigest { alg: HashAlg::Sha1, digest: vec![] }];
        assert!(digests.lookup(1, &sha1).is_none());
        assert!(digests.lookup(3, &expected).is_none());

        // Before JB MR2 the Digest-Algorithms default (SHA-1) is checked too.
        let old = V1Params { min_sdk: 9, ..params.clone() };
        let planned = EntryDigests::plan(&list, mf, &old);
        assert_eq!(planned.wanted.get(&1), Some(&vec![HashAlg::Sha1, HashAlg::Sha256]));

        // Duplicate names end v1 before any entry digest: nothing planned.
        let dup = entries(&["META-INF/MANIFEST.MF", "classes.dex", "classes.dex"]);
        assert!(EntryDigests::plan(&dup, mf, &params).wanted.is_empty());
        assert!(EntryDigests::plan(&list, b"", &params).wanted.is_empty());
        assert!(EntryDigests::plan(&list, b"\xff\xfe garbage\n\n\nName", &params).wanted.is_empty());
    }
}
