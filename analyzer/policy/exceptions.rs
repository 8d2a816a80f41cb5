//! Exceptions: an office approves one app, signed by one certificate, for
//! staff whose work needs it, until a date. An expired or mismatched
//! exception does not apply and is reported. The date to check against is a
//! parameter ([`ExceptionSet::today`]): the library never reads the clock,
//! so the same inputs give the same verdict.

use serde::Deserialize;

use crate::report::{ExceptionOutcome, ExceptionStatus, Report};

use super::{Decision, PolicyError};

/// A calendar date (proleptic Gregorian), compared field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u32 = parts.next()?.parse().ok()?;
        let day: u32 = parts.next()?.parse().ok()?;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month).contains(&day).then_some(Date { year, month, day })
    }

    /// The UTC date of a Unix timestamp (for the CLI edge; Howard Hinnant's
    /// days-to-civil algorithm).
    pub fn from_unix_seconds(secs: i64) -> Date {
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One `[[exceptions]]` entry of an exceptions file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub app_id: String,
    /// SHA-256 of the signer certificate (hex; colons and case ignored).
    pub signer_sha256: String,
    pub justification: String,
    /// Last day the exception is valid, `YYYY-MM-DD`.
    pub expires: String,
    /// Who approved it (free text, reported as is).
    #[serde(default)]
    pub approved_by: Option<String>,
    /// The decision the exception grants; approve unless written.
    #[serde(default = "approve")]
    pub decision: Decision,
}

fn approve() -> Decision {
    Decision::Approve
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsFile {
    #[serde(default)]
    exceptions: Vec<Exception>,
}

/// The exceptions an office granted, and the day the verdict is given: the
/// day exceptions and date rules (an expired provisioning profile) are
/// checked against. `None` only without exceptions: a verdict that takes no
/// day (the scan's own), so that a report does not depend on when it was made.
#[derive(Debug, Clone)]
pub struct ExceptionSet {
    pub today: Option<Date>,
    pub exceptions: Vec<Exception>,
}

impl ExceptionSet {
    /// No exceptions and no day: date rules never match.
    pub fn none() -> ExceptionSet {
        ExceptionSet { today: None, exceptions: Vec::new() }
    }

    /// No exceptions, judged on `today`.
    pub fn on(today: Date) -> ExceptionSet {
        ExceptionSet { today: Some(today), exceptions: Vec::new() }
    }

    /// Parses an exceptions file (TOML, `[[exceptions]]` tables).
    pub fn parse(text: &str, path: &str, today: Date) -> Result<ExceptionSet, PolicyError> {
        let file: ExceptionsFile = toml::from_str(text).map_err(|e| PolicyError::Syntax {
            path: path.into(),
            message: super::suggest::unknown_field(&e.to_string()),
        })?;
        for e in &file.exceptions {
            if Date::parse(&e.expires).is_none() {
                return Err(PolicyError::Syntax {
                    path: path.into(),
                    message: format!("exception for {}: expires {:?} is not YYYY-MM-DD", e.app_id, e.expires),
                });
            }
        }
        Ok(ExceptionSet { today: Some(today), exceptions: file.exceptions })
    }

    /// The exceptions naming this app, each with whether it applies; the
    /// first applicable one (in file order) decides.
    pub fn check(&self, report: &Report) -> (Vec<ExceptionOutcome>, Option<Decision>) {
        let mut outcomes = Vec::new();
        let mut granted = None;
        let app_id = report.app.id.as_deref().unwrap_or_default();
        for e in self.exceptions.iter().filter(|e| !app_id.is_empty() && e.app_id == app_id) {
            let want = normalise_fingerprint(&e.signer_sha256);
            let signed_by = report.signing.certificates.iter().any(|c| c.sha256.eq_ignore_ascii_case(&want));
            // Without a day an exception cannot be shown valid (parse always sets one).
            let expired = match (Date::parse(&e.expires), self.today) {
                (Some(d), Some(today)) => d < today,
                _ => true,
            };
            let status = if !signed_by {
                ExceptionStatus::SignerMismatch
            } else if report.signing.verified != Some(true) {
                // A certificate in a signature that does not verify proves nothing.
                ExceptionStatus::SignatureNotVerified
            } else if expired {
                ExceptionStatus::Expired
            } else {
                ExceptionStatus::Applied
            };
            if status == ExceptionStatus::Applied && granted.is_none() {
                granted = Some(e.decision);
            }
            outcomes.push(ExceptionOutcome {
                app_id: e.app_id.clone(),
                signer_sha256: want,
                justification: e.justification.clone(),
                expires: e.expires.clone(),
                status,
                checked_on: self.today.map(|d| d.to_string()).unwrap_or_default(),
            });
        }
        (outcomes, granted)
    }
}

fn normalise_fingerprint(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Certificate;

    #[test]
    fn dates_parse_strictly_and_convert_from_unix_time() {
        assert_eq!(Date::parse("2024-02-29"), Some(Date { year: 2024, month: 2, day: 29 }));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-13-01"), None);
        assert_eq!(Date::parse("tomorrow"), None);
        assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_seconds(1_709_164_800).to_string(), "2024-02-29");
        assert_eq!(Date::from_unix_seconds(-86_400).to_string(), "1969-12-31");
    }

    fn report() -> Report {
        let mut r = crate::risk::tests_support::report();
        r.signing.verified = Some(true);
        r.signing.certificates.push(Certificate { sha256: "ab".repeat(32), ..Default::default() });
        r
    }

    fn set(signer: &str, expires: &str, today: &str) -> ExceptionSet {
        let text = format!(
            "[[exceptions]]\napp_id = \"com.example.t\"\nsigner_sha256 = \"{signer}\"\njustification = \"j\"\nexpires = \"{expires}\"\n"
        );
        ExceptionSet::parse(&text, "x.toml", Date::parse(today).unwrap()).unwrap()
    }

    #[test]
    fn applies_only_while_valid_and_for_the_right_signer() {
        let colons = vec!["AB"; 32].join(":");
        let (o, d) = set(&colons, "2025-06-30", "2025-06-30").check(&report());
        assert_eq!((o[0].status, d), (ExceptionStatus::Applied, Some(Decision::Approve)));
        let (o, d) = set(&colons, "2025-06-30", "2025-07-01").check(&report());
        assert_eq!((o[0].status, d), (ExceptionStatus::Expired, None));
        let (o, d) = set(&"cd".repeat(32), "2099-01-01", "2025-07-01").check(&report());
        assert_eq!((o[0].status, d), (ExceptionStatus::SignerMismatch, None));
        let mut unverified = report();
        unverified.signing.verified = Some(false);
        let (o, _) = set(&colons, "2099-01-01", "2025-07-01").check(&unverified);
        assert_eq!(o[0].status, ExceptionStatus::SignatureNotVerified);
    }

    #[test]
    fn other_apps_exceptions_are_not_reported_and_bad_files_are_errors() {
        let mut r = report();
        r.app.id = Some("com.other".into());
        assert!(set("ab", "2099-01-01", "2025-01-01").check(&r).0.is_empty());
        let bad = "[[exceptions]]\napp_id = \"a\"\nsigner_sha256 = \"b\"\njustification = \"c\"\nexpires = \"soon\"\n";
        assert!(ExceptionSet::parse(bad, "x.toml", Date::parse("2025-01-01").unwrap()).is_err());
        assert!(ExceptionSet::parse(
            "[[exceptions]]\napp_id = 1\n",
            "x.toml",
            Date::parse("2025-01-01").unwrap()
        )
        .is_err());
    }
}
