//! Call sites: which method of the app holds an `invoke-*` of a sensitive
//! API or an `sget` of a sensitive field. Kept per code unit as one
//! [`Names`](super::Names) list of `api<TAB>caller` lines (`Landroid/location/LocationManager;->getLastKnownLocation`
//! and `Lcom/tencent/a/b/e;->a(Landroid/content/Context;)V`), so that they
//! are stored and re-read by `rescore` like every other list of names.

/// Marks a stored line whose "API" is a host the caller's code loads as a
/// string constant (`host:api.example.com<TAB>caller`); a space-free
/// prefix no `Lclass;->member` starts with.
pub const HOST_PREFIX: &str = "host:";

/// Marks a stored line whose "API" is a native library the caller loads
/// (`lib:libBugly.so<TAB>caller`): `System.loadLibrary("Bugly")`.
pub const LIBRARY_PREFIX: &str = "lib:";

/// One call site as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallSite<'a> {
    /// `Lclass;->member` of the API (no signature: overloads are one API).
    pub api: &'a str,
    /// `Lclass;->method(args)ret` of the method holding the call.
    pub caller: &'a str,
}

impl<'a> CallSite<'a> {
    /// The stored line for a call site.
    pub fn line(api: &str, caller: &str) -> String {
        format!("{api}\t{caller}")
    }

    /// Reads a stored line; `None` when it has no tab.
    pub fn parse(line: &'a str) -> Option<Self> {
        let (api, caller) = line.split_once('\t')?;
        Some(CallSite { api, caller })
    }

    /// The host, when this line records a string constant naming one.
    pub fn host(&self) -> Option<&'a str> {
        self.api.strip_prefix(HOST_PREFIX)
    }

    /// The native library file, when this line records a load of one.
    pub fn library(&self) -> Option<&'a str> {
        self.api.strip_prefix(LIBRARY_PREFIX)
    }

    /// Descriptor of the caller's class (`Lcom/tencent/a/b/e;`).
    pub fn caller_class(&self) -> &'a str {
        match self.caller.find(";->") {
            Some(i) => &self.caller[..=i],
            None => self.caller,
        }
    }
}

/// Decides which `Lclass;->member` references are worth a call site (the
/// risk tables' API keys); the platform stages ask it once per reference.
pub type ApiFilter<'a> = &'a (dyn Fn(&str) -> bool + Sync);

/// The filter that keeps nothing (inputs scanned without risk tables).
pub fn no_apis(_: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_splits_into_api_caller_and_class() {
        let line = CallSite::line("La;->b", "Lc/d;->e(I)V");
        let site = CallSite::parse(&line).unwrap();
        assert_eq!(site, CallSite { api: "La;->b", caller: "Lc/d;->e(I)V" });
        assert_eq!(site.caller_class(), "Lc/d;");
        assert_eq!(CallSite::parse("no tab"), None);
    }
}
