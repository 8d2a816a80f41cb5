//! Per-input state every platform stage threads through: the report being
//! filled, the evidence gathered, the inflate budget shared with nested
//! archives, and reading ZIP entries with their failures as diagnostics.
//! Android and iOS both build on it, and neither imports the other or the
//! scanner that drives them.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::archive::zip::{Budget, Limits, ZipArchive, ZipEntry};
use crate::database::Database;
use crate::diagnostic::Diagnostic;
use crate::evidence::calls::{no_apis, ApiFilter};
use crate::evidence::hosts::HostExtractor;
use crate::evidence::AppEvidence;
use crate::report::{App, Code, Input, Report, Risk, Signing, Tool, SCHEMA};

/// Per-input state threaded through the stages.
pub struct Context<'a> {
    pub db: &'a Database,
    pub limits: &'a Limits,
    pub budget: Budget,
    pub report: Report,
    pub evidence: AppEvidence,
    pub hosts: HostExtractor,
    /// Archive nesting depth of what is being read (0 = the input itself).
    pub depth: u32,
    /// Which API references get their call sites recorded.
    pub sensitive_apis: ApiFilter<'a>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(db: &'a Database, limits: &'a Limits, input: Input) -> Self {
        Context {
            db,
            limits,
            budget: Budget::new(limits),
            report: empty_report(db, input),
            evidence: AppEvidence::default(),
            hosts: HostExtractor::new(&[]),
            depth: 0,
            sensitive_apis: &no_apis,
        }
    }

    pub fn diag(&mut self, d: Diagnostic) {
        self.report.diagnostics.push(d);
    }

    /// Adds diagnostics from a parser of `entry` inside the archive at `prefix`.
    pub fn diags_at(&mut self, prefix: &str, entry: &str, diags: Vec<Diagnostic>) {
        for mut d in diags {
            let base = format!("{prefix}{entry}");
            let base = base.trim_end_matches('!');
            d.location = match (d.location.take(), base.is_empty()) {
                (Some(loc), true) => Some(loc),
                (Some(loc), false) if loc.starts_with(base) => Some(loc),
                (Some(loc), false) => Some(format!("{base}: {loc}")),
                (None, true) => None,
                (None, false) => Some(base.to_string()),
            };
            self.report.diagnostics.push(d);
        }
    }

    /// A context for an app embedded in this one, sharing the inflate budget.
    pub fn child(&mut self) -> Context<'a> {
        let mut c = Context::new(self.db, self.limits, self.report.input.clone());
        c.budget = Budget { remaining: self.budget.remaining };
        c.depth = self.depth + 1;
        c.sensitive_apis = self.sensitive_apis;
        c
    }

    /// Folds an embedded app's code, hosts and diagnostics into this report
    /// (its manifest facts stay in its `embedded[]` summary).
    pub fn absorb_child(&mut self, child: Context<'a>) {
        self.budget.remaining = child.budget.remaining;
        let r = child.report;
        self.report.code.dex.extend(r.code.dex);
        self.report.code.native.extend(r.code.native);
        self.report.diagnostics.extend(r.diagnostics);
        self.report.embedded.extend(r.embedded);
        self.evidence.units.extend(child.evidence.units);
        self.evidence.config_keys.extend(child.evidence.config_keys);
        self.evidence.entry_names.append(&child.evidence.entry_names);
        self.evidence.payloads.extend(child.evidence.payloads);
        for h in child.hosts.finish() {
            for ev in &h.evidence {
                self.hosts.scan(&ev.source, ev.kind, &ev.value);
            }
        }
    }

    /// Reads one entry of `zip` (found under `prefix` when nested), turning
    /// failures into diagnostics and charging the inflate budget.
    pub fn read_entry<'z>(
        &mut self,
        zip: &ZipArchive<'z>,
        e: &ZipEntry,
        prefix: &str,
    ) -> Option<Cow<'z, [u8]>> {
        let mut diags = Vec::new();
        let result = zip.read_with_diagnostics(e, &mut self.budget, &mut diags);
        self.diags_at(prefix, &e.name, diags);
        match result {
            Ok(data) => Some(data),
            Err(err) => {
                self.diag(Diagnostic::warning(err.code(), err.to_string()).at(format!("{prefix}{}", e.name)));
                None
            }
        }
    }
}

/// Lower-case hex SHA-256: how reports name inputs, certificates and embedded apps.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn empty_report(db: &Database, input: Input) -> Report {
    Report {
        schema: SCHEMA.to_string(),
        tool: Tool {
            name: "appvet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            signatures_version: db.version.clone(),
        },
        input,
        app: App::default(),
        permissions: Vec::new(),
        signing: Signing::default(),
        code: Code::default(),
        sdks: Vec::new(),
        hosts: Vec::new(),
        publisher: Default::default(),
        capabilities: Vec::new(),
        risk: Risk::default(),
        analysis: Default::default(),
        verdict: None,
        embedded: Vec::new(),
        diagnostics: Vec::new(),
        protections: Vec::new(),
    }
}
