//! Certificate validity against the signing time a code signature states
//! (the CMS `signingTime` signed attribute). iOS does not re-check a
//! certificate's dates once an app is signed (App Store apps keep running
//! after the developer's certificate expires; the provisioning profile's
//! expiry is its own policy rule), so a certificate that was not valid at
//! the stated signing time does not fail verification: it is a warning a
//! policy can name (`codesign.certificate_expired_at_signing`). Against
//! today's date the check is the policy rule `certificate_expired`, so a
//! report does not depend on the day it was made.

use crate::diagnostic::Diagnostic;
use crate::formats::signing::certificate::{iso8601, validity};
use crate::formats::signing::der::{self, TAG_OID};
use crate::formats::signing::pkcs7;

/// PKCS#9 signingTime.
const OID_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;

/// A warning for each certificate of `cms` that was not valid at the
/// signing time its first signer states; none when it states no time.
pub fn check(cms: &[u8]) -> Vec<Diagnostic> {
    let Ok(signed) = pkcs7::parse(cms) else { return Vec::new() };
    let Some(at) = signed.signer_infos.first().and_then(signing_time) else { return Vec::new() };
    let mut out = Vec::new();
    for der_cert in &signed.certificates {
        let Some((not_before, not_after)) = validity(der_cert) else { continue };
        if (not_before..=not_after).contains(&at) {
            continue;
        }
        let subject = crate::formats::signing::certificate::describe(der_cert, "").subject;
        let (what, when) =
            if at > not_after { ("had expired", not_after) } else { ("was not yet valid", not_before) };
        out.push(Diagnostic::warning(
            "codesign.certificate_expired_at_signing",
            format!(
                "certificate {subject} {what} at the signing time the signature states ({}; {} {})",
                iso8601(at),
                if at > not_after { "expired" } else { "valid from" },
                iso8601(when)
            ),
        ));
    }
    out
}

/// The signingTime signed attribute, as UNIX seconds.
pub fn signing_time(info: &pkcs7::SignerInfo<'_>) -> Option<i64> {
    let set = der::parse(info.signed_attrs?).ok()?;
    for attr in set.children() {
        let attr = attr.ok()?;
        let mut fields = attr.children();
        let oid = fields.next_tlv().ok()?.expect(TAG_OID).ok()?;
        if der::oid_to_string(oid.content).as_deref() != Some(OID_SIGNING_TIME) {
            continue;
        }
        let values = fields.next_tlv().ok()?;
        let value = values.children().next()?.ok()?;
        let text = std::str::from_utf8(value.content).ok()?;
        return match value.tag {
            TAG_UTC_TIME => parse_time(text, false),
            TAG_GENERALIZED_TIME => parse_time(text, true),
            _ => None,
        };
    }
    None
}

/// `YYMMDDHHMMSSZ` (UTCTime, years 1950-2049) or `YYYYMMDDHHMMSSZ`
/// (GeneralizedTime), in UTC as DER requires.
fn parse_time(text: &str, four_digit_year: bool) -> Option<i64> {
    let digits = text.strip_suffix('Z')?;
    let year_len = if four_digit_year { 4 } else { 2 };
    if digits.len() != year_len + 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |from: usize, len: usize| digits.get(from..from + len)?.parse::<i64>().ok();
    let mut year = num(0, year_len)?;
    if !four_digit_year {
        year += if year < 50 { 2000 } else { 1900 };
    }
    let (month, day) = (num(year_len, 2)?, num(year_len + 2, 2)?);
    let (hour, minute, second) = (num(year_len + 4, 2)?, num(year_len + 6, 2)?, num(year_len + 8, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use appvet_samples::{der as d, keys::DemoKey, x509};

    /// A CMS SignedData with the demo certificate (valid 2024-01-01 to
    /// 2049-01-01) and one SignerInfo whose signed attributes state
    /// `signing_time` (a DER time TLV) when given. The signature bytes are
    /// not checked here (verification is `verify`'s part).
    fn cms(signing_time: Option<Vec<u8>>) -> Vec<u8> {
        let dn = x509::DistinguishedName { country: "NL", organization: "Demo", common_name: "Demo Signer" };
        let cert = x509::self_signed_certificate(&DemoKey::Notes.private_key(), &dn, 7);
        let data_oid = d::oid(&[1, 2, 840, 113549, 1, 7, 1]);
        let sha256 = d::sequence(&[d::oid(&[2, 16, 840, 1, 101, 3, 4, 2, 1]), d::null()]);
        let mut attributes = vec![d::sequence(&[
            d::oid(&[1, 2, 840, 113549, 1, 9, 3]),
            d::set(std::slice::from_ref(&data_oid)),
        ])];
        if let Some(time) = signing_time {
            attributes.push(d::sequence(&[d::oid(&[1, 2, 840, 113549, 1, 9, 5]), d::set(&[time])]));
        }
        let signer = d::sequence(&[
            d::small_integer(1),
            d::sequence(&[x509::name(&dn), d::small_integer(7)]),
            sha256.clone(),
            d::tlv(0xa0, &attributes.concat()),
            x509::rsa_encryption_algorithm(),
            d::octet_string(&[0; 8]),
        ]);
        let signed_data = d::sequence(&[
            d::small_integer(1),
            d::set(&[sha256]),
            d::sequence(&[data_oid]),
            d::tlv(0xa0, &cert),
            d::set(&[signer]),
        ]);
        d::sequence(&[d::oid(&[1, 2, 840, 113549, 1, 7, 2]), d::explicit(0, &signed_data)])
    }

    #[test]
    fn a_certificate_invalid_at_the_stated_signing_time_is_a_warning_naming_which() {
        // Signed in 2025: inside the validity.
        assert!(check(&cms(Some(d::utc_time("250601120000Z")))).is_empty());
        // No signing time stated: nothing to compare (today is the policy's rule).
        assert!(check(&cms(None)).is_empty());
        // Signed after the certificate expired (GeneralizedTime for 2050).
        let expired = check(&cms(Some(d::tlv(0x18, b"20500101000000Z"))));
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].code, "codesign.certificate_expired_at_signing");
        assert_eq!(expired[0].level, crate::diagnostic::Level::Warning);
        assert!(
            expired[0].message.contains("CN=Demo Signer,O=Demo,C=NL had expired at the signing time the signature states (2050-01-01T00:00:00Z; expired 2049-01-01T00:00:00Z)"),
            "{}",
            expired[0].message
        );
        // Signed before it was issued.
        let early = check(&cms(Some(d::utc_time("230601000000Z"))));
        assert!(early[0].message.contains("was not yet valid"), "{}", early[0].message);
        // Garbage never panics and says nothing.
        assert!(check(b"not a cms").is_empty());
    }

    #[test]
    fn times_parse_as_utc_seconds() {
        assert_eq!(parse_time("700101000000Z", false), Some(0));
        assert_eq!(parse_time("20261206223000Z", true), Some(1_796_596_200));
        assert_eq!(iso8601(parse_time("491231235959Z", false).unwrap()), "2049-12-31T23:59:59Z");
        assert_eq!(iso8601(parse_time("500101000000Z", false).unwrap()), "1950-01-01T00:00:00Z");
        assert_eq!(iso8601(parse_time("20240229120000Z", true).unwrap()), "2024-02-29T12:00:00Z");
        for bad in ["", "Z", "7001010000Z", "701301000000Z", "700101250000Z", "70010100000aZ", "700101000000"]
        {
            assert_eq!(parse_time(bad, false), None, "{bad}");
        }
    }
}
