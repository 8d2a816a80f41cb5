//! What an archive entry is to the analysis, decided from its path alone so
//! that entries which cannot matter (images, fonts, media) are never inflated.

/// The part an entry plays in an APK (or an AAB module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryRole {
    /// `classes*.dex` at the root (AAB: `<module>/dex/*.dex`): loaded by the platform.
    PrimaryDex,
    /// A DEX anywhere else: only reachable by dynamic code loading.
    SecondaryDex,
    /// `lib/<abi>/*.so`.
    NativeLib { abi: String },
    /// A `.so` outside `lib/` (packers hide their loaders in assets).
    StrayNativeLib,
    /// `.apk`, `.jar`, `.zip`: may hold code or a whole app.
    NestedArchive,
    /// Binary XML under `res/` (network security config, etc.).
    ResourceXml,
    /// Configuration and web content worth scanning for endpoints.
    TextAsset,
    /// Data of unknown type under assets: sniffed by content if small.
    OpaqueAsset,
    /// `META-INF/<group>_<artifact>.version`: a library's version, as the
    /// Android Gradle plugin records it.
    LibraryVersion,
    /// Signature files, resources that cannot hold endpoints, media.
    Skip,
}

const TEXT_EXTENSIONS: &[&str] = &[
    "json",
    "js",
    "mjs",
    "html",
    "htm",
    "txt",
    "properties",
    "cfg",
    "conf",
    "ini",
    "yaml",
    "yml",
    "xml",
    "plist",
    "csv",
    "toml",
    "env",
    "config",
    "md",
];

const MEDIA_EXTENSIONS: &[&str] = &[
    "png",
    "jpg",
    "jpeg",
    "gif",
    "webp",
    "bmp",
    "ico",
    "svg",
    "ttf",
    "otf",
    "woff",
    "woff2",
    "mp3",
    "mp4",
    "ogg",
    "wav",
    "m4a",
    "aac",
    "flac",
    "mid",
    "webm",
    "mkv",
    "avi",
    "9.png",
    "pkm",
    "ktx",
    "astc",
    "glsl",
    "arsc",
    "kotlin_builtins",
    "kotlin_module",
    "version",
    "pro",
    "css",
    "tflite",
];

fn extension(name: &str) -> &str {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.rfind('.') {
        Some(i) if i > 0 => &file[i + 1..],
        _ => "",
    }
}

/// Classifies an entry by path. `aab_module` strips the AAB module folder
/// (`base/dex/classes.dex` plays the role `classes.dex` plays in an APK).
pub fn classify(name: &str, is_aab: bool) -> EntryRole {
    let path = if is_aab { aab_relative(name) } else { Some(name.to_string()) };
    let Some(path) = path else {
        return EntryRole::Skip;
    };
    let ext = extension(&path).to_ascii_lowercase();
    if ext == "version" && path.strip_prefix("META-INF/").is_some_and(|f| !f.contains('/')) {
        return EntryRole::LibraryVersion;
    }
    if path.ends_with('/')
        || path.starts_with("META-INF/") && !matches!(ext.as_str(), "dex" | "so" | "jar" | "apk")
    {
        return EntryRole::Skip;
    }
    if !path.contains('/') && path.starts_with("classes") {
        // `classes.xed`, `classes.dex.dat`: a DEX-named file the platform does not
        // load is a packer's payload (sniffed: it may be a DEX or encrypted).
        return if ext == "dex" { EntryRole::PrimaryDex } else { EntryRole::OpaqueAsset };
    }
    if let Some(rest) = path.strip_prefix("lib/") {
        if let Some((abi, file)) = rest.split_once('/') {
            if ext == "so" || file.starts_with("lib") && !file.contains('/') {
                return EntryRole::NativeLib { abi: abi.to_string() };
            }
        }
    }
    match ext.as_str() {
        "dex" | "odex" => EntryRole::SecondaryDex,
        "so" => EntryRole::StrayNativeLib,
        "apk" | "jar" | "zip" | "xapk" | "apks" | "aar" => EntryRole::NestedArchive,
        _ if path.starts_with("res/") && ext == "xml" => EntryRole::ResourceXml,
        _ if path.starts_with("res/") && !path.starts_with("res/raw/") => EntryRole::Skip,
        e if TEXT_EXTENSIONS.contains(&e) => EntryRole::TextAsset,
        e if MEDIA_EXTENSIONS.contains(&e) => EntryRole::Skip,
        _ if path.starts_with("assets/") || path.starts_with("res/raw/") => EntryRole::OpaqueAsset,
        _ => EntryRole::Skip,
    }
}

/// `base/dex/classes2.dex` -> `classes2.dex`, `feature/lib/x86/a.so` ->
/// `lib/x86/a.so`, `base/assets/a.json` -> `assets/a.json`,
/// `base/root/a.txt` -> `a.txt`; the manifest and protobuf resources are
/// read elsewhere.
fn aab_relative(name: &str) -> Option<String> {
    let (_module, rest) = name.split_once('/')?;
    if let Some(dex) = rest.strip_prefix("dex/") {
        return Some(dex.to_string());
    }
    if let Some(root) = rest.strip_prefix("root/") {
        return Some(root.to_string());
    }
    if rest.starts_with("lib/") || rest.starts_with("assets/") || rest.starts_with("res/") {
        return Some(rest.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_apk_paths() {
        assert_eq!(classify("classes.dex", false), EntryRole::PrimaryDex);
        assert_eq!(classify("classes12.dex", false), EntryRole::PrimaryDex);
        assert_eq!(classify("assets/classes.dex", false), EntryRole::SecondaryDex);
        assert_eq!(
            classify("lib/arm64-v8a/libfoo.so", false),
            EntryRole::NativeLib { abi: "arm64-v8a".into() }
        );
        assert_eq!(classify("assets/libjiagu.so", false), EntryRole::StrayNativeLib);
        assert_eq!(classify("assets/plugin.apk", false), EntryRole::NestedArchive);
        assert_eq!(classify("assets/config.json", false), EntryRole::TextAsset);
        assert_eq!(classify("res/xml/network_security_config.xml", false), EntryRole::ResourceXml);
        assert_eq!(classify("res/drawable/icon.png", false), EntryRole::Skip);
        assert_eq!(classify("META-INF/CERT.RSA", false), EntryRole::Skip);
        assert_eq!(classify("assets/blob", false), EntryRole::OpaqueAsset);
        assert_eq!(classify("classes.xed", false), EntryRole::OpaqueAsset);
    }

    #[test]
    fn classifies_aab_module_paths() {
        assert_eq!(classify("base/dex/classes.dex", true), EntryRole::PrimaryDex);
        assert_eq!(classify("feature/lib/x86/libz.so", true), EntryRole::NativeLib { abi: "x86".into() });
        assert_eq!(classify("base/manifest/AndroidManifest.xml", true), EntryRole::Skip);
        assert_eq!(classify("BundleConfig.pb", true), EntryRole::Skip);
    }
}
