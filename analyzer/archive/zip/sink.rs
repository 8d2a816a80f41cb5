//! Collects directory diagnostics with a per-code cap, so a hostile archive
//! with 200 000 odd entries yields a readable list, not 200 000 lines.

use crate::diagnostic::Diagnostic;

use super::codes;

/// Diagnostics listed per code before the rest are only counted.
const LISTED_PER_CODE: usize = 20;

#[derive(Default)]
pub(super) struct DiagnosticSink {
    listed: Vec<Diagnostic>,
    /// Occurrences per code; the set of codes is small, so a list beats a map.
    counts: Vec<(&'static str, usize)>,
}

impl DiagnosticSink {
    /// Counts one occurrence of `code` and says whether it should be listed.
    /// Callers build the message only when this is true.
    pub fn wants(&mut self, code: &'static str) -> bool {
        let count = match self.counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => n,
            None => {
                self.counts.push((code, 0));
                match self.counts.last_mut() {
                    Some((_, n)) => n,
                    None => return false,
                }
            }
        };
        *count += 1;
        *count <= LISTED_PER_CODE
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.listed.push(diagnostic);
    }

    /// Shorthand for the common `wants` + `push`.
    pub fn emit(&mut self, code: &'static str, make: impl FnOnce() -> Diagnostic) {
        if self.wants(code) {
            self.push(make());
        }
    }

    pub fn finish(mut self) -> Vec<Diagnostic> {
        for (code, n) in &self.counts {
            if *n > LISTED_PER_CODE {
                self.listed.push(Diagnostic::info(
                    codes::DIAGNOSTICS_SUPPRESSED,
                    format!("{} more {code} diagnostics not listed ({n} in all)", n - LISTED_PER_CODE),
                ));
            }
        }
        self.listed
    }
}
