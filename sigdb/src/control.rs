//! Control: who controls an entity, link by link. A parent link says how
//! the parent holds the child (wholly owned, majority, controlling
//! interest, minority, acquired on a date); only links that transfer
//! control carry a chain on to the parent's country. A minority stake is
//! still shown, but the chain of control stops below it.

use serde::{Deserialize, Serialize};

/// How a parent holds its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkKind {
    WhollyOwned,
    Majority,
    /// Control without a majority of the equity (voting rights, VIE contracts, a golden share).
    ControllingInterest,
    /// A stake that does not control: shown, but the control chain stops here.
    Minority,
    /// Bought outright on the link's date.
    Acquired,
    /// An imported parent whose data set does not say how it holds the child:
    /// taken as control, at a lower confidence.
    Unstated,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::WhollyOwned => "wholly_owned",
            LinkKind::Majority => "majority",
            LinkKind::ControllingInterest => "controlling_interest",
            LinkKind::Minority => "minority",
            LinkKind::Acquired => "acquired",
            LinkKind::Unstated => "unstated",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        Some(match s {
            "wholly_owned" => LinkKind::WhollyOwned,
            "majority" => LinkKind::Majority,
            "controlling_interest" => LinkKind::ControllingInterest,
            "minority" => LinkKind::Minority,
            "acquired" => LinkKind::Acquired,
            "unstated" => LinkKind::Unstated,
            _ => return None,
        })
    }

    /// Whether the parent controls the child through this link.
    pub fn transfers_control(self) -> bool {
        self != LinkKind::Minority
    }
}

/// The link from an entity to its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    pub kind: LinkKind,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`: when the link was made (an acquisition's closing).
    pub date: Option<String>,
}

impl ParentLink {
    /// `acquired:2016-08` -> Acquired on 2016-08; `minority` -> Minority.
    pub fn parse(text: &str) -> Result<ParentLink, String> {
        let (kind, date) = match text.split_once(':') {
            Some((k, d)) => (k, Some(d)),
            None => (text, None),
        };
        let kind = LinkKind::parse(kind).ok_or_else(|| {
            format!("unknown link kind {kind:?} (wholly_owned, majority, controlling_interest, minority, acquired[:DATE])")
        })?;
        if let Some(d) = date {
            if !is_date(d) {
                return Err(format!("link date {d:?} is not YYYY, YYYY-MM or YYYY-MM-DD"));
            }
        }
        Ok(ParentLink { kind, date: date.map(str::to_string) })
    }

    /// `acquired 2016-08`, `wholly owned`.
    pub fn describe(&self) -> String {
        let kind = self.kind.as_str().replace('_', " ");
        match &self.date {
            Some(d) => format!("{kind} {d}"),
            None => kind,
        }
    }
}

/// What an entity is. Most are companies; an open-source project without a
/// controlling company, and a vendor whose company could not be
/// identified, are entities too so that every SDK can name what stands
/// behind it, with a source, without inventing a company or a country.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityKind {
    /// A company (or a public body): it has a registered country.
    #[default]
    Company,
    /// An open-source project that no company controls: maintainers and
    /// licence are named in the source, and no country controls it. A
    /// project a company or foundation stewards has it as its parent.
    OpenSource,
    /// A vendor known only by its product name: the company behind it, or
    /// its country, could not be established from public records. The
    /// source says what was looked at.
    Unknown,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Company => "company",
            EntityKind::OpenSource => "open_source",
            EntityKind::Unknown => "unknown",
        }
    }

    /// `""` (a company), `open_source` or `unknown`.
    pub fn parse(s: &str) -> Option<EntityKind> {
        Some(match s {
            "" | "company" => EntityKind::Company,
            "open_source" => EntityKind::OpenSource,
            "unknown" => EntityKind::Unknown,
            _ => return None,
        })
    }
}

/// How far a row's facts can be trusted beyond what its links say: a row
/// whose company and country come only from the vendor's own site or
/// repository, or from a press report, is marked lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceConfidence {
    /// The vendor's own terms, imprint or repository name the company.
    Medium,
    /// Only a press report or the product's own marketing says it.
    Low,
}

impl SourceConfidence {
    pub fn parse(s: &str) -> Option<Option<SourceConfidence>> {
        Some(match s {
            "" | "high" => None,
            "medium" => Some(SourceConfidence::Medium),
            "low" => Some(SourceConfidence::Low),
            _ => return None,
        })
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, digits only.
pub fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts[..] {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_parse_with_and_without_dates() {
        let l = ParentLink::parse("acquired:2016-08").unwrap();
        assert_eq!((l.kind, l.date.as_deref()), (LinkKind::Acquired, Some("2016-08")));
        assert_eq!(l.describe(), "acquired 2016-08");
        assert_eq!(ParentLink::parse("minority").unwrap().kind, LinkKind::Minority);
        assert!(!LinkKind::Minority.transfers_control());
        assert!(LinkKind::ControllingInterest.transfers_control());
        assert!(ParentLink::parse("owned").is_err());
        assert!(ParentLink::parse("acquired:16-08").is_err());
        assert!(is_date("2024-01-31") && !is_date("2024-1") && !is_date(""));
    }

    #[test]
    fn kinds_and_confidences_parse() {
        assert_eq!(EntityKind::parse(""), Some(EntityKind::Company));
        assert_eq!(EntityKind::parse("open_source"), Some(EntityKind::OpenSource));
        assert_eq!(EntityKind::parse("unknown").map(EntityKind::as_str), Some("unknown"));
        assert_eq!(EntityKind::parse("opensource"), None);
        assert_eq!(SourceConfidence::parse(""), Some(None));
        assert_eq!(SourceConfidence::parse("low"), Some(Some(SourceConfidence::Low)));
        assert_eq!(SourceConfidence::parse("weak"), None);
    }
}
