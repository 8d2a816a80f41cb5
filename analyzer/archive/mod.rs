//! Containers: detecting what an input is and reading ZIP archives safely.

pub mod zip;

/// What an input's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Zip,
    Dex,
    Elf,
    Macho,
    Unknown,
}

/// Identifies a file by content, not by name: store mirrors and malware
/// rename files freely.
pub fn sniff(data: &[u8]) -> Sniffed {
    let magic4 = data.get(..4).unwrap_or(&[]);
    match magic4 {
        b"PK\x03\x04" | b"PK\x05\x06" | b"PK\x07\x08" => return Sniffed::Zip,
        b"dex\n" => return Sniffed::Dex,
        b"\x7fELF" => return Sniffed::Elf,
        // Mach-O thin (both byte orders, 32/64-bit) and universal (fat) headers.
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] | [0xca, 0xfe, 0xba, 0xbe] => {
            return Sniffed::Macho
        }
        _ => {}
    }
    if has_zip_trailer(data) {
        return Sniffed::Zip;
    }
    Sniffed::Unknown
}

/// An end-of-central-directory record in the last 64 KiB: a ZIP with data
/// prepended (Janus, self-extractors) ends like any other ZIP.
pub fn has_zip_trailer(data: &[u8]) -> bool {
    let tail_start = data.len().saturating_sub(65_557);
    data.get(tail_start..).is_some_and(|tail| memchr::memmem::rfind(tail, b"PK\x05\x06").is_some())
}

/// The container kinds of the report's `input.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Apk,
    /// XAPK / APKS / APKM: base plus split APKs.
    Bundle(&'static str),
    Aab,
    Ipa,
    App,
    Unknown,
}

/// Decides what a ZIP holds from its entry names (and the file name as a tie-breaker).
pub fn classify_zip(zip: &zip::ZipArchive, file_name: &str) -> ContainerKind {
    let lower = file_name.to_ascii_lowercase();
    let has = |n: &str| zip.by_name(n).is_some();
    if has("AndroidManifest.xml") {
        return ContainerKind::Apk;
    }
    if has("base/manifest/AndroidManifest.xml") || has("BundleConfig.pb") {
        return ContainerKind::Aab;
    }
    let root_apks = zip
        .entries
        .iter()
        .filter(|e| !e.name.contains('/') && e.name.to_ascii_lowercase().ends_with(".apk"))
        .count();
    if root_apks > 0 {
        let kind = if has("manifest.json") || lower.ends_with(".xapk") {
            "xapk"
        } else if has("info.json") || lower.ends_with(".apkm") {
            "apkm"
        } else {
            "apks"
        };
        return ContainerKind::Bundle(kind);
    }
    let mut app_bundle = false;
    for e in &zip.entries {
        if e.name.starts_with("Payload/") && e.name.contains(".app/") {
            return ContainerKind::Ipa;
        }
        if e.name.contains(".app/") && !e.name.starts_with("__MACOSX/") {
            app_bundle = true;
        }
    }
    if app_bundle {
        return ContainerKind::App;
    }
    // An .ipa without a bundle is still reported as one, with the missing
    // app as a finding, rather than refused.
    if lower.ends_with(".ipa") {
        return ContainerKind::Ipa;
    }
    // DEX without a manifest, or an .apk by name: analyse as an APK and let
    // the missing manifest be a finding.
    if zip.entries.iter().any(|e| e.name.ends_with(".dex"))
        || lower.ends_with(".apk")
        || lower.ends_with(".jar")
    {
        return ContainerKind::Apk;
    }
    ContainerKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic() {
        assert_eq!(sniff(b"dex\n035\0"), Sniffed::Dex);
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Sniffed::Elf);
        assert_eq!(sniff(&[0xcf, 0xfa, 0xed, 0xfe, 0, 0]), Sniffed::Macho);
        assert_eq!(sniff(&[0xca, 0xfe, 0xba, 0xbe]), Sniffed::Macho);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"dex\n035junkPK\x05\x06"), Sniffed::Dex);
        assert!(has_zip_trailer(b"dex\n035junkPK\x05\x06"));
        assert_eq!(sniff(b"MZjunkPK\x05\x06\0\0"), Sniffed::Zip);
        assert_eq!(sniff(b"hello"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }
}
