//! The demo apps: which files exist under samples/ and how each is built.
//! File names are stable API (tests and golden reports refer to them);
//! samples/README.md says what an analyzer should find in each.

mod benign;
pub(crate) mod common;
mod datahungry;
mod ios_demo;
mod malformed;
mod shortvideo;
mod split_demo;

pub use benign::{benign_apk, BENIGN_SUBJECT};
pub use datahungry::{datahungry_apk, FLASHLIGHT_SUBJECT};
pub use ios_demo::{demo_tracker_ipa, DEVELOPER_SUBJECT};

/// One generated file, with its path relative to the samples/ directory.
#[derive(Clone, Debug)]
pub struct SampleFile {
    pub path: &'static str,
    pub bytes: Vec<u8>,
}

/// Every sample, in a fixed order.
pub fn all_samples() -> Vec<SampleFile> {
    let benign = benign_apk();
    let sample = |path: &'static str, bytes: Vec<u8>| SampleFile { path, bytes };
    vec![
        sample("datahungry.apk", datahungry_apk()),
        sample("split-demo.apks", split_demo::split_demo_apks()),
        sample("malformed/truncated.apk", malformed::truncated(&benign)),
        sample("malformed/zip-bomb.apk", malformed::zip_bomb()),
        sample("malformed/bad-string-pool.apk", malformed::bad_string_pool()),
        sample("malformed/janus.apk", malformed::janus()),
        sample("malformed/evil-names.apk", malformed::evil_names()),
        sample("malformed/bad-dex.apk", malformed::bad_dex()),
        sample("malformed/tampered.apk", malformed::tampered()),
        sample("demo-tracker.ipa", demo_tracker_ipa()),
        sample("malformed/demo-tracker-tampered.ipa", ios_demo::demo_tracker_tampered_ipa()),
        sample("malformed/bad-load-commands.macho", ios_demo::bad_load_commands_macho()),
        sample("malformed/truncated-fat.macho", ios_demo::truncated_fat_macho()),
        sample("shortvideo.apk", shortvideo::shortvideo_apk()),
        sample("benign.apk", benign),
    ]
}
