//! (stub until the signing branch lands)
use crate::archive::zip::{Budget, ZipArchive};
use crate::report::{Diagnostic, Signing};
pub struct SigningOutcome {
    pub signing: Signing,
    pub diagnostics: Vec<Diagnostic>,
}
pub fn analyze(
    _zip: &ZipArchive,
    _b: &mut Budget,
    _min: Option<u32>,
    _max: Option<u32>,
) -> SigningOutcome {
    SigningOutcome {
        signing: Signing::default(),
        diagnostics: vec![],
    }
}
