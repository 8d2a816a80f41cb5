//! Evidence gathered from an app: where each class, API, library, symbol and
//! host was seen. The signature and risk stages match against this; the
//! report carries only what matched, each item with its location.

pub mod calls;
pub mod hosts;
mod names;

pub use names::{Names, NamesBuilder};

/// What kind of code unit a set of evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Dex,
    Native,
    Macho,
}

/// Evidence from one code unit (a DEX file, a native library, a Mach-O).
#[derive(Debug, Clone)]
pub struct CodeUnit {
    /// Entry path inside the input (`classes2.dex`, `lib/arm64-v8a/libfoo.so`).
    pub source: String,
    pub kind: UnitKind,
    /// Classes defined here, as descriptors (`Lcom/umeng/analytics/MobclickAgent;`)
    /// or Objective-C / Swift class names.
    pub classes: Names,
    /// References to code defined elsewhere: framework and library APIs
    /// (`Landroid/location/LocationManager;->getLastKnownLocation`) or
    /// imported symbols.
    pub apis: Names,
    /// Linked libraries (DT_NEEDED, LC_LOAD_DYLIB).
    pub libraries: Names,
    /// Exported symbols (native only).
    pub exports: Names,
    /// Call sites of sensitive APIs (DEX only), as [`calls::CallSite`] lines.
    pub calls: Names,
}

impl CodeUnit {
    pub fn new(source: impl Into<String>, kind: UnitKind) -> Self {
        CodeUnit {
            source: source.into(),
            kind,
            classes: Names::new(),
            apis: Names::new(),
            libraries: Names::new(),
            exports: Names::new(),
            calls: Names::new(),
        }
    }
}

/// A manifest or Info.plist key/value that can reveal an SDK
/// (`UMENG_APPKEY`, `com.facebook.sdk.ApplicationId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigKey {
    pub source: String,
    pub key: String,
    pub value: Option<String>,
}

/// An opaque entry whose content looks encrypted: what a packer keeps its
/// real DEX in (`assets/<name>.dat`, `classes.xed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Entry path inside the input.
    pub source: String,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// Shannon entropy of the first bytes, in thousandths of a bit per byte
    /// (8000 is random data).
    pub entropy_millibits: u32,
}

impl Payload {
    /// Shannon entropy of `data` in thousandths of a bit per byte: the
    /// measure encrypted data maxes out (plain DEX, text and images sit far
    /// below 7.5 bits per byte).
    pub fn entropy_millibits(data: &[u8]) -> u32 {
        let mut counts = [0u64; 256];
        for &b in data {
            if let Some(c) = counts.get_mut(usize::from(b)) {
                *c += 1;
            }
        }
        let total = data.len() as f64;
        if data.is_empty() {
            return 0;
        }
        let bits: f64 = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / total;
                -p * p.log2()
            })
            .sum();
        (bits * 1000.0).round().clamp(0.0, 8000.0) as u32
    }
}

/// Everything the matching stages read, kept in memory for one app.
#[derive(Debug, Clone, Default)]
pub struct AppEvidence {
    pub units: Vec<CodeUnit>,
    pub config_keys: Vec<ConfigKey>,
    /// Every archive entry name (files such as `assets/libjiagu.so` identify packers).
    pub entry_names: Names,
    /// Opaque entries of high entropy (see [`Payload`]).
    pub payloads: Vec<Payload>,
}

impl AppEvidence {
    /// Smaller entries cannot hold an app's code.
    pub const PAYLOAD_MIN_SIZE: u64 = 512;

    /// Entropy (millibits per byte) from which `sample_len` bytes are kept
    /// as a possible encrypted payload. Ciphertext measures ~7.99 bits per
    /// byte over 64 KiB, but a short sample of random bytes measures less
    /// (the estimate is biased down by about 255 / (2 n ln 2) bits): the bar
    /// is 1.5 times that bias below 8 bits, and never above 7.9.
    pub fn payload_min_entropy(sample_len: usize) -> u32 {
        let bias = 276_000 / sample_len.max(1);
        (8_000usize.saturating_sub(bias)).min(7_900) as u32
    }

    pub fn class_count(&self) -> usize {
        self.units.iter().map(|u| u.classes.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_bytes_and_the_bar_for_short_samples() {
        assert_eq!(Payload::entropy_millibits(&[]), 0);
        assert_eq!(Payload::entropy_millibits(&[7; 4096]), 0);
        let uniform: Vec<u8> = (0..4096u32).map(|i| (i % 256) as u8).collect();
        assert_eq!(Payload::entropy_millibits(&uniform), 8000);
        let text = b"the quick brown fox jumps over the lazy dog ".repeat(100);
        assert!(Payload::entropy_millibits(&text) < 4500);
        assert_eq!(AppEvidence::payload_min_entropy(64 << 10), 7_900);
        assert_eq!(AppEvidence::payload_min_entropy(1024), 7_731);
        assert_eq!(AppEvidence::payload_min_entropy(0), 0);
    }
}
