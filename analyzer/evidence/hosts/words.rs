//! The word lists the host rules consult, kept as data in `words/*.txt`
//! so `rules.rs` holds only the rules. Each file is compiled in with
//! `include_str!` and split into words once, on first use; the rules match
//! against them exactly as they did against the former constant arrays
//! (in file order, exact comparison).

use std::sync::LazyLock;

/// A compiled-in list: one entry per line, `#` comment lines and blank
/// lines skipped, surrounding whitespace trimmed.
pub(super) type WordList = LazyLock<Vec<&'static str>>;

fn parse(text: &'static str) -> Vec<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

/// `words/network_schemes.txt`: Schemes whose authority is a network host: trusted as written.
pub(super) static NETWORK_SCHEMES: WordList =
    LazyLock::new(|| parse(include_str!("words/network_schemes.txt")));

/// `words/local_schemes.txt`: Schemes whose authority is not a network host (a content-provider
/// authority, a package, a local path): never reported.
pub(super) static LOCAL_SCHEMES: WordList = LazyLock::new(|| parse(include_str!("words/local_schemes.txt")));

/// `words/identifier_url_prefixes.txt`: URL prefixes (host + path, lower case) that are identifiers rather than
/// endpoints: XML namespaces, DTDs and licence texts are in nearly every app
/// and nobody connects to them, so reporting them would bury real hosts.
pub(super) static IDENTIFIER_URL_PREFIXES: WordList =
    LazyLock::new(|| parse(include_str!("words/identifier_url_prefixes.txt")));

/// `words/package_roots.txt`: First labels that open a Java/Kotlin package name (reverse DNS) or a
/// system property key rather than a hostname. `com.facebook.ads` has a real
/// TLD (`.ads`), so only its shape gives it away. Hostnames that really start
/// with one of these labels (`net.example.com`) are rare and still reported
/// in URL form.
pub(super) static PACKAGE_ROOTS: WordList = LazyLock::new(|| parse(include_str!("words/package_roots.txt")));

/// `words/identifier_roots.txt`: First labels that are programming-language receivers, not hosts
/// (`window.top`, `this.name`, `self.location` in JavaScript assets).
pub(super) static IDENTIFIER_ROOTS: WordList =
    LazyLock::new(|| parse(include_str!("words/identifier_roots.txt")));

/// `words/file_extensions.txt`: Last labels that are file extensions. Most are not TLDs and fail the
/// suffix check anyway; the ones listed first *are* TLDs (`libfoo.so`,
/// `README.md`, `Android.mk`, `proguard.pro`, `Assets.car`, `app.properties`).
pub(super) static FILE_EXTENSIONS: WordList =
    LazyLock::new(|| parse(include_str!("words/file_extensions.txt")));

/// `words/legacy_or_popular_tlds.txt`: TLDs accepted for a bare name found *inside* other text (not a whole
/// string): country codes and the legacy gTLDs, plus new gTLDs that are
/// popular for hosts and unlikely as identifier words. Word TLDs such as
/// `.target`, `.name`, `.style`, `.data`, `.app`, `.ads` match member
/// accesses (`e.target`, `this.name`) far more often than hosts.
pub(super) static LEGACY_OR_POPULAR_TLDS: WordList =
    LazyLock::new(|| parse(include_str!("words/legacy_or_popular_tlds.txt")));

/// `words/hosting_cctlds.txt`: Country codes that services commonly use for a bare second-level name
/// (`qq.com`-style strings naming `baidu.cn`, `yandex.ru`). A two-label bare
/// name on any other country code (`coverage.ec`, `press.jm`) is far more
/// often a file or key than a host; with a subdomain it is accepted.
pub(super) static HOSTING_CCTLDS: WordList =
    LazyLock::new(|| parse(include_str!("words/hosting_cctlds.txt")));

/// `words/word_cctlds.txt`: Country codes that are also common English/code words. A two-label bare
/// name on them (`user.id`, `this.is`, `config.in`) is a key path far more
/// often than a host; three labels (`api.example.in`) are accepted.
pub(super) static WORD_CCTLDS: WordList = LazyLock::new(|| parse(include_str!("words/word_cctlds.txt")));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_to_plain_words() {
        assert_eq!(parse("# header\n\n a \nb\n#c\n"), ["a", "b"]);
        for list in [
            &NETWORK_SCHEMES,
            &LOCAL_SCHEMES,
            &IDENTIFIER_URL_PREFIXES,
            &PACKAGE_ROOTS,
            &IDENTIFIER_ROOTS,
            &FILE_EXTENSIONS,
            &LEGACY_OR_POPULAR_TLDS,
            &HOSTING_CCTLDS,
            &WORD_CCTLDS,
        ] {
            assert!(!list.is_empty());
            assert!(list.iter().all(|w| !w.is_empty() && !w.contains(char::is_whitespace)));
        }
        assert!(NETWORK_SCHEMES.contains(&"https"));
        assert!(FILE_EXTENSIONS.contains(&"so"));
    }
}
