//! `appvet manifest APP`: the decoded AndroidManifest.xml as XML text.

use std::path::PathBuf;

use appvet::archive::zip::Limits;

use super::{Error, EXIT_OK};

pub fn run(path: &PathBuf) -> Result<i32, Error> {
    let data =
        std::fs::read(path).map_err(|e| Error::Unusable(format!("{}: cannot read: {e}", path.display())))?;
    let xml = appvet::android::manifest_xml(&data, &Limits::default())
        .map_err(|e| Error::Unusable(format!("{}: {e}", path.display())))?;
    print!("{xml}");
    Ok(EXIT_OK)
}
