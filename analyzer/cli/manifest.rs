//! `appvet manifest APP`: the decoded AndroidManifest.xml as XML text.

use std::path::PathBuf;

use appvet::archive::zip::Limits;

use super::{EXIT_ALL_FAILED, EXIT_OK};

pub fn run(path: &PathBuf) -> i32 {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("appvet: {}: cannot read: {e}", path.display());
            return EXIT_ALL_FAILED;
        }
    };
    match appvet::android::manifest_xml(&data, &Limits::default()) {
        Ok(xml) => {
            print!("{xml}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("appvet: {}: {e}", path.display());
            EXIT_ALL_FAILED
        }
    }
}
