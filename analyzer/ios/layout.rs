//! Where things are in an IPA or a zipped `.app`: the app bundle roots
//! (`Payload/<X>.app/`), and inside a bundle its nested bundles (app
//! extensions, frameworks, watch apps), dylibs, privacy manifests and
//! provisioning profile. Works on entry names only; nothing is read.

/// Whether an entry is macOS archive debris (`__MACOSX/`, AppleDouble `._x`).
pub fn is_debris(name: &str) -> bool {
    name.starts_with("__MACOSX/") || name.starts_with("._") || name.contains("/._")
}

/// The outermost `.app/` directories, sorted; IPA payload apps first.
pub fn app_roots<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut roots: Vec<String> = Vec::new();
    for name in names {
        if is_debris(name) {
            continue;
        }
        let Some(at) = name.find(".app/") else { continue };
        let root = &name[..at + ".app/".len()];
        // Only direct children of Payload/ in an IPA; any depth in a plain zip.
        if root.starts_with("Payload/") && root["Payload/".len()..].trim_end_matches('/').contains('/') {
            continue;
        }
        if !roots.iter().any(|r| r == root) {
            roots.push(root.to_string());
        }
    }
    roots.sort_by_key(|r| (!r.starts_with("Payload/"), r.matches('/').count(), r.clone()));
    roots
}

/// What a nested bundle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedKind {
    /// `PlugIns/*.appex` or `Extensions/*.appex`.
    Extension,
    /// `Frameworks/*.framework`.
    Framework,
    /// `Watch/*.app` and other nested apps.
    App,
}

/// A bundle directory inside the app (`Payload/A.app/PlugIns/K.appex/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedBundle {
    pub dir: String,
    pub kind: NestedKind,
}

impl NestedBundle {
    /// The executable name a bundle uses when its Info.plist does not say.
    pub fn default_executable(&self) -> String {
        let base = self.dir.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        base.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(base).to_string()
    }
}

/// Bundles nested anywhere under `root` (the root itself excluded), outer first.
pub fn nested_bundles<'a>(root: &str, names: impl Iterator<Item = &'a str>) -> Vec<NestedBundle> {
    let mut out: Vec<NestedBundle> = Vec::new();
    for name in names {
        let Some(rest) = name.strip_prefix(root) else { continue };
        if is_debris(name) {
            continue;
        }
        let mut offset = 0usize;
        for component in rest.split('/') {
            offset += component.len() + 1;
            let kind = if component.ends_with(".appex") {
                NestedKind::Extension
            } else if component.ends_with(".framework") {
                NestedKind::Framework
            } else if component.ends_with(".app") {
                NestedKind::App
            } else {
                continue;
            };
            if offset > rest.len() {
                break;
            }
            let dir = format!("{root}{}", &rest[..offset]);
            if !out.iter().any(|b| b.dir == dir) {
                out.push(NestedBundle { dir, kind });
            }
        }
    }
    out.sort_by_key(|b| (b.dir.matches('/').count(), b.dir.clone()));
    out
}

/// Loose dylibs under `root` (`Frameworks/libswiftCore.dylib`).
pub fn dylibs<'a>(root: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = names
        .filter(|n| n.starts_with(root) && n.ends_with(".dylib") && !is_debris(n))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "Payload/",
        "Payload/Demo.app/Info.plist",
        "Payload/Demo.app/Demo",
        "Payload/Demo.app/PlugIns/Keys.appex/Info.plist",
        "Payload/Demo.app/PlugIns/Keys.appex/Keys",
        "Payload/Demo.app/Frameworks/Track.framework/Track",
        "Payload/Demo.app/Frameworks/Track.framework/PrivacyInfo.xcprivacy",
        "Payload/Demo.app/Frameworks/libswiftCore.dylib",
        "__MACOSX/Payload/Demo.app/._Demo",
    ];

    #[test]
    fn finds_roots_nested_bundles_and_dylibs() {
        assert_eq!(app_roots(NAMES.iter().copied()), ["Payload/Demo.app/"]);
        let nested = nested_bundles("Payload/Demo.app/", NAMES.iter().copied());
        assert_eq!(nested.len(), 2);
        assert_eq!(nested[0].dir, "Payload/Demo.app/Frameworks/Track.framework/");
        assert_eq!(nested[1].kind, NestedKind::Extension);
        assert_eq!(nested[1].default_executable(), "Keys");
        assert_eq!(
            dylibs("Payload/Demo.app/", NAMES.iter().copied()),
            ["Payload/Demo.app/Frameworks/libswiftCore.dylib"]
        );
    }

    #[test]
    fn zipped_apps_skip_resource_forks() {
        let names =
            ["__MACOSX/X.app/._Info.plist", "X.app/Info.plist", "X.app/X", "dir/Y.app/Z.app/Info.plist"];
        assert_eq!(app_roots(names.iter().copied()), ["X.app/", "dir/Y.app/"]);
    }
}
