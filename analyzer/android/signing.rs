//! Verifying an APK's signatures through its `ZipArchive`: this layer finds
//! the ZIP structures and entries, reads entry bytes under the inflate
//! budget, and hands them to `formats::signing`, which verifies over bytes.
//!
//! Verification is split around the analysis of the same APK so that v1
//! reuses the entry digests the analysis computes while it inflates entries
//! anyway: [`begin`] checks the APK Signing Block,
//! [`PendingSigning::plan_entry_digests`] says which entries v1 will digest
//! and how, the analysis feeds [`PendingSigning::digests_mut`], and
//! [`PendingSigning::finish`] verifies v1, inflating only entries the
//! analysis never read in full.

use std::borrow::Cow;

use crate::archive::zip::{Budget, ZipArchive, ZipLayout};
use crate::formats::signing::{self, block, jar, BlockPhase, SigningOutcome, ZipSections};

/// Verifies an APK's signatures for platforms `min_sdk..=max_sdk`.
///
/// `min_sdk`: the manifest's minSdkVersion (apksigner's default 1 when
/// absent). `max_sdk`: pass `None` to match `apksigner verify` (it checks up
/// to the newest platform; Android ignores the manifest's maxSdkVersion).
/// Entry reads for v1 digests are charged to `budget`.
pub fn analyze(
    zip: &ZipArchive,
    budget: &mut Budget,
    min_sdk: Option<u32>,
    max_sdk: Option<u32>,
) -> SigningOutcome {
    begin(zip, min_sdk, max_sdk).finish(zip, budget)
}

/// A signature verification begun by [`begin`], waiting for the analysis to
/// offer entry digests before [`PendingSigning::finish`].
pub struct PendingSigning {
    phase: BlockPhase,
    layout_usable: bool,
    /// META-INF/MANIFEST.MF as read for planning: (entry index, bytes).
    manifest: Option<(usize, Vec<u8>)>,
    digests: jar::EntryDigests,
}

/// First half of [`analyze`]: verifies the APK Signing Block schemes.
pub fn begin(zip: &ZipArchive, min_sdk: Option<u32>, max_sdk: Option<u32>) -> PendingSigning {
    let sections = usable_sections(zip.data(), &zip.layout);
    let phase = signing::verify_block_schemes(zip.data(), sections.as_ref(), min_sdk, max_sdk);
    PendingSigning {
        phase,
        layout_usable: sections.is_some(),
        manifest: None,
        digests: jar::EntryDigests::default(),
    }
}

impl PendingSigning {
    /// When v1 will be verified, reads MANIFEST.MF (charged to `budget`) and
    /// plans the entry digests it names; otherwise plans nothing.
    pub fn plan_entry_digests(&mut self, zip: &ZipArchive, budget: &mut Budget) {
        if !self.phase.v1_needed() {
            return;
        }
        let Some(index) = zip.entries.iter().position(|e| e.name == jar::MANIFEST) else { return };
        let Some(entry) = zip.entries.get(index) else { return };
        // A failed read is left for v1 to repeat and report.
        let Ok(manifest) = zip.read(entry, budget) else { return };
        let entries = jar_entries(zip);
        self.digests = jar::EntryDigests::plan(&entries, &manifest, &self.phase.v1_params());
        self.manifest = Some((index, manifest.into_owned()));
    }

    /// Where the analysis offers entries it inflated (see [`jar::EntryDigests::offer`]).
    pub fn digests_mut(&mut self) -> &mut jar::EntryDigests {
        &mut self.digests
    }

    /// Second half of [`analyze`]: v1 and the overall verdict. Entry reads
    /// for v1 digests not computed by the analysis are charged to `budget`.
    pub fn finish(self, zip: &ZipArchive, budget: &mut Budget) -> SigningOutcome {
        let entries = jar_entries(zip);
        let manifest = self.manifest;
        let mut read = |i: usize| -> Result<Cow<'_, [u8]>, String> {
            if let Some((_, bytes)) = manifest.as_ref().filter(|(at, _)| *at == i) {
                return Ok(Cow::Borrowed(bytes.as_slice()));
            }
            let entry = zip.entries.get(i).ok_or_else(|| "no such entry".to_string())?;
            zip.read(entry, budget).map_err(|e| e.to_string())
        };
        let mut outcome = signing::finish_v1(self.phase, &entries, &mut read, &self.digests);
        if !self.layout_usable {
            salvage_certificates(zip.data(), &zip.layout, &mut outcome);
        }
        outcome
    }
}

fn jar_entries(zip: &ZipArchive) -> Vec<jar::JarEntry> {
    zip.entries
        .iter()
        .map(|e| jar::JarEntry { name: e.name.clone(), local_header_offset: e.local_header_offset })
        .collect()
}

/// The ZIP structures apksig would use: the EOCD's stored offsets as written
/// (no correction for prepended data, which would break the v2/v3 digests
/// anyway), else the archive's own view when it found a plain end record.
fn usable_sections(data: &[u8], layout: &ZipLayout) -> Option<ZipSections> {
    if let Ok(found) = block::find_eocd(data) {
        return Some(found);
    }
    let len = data.len() as u64;
    let consistent = layout.eocd_found
        && layout.offset_shift == 0
        && layout.eocd_offset < len
        && layout.cd_offset.checked_add(layout.cd_size).is_some_and(|end| end <= layout.eocd_offset);
    consistent.then_some(ZipSections {
        cd_offset: layout.cd_offset,
        cd_size: layout.cd_size,
        eocd_offset: layout.eocd_offset,
    })
}

/// When the central directory is too damaged to verify anything, a signing
/// block still sitting before it names who signed the APK (see
/// [`signing::salvage_certificates`]).
fn salvage_certificates(data: &[u8], layout: &ZipLayout, outcome: &mut SigningOutcome) {
    if !layout.eocd_found || layout.cd_offset >= layout.eocd_offset {
        return;
    }
    // The damage is in the directory's extent; read the block as if the
    // directory ended at the end record.
    let relaxed = ZipSections {
        cd_offset: layout.cd_offset,
        cd_size: layout.eocd_offset - layout.cd_offset,
        eocd_offset: layout.eocd_offset,
    };
    signing::salvage_certificates(data, &relaxed, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On every corpus APK, v1 fed with digests computed ahead gives the
    /// same outcome as v1 reading every entry itself; and a precomputed
    /// digest is really what v1 checks.
    #[test]
    fn precomputed_entry_digests_give_the_same_outcome_on_the_corpus() {
        use crate::archive::zip::Limits;
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/apk");
        let Ok(dir) = std::fs::read_dir(&corpus) else { return };
        let mut paths: Vec<_> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let limits = Limits::default();
        let (mut reused, mut tampered) = (0, 0);
        for path in paths.iter().filter(|p| p.extension().is_some_and(|x| x == "apk")) {
            let Ok(data) = std::fs::read(path) else { continue };
            let Ok(zip) = ZipArchive::parse(&data, &limits) else { continue };
            for min_sdk in [None, Some(24)] {
                let direct = analyze(&zip, &mut Budget::new(&limits), min_sdk, None);

                let mut budget = Budget::new(&limits);
                let mut pending = begin(&zip, min_sdk, None);
                pending.plan_entry_digests(&zip, &mut budget);
                let mut first_wanted = None;
                for e in &zip.entries {
                    if pending.digests_mut().wants(e.index) {
                        first_wanted.get_or_insert(e.index);
                        if let Ok(bytes) = zip.read(e, &mut budget) {
                            pending.digests_mut().offer(e.index, &bytes);
                        }
                    }
                }
                reused += pending.digests_mut().computed_count();
                let split = pending.finish(&zip, &mut budget);
                assert_eq!(split.signing, direct.signing, "{}", path.display());
                assert_eq!(split.diagnostics, direct.diagnostics, "{}", path.display());

                let Some(index) = first_wanted.filter(|_| direct.signing.verified == Some(true)) else {
                    continue;
                };
                let mut pending = begin(&zip, min_sdk, None);
                pending.plan_entry_digests(&zip, &mut Budget::new(&limits));
                pending.digests_mut().offer(index, b"not the entry");
                let v1_checked = direct.signing.schemes.iter().any(|s| s.scheme == "v1" && s.verified);
                let out = pending.finish(&zip, &mut Budget::new(&limits));
                if v1_checked {
                    tampered += 1;
                    assert_eq!(out.signing.verified, Some(false), "{}", path.display());
                    let name = &zip.entries[index].name;
                    assert!(
                        out.diagnostics.iter().any(|d| d.code == "signing.digest_mismatch"
                            && d.message.contains(name.as_str())),
                        "{}: {:?}",
                        path.display(),
                        out.diagnostics
                    );
                }
            }
        }
        if paths.is_empty() {
            return;
        }
        assert!(reused > 0 && tampered > 0, "reused {reused}, tampered {tampered}");
    }
}
