//! `appvet manifest APP`: the decoded AndroidManifest.xml as XML text (an
//! APK, AAB, or the base of an XAPK / APKS / APKM bundle), or the Info.plist
//! of an iOS app (IPA or zipped .app) as XML, for every container `scan` reads.

use std::path::Path;

use appvet::archive::zip::{Limits, ZipArchive};
use appvet::archive::{classify_zip, sniff, ContainerKind, Sniffed};

use super::error::write_stdout;
use super::Error;

pub fn run(path: &Path) -> Result<i32, Error> {
    let unusable = |e: String| Error::Unusable(format!("{}: {e}", path.display()));
    let data = std::fs::read(path).map_err(|e| unusable(format!("cannot read: {e}")))?;
    let limits = Limits::default();
    if sniff(&data) != Sniffed::Zip {
        return Err(unusable("not an app archive: a bare DEX, ELF or Mach-O file has no manifest".into()));
    }
    let zip = ZipArchive::parse(&data, &limits).map_err(|e| unusable(e.to_string()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let text = match classify_zip(&zip, &name) {
        ContainerKind::Ipa | ContainerKind::App => appvet::ios::info_plist_xml(&data, &limits),
        _ => appvet::android::manifest_xml(&data, &limits),
    }
    .map_err(unusable)?;
    write_stdout(text.as_bytes())
}
