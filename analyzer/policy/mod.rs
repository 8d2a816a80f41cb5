//! Policies: TOML files mapping findings to approve / review / block, with
//! presets in `signatures/policies/` (`baseline`, the default; `nl-aivd`;
//! `us-foreign-adversaries`), each citing its source. Evaluating a policy
//! over a report yields the [`Verdict`]: the decision after exceptions, the
//! rules that matched and the spy-sensitive criteria, each pointing at the
//! factors and evidence it rests on.

pub mod completeness;
pub mod exceptions;
mod suggest;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::report::{
    CriterionMatch, Distribution, Evidence, ExceptionStatus, GapKind, Report, RuleMatch, Verdict,
};
use crate::risk::jurisdiction::{attributions, Attribution, Confidence};
use crate::risk::score::own_reach;
use crate::risk::RiskTables;

pub use exceptions::{Date, Exception, ExceptionSet};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
}

// Rules and exceptions decide in the report's terms (ordered: the strictest wins).
pub use crate::report::Decision;

/// When a policy calls an app spy-sensitive: a party of one of `subjects`
/// in one of the policy's countries, together with reach into one of
/// `data_classes` (capability data classes).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpyCriteria {
    #[serde(default)]
    pub subjects: Vec<String>,
    #[serde(default)]
    pub data_classes: Vec<String>,
    /// Weakest attribution that counts (`certificate` ... `cctld`); all when absent.
    #[serde(default)]
    pub min_confidence: Option<String>,
}

/// One rule: every condition written must hold (an empty rule is refused).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub decision: Decision,
    pub description: String,
    /// The policy's spy-sensitive criteria hold.
    #[serde(default)]
    pub spy_sensitive: bool,
    /// A party of one of these subjects (publisher | sdk_owner | host_owner)
    /// is in one of the policy's countries.
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Weakest attribution that counts for `subjects`.
    #[serde(default)]
    pub min_confidence: Option<String>,
    #[serde(default)]
    pub min_data_collection: Option<u32>,
    #[serde(default)]
    pub min_jurisdiction: Option<u32>,
    /// The app declares or reaches any of these capabilities.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// A capability finding of this kind exists (`used_undeclared`, `declared_unused`).
    #[serde(default)]
    pub capability_finding: Option<String>,
    #[serde(default)]
    pub signing_not_verified: bool,
    #[serde(default)]
    pub debug_certificate: bool,
    /// The report carries a diagnostic with one of these codes
    /// (`manifest.debuggable`, `ios.keyboard_extension`; every code is listed
    /// in docs/DIAGNOSTICS.md), or of a family written `zip.*`.
    #[serde(default)]
    pub diagnostics: Vec<String>,
    /// One of these SDK ids was found (`sdks[].id`).
    #[serde(default)]
    pub sdks: Vec<String>,
    /// An SDK of one of these categories was found (`sdks[].categories`).
    #[serde(default)]
    pub sdk_categories: Vec<String>,
    /// iOS: the provisioning profile's distribution is one of these
    /// (`app-store`, `ad-hoc`, `enterprise`, `development`).
    #[serde(default)]
    pub provisioning: Vec<Distribution>,
    /// iOS: an app extension with one of these extension points
    /// (`com.apple.keyboard-service` for custom keyboards).
    #[serde(default)]
    pub app_extensions: Vec<String>,
    /// Android: the target SDK is below this API level (apps targeting old
    /// levels keep old privacy behaviour); an unknown target counts as below.
    #[serde(default)]
    pub target_sdk_below: Option<u32>,
    /// iOS: one of these entitlements is granted (`get-task-allow`,
    /// `com.apple.developer.networking.vpn.api` ...): true, or a non-empty value.
    #[serde(default)]
    pub entitlements: Vec<String>,
    /// iOS: the provisioning profile expired before the day the verdict is
    /// given (`--today`, else today's date; the embedded baseline verdict
    /// of a scan has no day and never matches, so reports stay the same
    /// whatever day they are made).
    #[serde(default)]
    pub provisioning_expired: bool,
    /// iOS: a certificate of the code signature (the signer or an
    /// intermediate; Apple's roots are left out) expired before the day the
    /// verdict is given, as `provisioning_expired` takes the day. (iOS keeps
    /// running an app whose certificate expired after signing; one invalid
    /// at the signing time the signature states is the diagnostic
    /// `codesign.certificate_expired_at_signing`.)
    #[serde(default)]
    pub certificate_expired: bool,
}

impl Rule {
    fn is_empty(&self) -> bool {
        !self.spy_sensitive
            && self.subjects.is_empty()
            && self.min_data_collection.is_none()
            && self.min_jurisdiction.is_none()
            && self.capabilities.is_empty()
            && self.capability_finding.is_none()
            && !self.signing_not_verified
            && !self.debug_certificate
            && self.diagnostics.is_empty()
            && self.sdks.is_empty()
            && self.sdk_categories.is_empty()
            && self.provisioning.is_empty()
            && self.app_extensions.is_empty()
            && self.target_sdk_below.is_none()
            && self.entitlements.is_empty()
            && !self.provisioning_expired
            && !self.certificate_expired
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub title: String,
    /// Where the policy comes from (law, guidance), as citations.
    pub sources: Vec<String>,
    /// ISO 3166-1 alpha-2 countries of concern.
    #[serde(default)]
    pub countries: Vec<String>,
    /// How a party falls under a country: `control` (the country it is
    /// controlled from, or any country on its chain of control) and / or
    /// `registration` (where it is registered). Both when absent.
    #[serde(default = "both_country_bases")]
    pub countries_by: Vec<String>,
    #[serde(default)]
    pub spy_sensitive: SpyCriteria,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

const PRESETS: [(&str, &str); 3] = [
    ("baseline", include_str!("../../signatures/policies/baseline.toml")),
    ("nl-aivd", include_str!("../../signatures/policies/nl-aivd.toml")),
    ("us-foreign-adversaries", include_str!("../../signatures/policies/us-foreign-adversaries.toml")),
];

fn both_country_bases() -> Vec<String> {
    vec!["control".into(), "registration".into()]
}

/// The preset used when no policy is named.
pub const DEFAULT_POLICY: &str = "baseline";

impl Policy {
    /// Names of the built-in presets.
    pub fn preset_names() -> impl Iterator<Item = &'static str> {
        PRESETS.iter().map(|(n, _)| *n)
    }

    /// A built-in preset by name.
    pub fn preset(name: &str) -> Option<Policy> {
        Policy::preset_ref(PRESETS.iter().position(|(n, _)| *n == name)?).cloned()
    }

    /// Preset `index` of [`PRESETS`], parsed once per process: every app's
    /// report is judged under the baseline, and a batch must not parse TOML
    /// per app.
    fn preset_ref(index: usize) -> Option<&'static Policy> {
        static PARSED: [OnceLock<Option<Policy>>; PRESETS.len()] = [const { OnceLock::new() }; PRESETS.len()];
        let (name, text) = PRESETS.get(index)?;
        PARSED.get(index)?.get_or_init(|| Policy::parse(text, name).ok()).as_ref()
    }

    /// The default policy (`baseline`).
    pub fn baseline() -> &'static Policy {
        static EMPTY: OnceLock<Policy> = OnceLock::new();
        let index = PRESETS.iter().position(|(n, _)| *n == DEFAULT_POLICY);
        index.and_then(Policy::preset_ref).unwrap_or_else(|| {
            EMPTY.get_or_init(|| Policy {
                name: DEFAULT_POLICY.into(),
                title: String::new(),
                sources: Vec::new(),
                countries: Vec::new(),
                countries_by: both_country_bases(),
                spy_sensitive: SpyCriteria::default(),
                rules: Vec::new(),
            })
        })
    }

    /// A preset name, or else a path to a policy file.
    pub fn load(name_or_path: &str) -> Result<Policy, PolicyError> {
        Policy::load_with_signatures(name_or_path, None)
    }

    /// Like [`Policy::load`], but a preset name is first looked up as
    /// `policies/NAME.toml` in a signature directory (`--signatures DIR`),
    /// so that an office's edited copy of a preset replaces the embedded one.
    pub fn load_with_signatures(
        name_or_path: &str,
        signatures: Option<&Path>,
    ) -> Result<Policy, PolicyError> {
        let is_preset_name = Policy::preset_names().any(|n| n == name_or_path);
        if let (true, Some(dir)) = (is_preset_name, signatures) {
            let path = dir.join("policies").join(format!("{name_or_path}.toml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => return Policy::parse(&text, &path.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(PolicyError::Io { path: path.display().to_string(), source }),
            }
        }
        if let Some(p) = Policy::preset(name_or_path) {
            return Ok(p);
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|source| {
            let presets = Policy::preset_names().collect::<Vec<_>>().join(", ");
            // A bare word that is no file was meant as a preset name.
            let bare = !name_or_path.contains(['/', '\\', '.']);
            match suggest::nearest(name_or_path, Policy::preset_names()) {
                Some(best) if bare && source.kind() == std::io::ErrorKind::NotFound => PolicyError::Syntax {
                    path: name_or_path.into(),
                    message: format!(
                        "no such preset; did you mean {best:?}? (presets: {presets}, or a policy file)"
                    ),
                },
                _ if bare && source.kind() == std::io::ErrorKind::NotFound => PolicyError::Syntax {
                    path: name_or_path.into(),
                    message: format!("no such preset (presets: {presets}) and no such policy file"),
                },
                _ => PolicyError::Io { path: format!("{name_or_path} (not a preset: {presets})"), source },
            }
        })?;
        Policy::parse(&text, name_or_path)
    }

    pub fn parse(text: &str, path: &str) -> Result<Policy, PolicyError> {
        let syntax = |message: String| PolicyError::Syntax { path: path.into(), message };
        let p: Policy = toml::from_str(text).map_err(|e| syntax(suggest::unknown_field(&e.to_string())))?;
        for r in &p.rules {
            if r.is_empty() {
                return Err(syntax(format!("rule {} has no condition and would match every app", r.id)));
            }
            for s in r.subjects.iter().chain(&p.spy_sensitive.subjects) {
                if !matches!(s.as_str(), "publisher" | "sdk_owner" | "host_owner") {
                    return Err(syntax(format!(
                        "unknown subject {s:?}{} (publisher, sdk_owner, host_owner)",
                        suggest::hint(s, ["publisher", "sdk_owner", "host_owner"])
                    )));
                }
            }
            for c in r.min_confidence.iter().chain(&p.spy_sensitive.min_confidence) {
                if Confidence::parse(c).is_none() {
                    return Err(syntax(format!("unknown confidence {c:?}")));
                }
            }
        }
        for r in &p.rules {
            if let Some(code) = r.diagnostics.iter().find(|c| !is_known_diagnostic(c)) {
                let families: Vec<String> =
                    documented_codes().filter_map(|c| Some(format!("{}.*", c.split('.').next()?))).collect();
                let near = if code.ends_with(".*") {
                    suggest::hint(code, families.iter().map(String::as_str))
                } else {
                    suggest::hint(code, documented_codes())
                };
                return Err(syntax(format!(
                    "rule {}: unknown diagnostic code {code:?}{near} (docs/DIAGNOSTICS.md lists them; a family is written like \"zip.*\")",
                    r.id
                )));
            }
        }
        if let Some(b) = p.countries_by.iter().find(|b| !matches!(b.as_str(), "control" | "registration")) {
            return Err(syntax(format!("unknown countries_by {b:?} (control, registration)")));
        }
        if !p.countries.is_empty() && p.countries_by.is_empty() {
            return Err(syntax("countries_by is empty: no party could fall under a country".into()));
        }
        if let Some(c) = p.countries.iter().find(|c| c.len() != 2 || c.to_ascii_uppercase() != **c) {
            return Err(syntax(format!("country {c:?} is not an upper-case ISO 3166-1 alpha-2 code")));
        }
        Ok(p)
    }

    /// Parties of `subjects` in the policy's countries, at `min_confidence` or stronger.
    fn parties<'a>(
        &self,
        all: &'a [Attribution],
        subjects: &[String],
        min: Option<&str>,
    ) -> Vec<&'a Attribution> {
        let min = min.and_then(Confidence::parse).unwrap_or(Confidence::Cctld);
        all.iter()
            .filter(|a| subjects.iter().any(|s| s == a.subject.as_str()))
            .filter(|a| self.country_of(a).is_some() && a.confidence <= min)
            .collect()
    }

    /// The policy country `a` falls under (the one that triggers a finding).
    pub fn country_of<'a>(&self, a: &'a Attribution) -> Option<&'a str> {
        let by = |b: &str| self.countries_by.iter().any(|x| x == b);
        a.country_in(&self.countries, by("control"), by("registration"))
    }

    /// The verdict for a report whose capabilities and risk are filled.
    pub fn evaluate(&self, report: &Report, exceptions: &ExceptionSet) -> Verdict {
        let tables = RiskTables::embedded();
        let all = attributions(report, &tables.weights.jurisdiction);

        let matched_criteria = self.spy_criteria(report, &all);
        let spy_sensitive = !matched_criteria.is_empty();

        let mut rules = Vec::new();
        for rule in &self.rules {
            if let Some(factors) =
                self.rule_matches(rule, report, &all, spy_sensitive, &matched_criteria, exceptions.today)
            {
                rules.push(RuleMatch {
                    id: rule.id.clone(),
                    decision: rule.decision,
                    description: rule.description.clone(),
                    factors,
                });
            }
        }
        // Built into every policy, not a rule a policy file can leave out:
        // what was not read cannot be approved.
        if !report.analysis.complete {
            rules.push(incomplete_analysis_rule(report));
        }
        let before = rules.iter().map(|r| r.decision).max().unwrap_or(Decision::Approve);
        let (exception_outcomes, granted) = exceptions.check(report);
        let mut decision = granted.unwrap_or(before);
        // An exception approves an app staff need, as far as it was read:
        // it never approves past a gap.
        if !report.analysis.complete {
            decision = decision.max(Decision::Review);
        }

        let mut reasons: Vec<String> = rules
            .iter()
            .map(|r| {
                let factors =
                    if r.factors.is_empty() { String::new() } else { format!(" [{}]", r.factors.join(", ")) };
                format!("{}: {}{factors}", r.decision, r.description)
            })
            .collect();
        for e in &exception_outcomes {
            reasons.push(match e.status {
                ExceptionStatus::Applied => format!(
                    "exception applied until {} (signer {}): {}",
                    e.expires, e.signer_sha256, e.justification
                ),
                other @ (ExceptionStatus::Expired
                | ExceptionStatus::SignerMismatch
                | ExceptionStatus::SignatureNotVerified) => format!(
                    "exception not applied ({other}; expires {}, checked {})",
                    e.expires, e.checked_on
                ),
            });
        }
        Verdict {
            decision,
            policy: self.name.clone(),
            spy_sensitive,
            criteria: matched_criteria.iter().map(|c| c.id.clone()).collect(),
            reasons,
            decision_before_exceptions: before,
            rules,
            matched_criteria,
            exceptions: exception_outcomes,
            countries: self.countries.clone(),
        }
    }

    fn spy_criteria(&self, report: &Report, all: &[Attribution]) -> Vec<CriterionMatch> {
        let spy = &self.spy_sensitive;
        let reach: Vec<_> =
            report.capabilities.iter().filter(|c| spy.data_classes.contains(&c.data_class)).collect();
        if reach.is_empty() {
            return Vec::new();
        }
        let parties = self.parties(all, &spy.subjects, spy.min_confidence.as_deref());
        let subjects: BTreeSet<_> = parties.iter().map(|a| a.subject).collect();
        let reach_ids: Vec<String> = reach.iter().map(|c| format!("capability.{}", c.id)).collect();
        let reach_names: Vec<&str> = reach.iter().map(|c| c.id.as_str()).collect();
        subjects
            .into_iter()
            .map(|subject| {
                let of_subject: Vec<&&Attribution> =
                    parties.iter().filter(|a| a.subject == subject).collect();
                let mut factors: Vec<String> = of_subject.iter().map(|a| a.factor_id()).collect();
                factors.extend(reach_ids.iter().cloned());
                let mut evidence: Vec<Evidence> =
                    of_subject.iter().flat_map(|a| a.evidence.iter().take(2).cloned()).take(8).collect();
                evidence.extend(reach.iter().filter_map(|c| c.evidence.first().cloned()).take(8));
                let who: Vec<String> = of_subject
                    .iter()
                    .map(|a| {
                        let place = match self.country_of(a) {
                            Some(c) if c != a.country => {
                                format!("{} ({}, chain through {c})", a.name, a.country)
                            }
                            Some(c) if a.registered.is_some() => format!("{} (controlled from {c})", a.name),
                            _ => format!("{} ({})", a.name, a.country),
                        };
                        // Which of the data its own code reaches, where the report has call sites.
                        match own_reach(report, a, &spy.data_classes) {
                            Some(own) if own.is_empty() => {
                                format!("{place}, whose own code reaches none of it")
                            }
                            Some(own) => format!("{place}, whose own code reaches {}", own.join(", ")),
                            None => place,
                        }
                    })
                    .collect();
                CriterionMatch {
                    id: format!("spy.{}", subject.as_str()),
                    description: format!(
                        "{} in a country of concern: {}; with reach into {}",
                        subject.as_str().replace('_', " "),
                        who.join(", "),
                        reach_names.join(", ")
                    ),
                    factors,
                    evidence,
                }
            })
            .collect()
    }

    /// The factor ids a rule rests on when it matches; None when it does not.
    fn rule_matches(
        &self,
        rule: &Rule,
        report: &Report,
        all: &[Attribution],
        spy_sensitive: bool,
        criteria: &[CriterionMatch],
        today: Option<Date>,
    ) -> Option<Vec<String>> {
        let mut factors = Vec::new();
        if rule.spy_sensitive {
            if !spy_sensitive {
                return None;
            }
            factors.extend(criteria.iter().map(|c| c.id.clone()));
        }
        if !rule.subjects.is_empty() {
            let parties = self.parties(all, &rule.subjects, rule.min_confidence.as_deref());
            if parties.is_empty() {
                return None;
            }
            factors.extend(parties.iter().map(|a| a.factor_id()));
        }
        if let Some(min) = rule.min_data_collection {
            let s = &report.risk.data_collection;
            if s.score < min {
                return None;
            }
            factors.push(format!("risk.data_collection ({} >= {min})", s.score));
        }
        if let Some(min) = rule.min_jurisdiction {
            let s = &report.risk.jurisdiction;
            if s.score < min {
                return None;
            }
            factors.push(format!("risk.jurisdiction ({} >= {min})", s.score));
        }
        if !rule.capabilities.is_empty() {
            let hit: Vec<_> =
                report.capabilities.iter().filter(|c| rule.capabilities.contains(&c.id)).collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|c| format!("capability.{}", c.id)));
        }
        if let Some(kind) = &rule.capability_finding {
            let hit: Vec<_> = report
                .capabilities
                .iter()
                .filter(|c| c.finding.is_some_and(|f| f.as_str() == kind))
                .collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|c| format!("capability.{}", c.id)));
        }
        if rule.signing_not_verified {
            if report.signing.verified != Some(false) {
                return None;
            }
            factors.push("signing.verified".into());
        }
        if rule.debug_certificate {
            if !report.signing.certificates.iter().any(|c| c.debug) {
                return None;
            }
            factors.push("signing.certificates.debug".into());
        }
        if !rule.diagnostics.is_empty() {
            let hit: BTreeSet<&str> = report
                .diagnostics
                .iter()
                .filter(|d| rule.diagnostics.iter().any(|want| code_matches(want, &d.code)))
                .map(|d| d.code.as_str())
                .collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|c| format!("diagnostic.{c}")));
        }
        if !rule.sdks.is_empty() {
            let hit: Vec<_> = report.sdks.iter().filter(|s| rule.sdks.contains(&s.id)).collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|s| format!("sdk.{}", s.id)));
        }
        if !rule.sdk_categories.is_empty() {
            let hit: Vec<_> = report
                .sdks
                .iter()
                .filter(|s| s.categories.iter().any(|c| rule.sdk_categories.contains(c)))
                .collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|s| format!("sdk.{}", s.id)));
        }
        if !rule.provisioning.is_empty() {
            let profile = report.app.ios.as_ref().and_then(|i| i.provisioning.as_ref());
            match profile {
                Some(p) if rule.provisioning.contains(&p.distribution) => {
                    factors.push(format!("provisioning.{}", p.distribution));
                }
                _ => return None,
            }
        }
        if !rule.app_extensions.is_empty() {
            let hit: Vec<&str> = report
                .app
                .ios
                .iter()
                .flat_map(|i| &i.extensions)
                .filter_map(|e| e.extension_point.as_deref())
                .filter(|point| rule.app_extensions.iter().any(|w| w == point))
                .collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|p| format!("extension.{p}")));
        }
        if let Some(below) = rule.target_sdk_below {
            if report.app.platform != Some(crate::report::Platform::Android) {
                return None;
            }
            match &report.app.target_sdk {
                Some(t) if t.api_or_preview() >= below => return None,
                Some(t) => factors.push(format!("app.target_sdk ({} < {below})", t.api_or_preview())),
                None => factors.push("app.target_sdk (unknown)".into()),
            }
        }
        if !rule.entitlements.is_empty() {
            let granted = |v: &serde_json::Value| match v {
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::Null => false,
                serde_json::Value::String(s) => !s.is_empty(),
                serde_json::Value::Array(a) => !a.is_empty(),
                serde_json::Value::Object(o) => !o.is_empty(),
                serde_json::Value::Number(_) => true,
            };
            let ents = report.app.ios.as_ref().and_then(|i| i.entitlements.as_ref());
            let hit: Vec<&String> = rule
                .entitlements
                .iter()
                .filter(|k| ents.and_then(|e| e.get(k.as_str())).is_some_and(granted))
                .collect();
            if hit.is_empty() {
                return None;
            }
            factors.extend(hit.iter().map(|k| format!("entitlement.{k}")));
        }
        if rule.provisioning_expired {
            let profile = report.app.ios.as_ref().and_then(|i| i.provisioning.as_ref());
            let expires =
                profile.and_then(|p| p.expiration_date.as_deref()).and_then(|d| Date::parse(d.get(..10)?));
            match (expires, today) {
                (Some(d), Some(today)) if d < today => {
                    factors.push(format!("provisioning.expired ({d} < {today})"))
                }
                _ => return None,
            }
        }
        if rule.certificate_expired {
            let ios = report.app.platform == Some(crate::report::Platform::Ios);
            let expired: Vec<String> = report
                .signing
                .certificates
                .iter()
                .filter(|c| ios && c.subject != c.issuer)
                .filter_map(|c| {
                    let until = Date::parse(c.not_after.as_deref()?.get(..10)?)?;
                    let day = today?;
                    (until < day).then(|| format!("certificate.expired ({until} < {day}): {}", c.subject))
                })
                .collect();
            if expired.is_empty() {
                return None;
            }
            factors.extend(expired);
        }
        let mut seen = BTreeSet::new();
        factors.retain(|f| seen.insert(f.clone()));
        Some(factors)
    }
}

/// What the CLI needs: a policy and the exceptions, applied to each report.
#[derive(Debug, Clone)]
pub struct Judge {
    policy: JudgePolicy,
    pub exceptions: ExceptionSet,
}

/// An embedded preset is parsed when the first report is judged, not when
/// the judge is made: that happens before the first app is read, and a
/// one-app run would otherwise wait for the parse.
#[derive(Debug, Clone)]
enum JudgePolicy {
    Preset(usize),
    Loaded(Box<Policy>),
}

impl Judge {
    /// `policy`: a preset name or a file (default `baseline`); `exceptions`:
    /// an exceptions file checked against `today` (the caller's clock; `None`
    /// for a verdict that takes no day, which then cannot take exceptions).
    pub fn load(
        policy: Option<&str>,
        exceptions: Option<&Path>,
        today: Option<Date>,
    ) -> Result<Judge, PolicyError> {
        Judge::load_with_signatures(policy, exceptions, today, None)
    }

    /// Like [`Judge::load`], with presets overridden by `policies/NAME.toml`
    /// in the signature directory `signatures` when it holds them.
    pub fn load_with_signatures(
        policy: Option<&str>,
        exceptions: Option<&Path>,
        today: Option<Date>,
        signatures: Option<&Path>,
    ) -> Result<Judge, PolicyError> {
        let name = policy.unwrap_or(DEFAULT_POLICY);
        // Only a file that is certainly absent leaves the embedded preset in
        // force; any other state is for `Policy::load_with_signatures` to read or report.
        let overridden = signatures.is_some_and(|dir| {
            let path = dir.join("policies").join(format!("{name}.toml"));
            !matches!(std::fs::metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
        });
        let policy = match PRESETS.iter().position(|(n, _)| *n == name) {
            Some(index) if !overridden => JudgePolicy::Preset(index),
            _ => JudgePolicy::Loaded(Box::new(Policy::load_with_signatures(name, signatures)?)),
        };
        let exceptions = match (exceptions, today) {
            (Some(path), Some(today)) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| PolicyError::Io { path: path.display().to_string(), source })?;
                ExceptionSet::parse(&text, &path.display().to_string(), today)?
            }
            (Some(path), None) => {
                return Err(PolicyError::Syntax {
                    path: path.display().to_string(),
                    message: "exceptions need the day they are checked against".into(),
                })
            }
            // No exceptions, but the day still matters to date rules.
            (None, Some(today)) => ExceptionSet::on(today),
            (None, None) => ExceptionSet::none(),
        };
        Ok(Judge { policy, exceptions })
    }

    /// The policy reports are judged under.
    pub fn policy(&self) -> &Policy {
        match &self.policy {
            JudgePolicy::Preset(index) => Policy::preset_ref(*index).unwrap_or_else(|| Policy::baseline()),
            JudgePolicy::Loaded(p) => p,
        }
    }

    /// Replaces the report's verdict with this policy's.
    pub fn apply(&self, report: &mut Report) {
        report.verdict = Some(self.policy().evaluate(report, &self.exceptions));
    }
}

#[cfg(test)]
mod tests;

/// Id of the built-in rule that an incomplete analysis matches.
pub const INCOMPLETE_ANALYSIS_RULE: &str = "analysis-incomplete";

/// The rule an incomplete analysis matches, naming what was not read.
fn incomplete_analysis_rule(report: &Report) -> RuleMatch {
    let kinds: Vec<&str> = report.analysis.gap_kinds().into_iter().map(GapKind::as_str).collect();
    let description = if kinds.is_empty() {
        "the analysis did not establish that it read the whole app".to_string()
    } else {
        format!("the analysis is incomplete: {} could not be read", kinds.join(", "))
    };
    RuleMatch {
        id: INCOMPLETE_ANALYSIS_RULE.into(),
        decision: Decision::Review,
        description,
        factors: kinds.iter().map(|k| format!("analysis.{k}")).collect(),
    }
}

/// Every diagnostic code appvet can raise: the generated list in
/// docs/DIAGNOSTICS.md, which a test keeps complete.
const DIAGNOSTICS_DOC: &str = include_str!("../../docs/DIAGNOSTICS.md");

fn documented_codes() -> impl Iterator<Item = &'static str> {
    DIAGNOSTICS_DOC.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next())
}

/// A code a policy may name: a documented one, or `family.*` of a documented family.
fn is_known_diagnostic(code: &str) -> bool {
    match code.strip_suffix(".*") {
        Some(family) => documented_codes().any(|c| c.split('.').next() == Some(family)),
        None => documented_codes().any(|c| c == code),
    }
}

/// `want` names `code` exactly, or its family (`zip.*`).
fn code_matches(want: &str, code: &str) -> bool {
    match want.strip_suffix(".*") {
        Some(family) => code.split('.').next() == Some(family),
        None => want == code,
    }
}
