//! Certificates: the few TBS fields verification needs (read with our own
//! tolerant DER walker, so an odd certificate still verifies as it does on
//! Android) and the human description for the report (via x509-parser).

use std::fmt::Write as _;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::X509Name;

use super::crypto;
use super::der::{self, DerError, TAG_INTEGER, TAG_SEQUENCE};
use crate::formats::summary::Certificate;

/// Fields of a certificate that signature verification uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFields<'a> {
    /// Serial number INTEGER content, leading zero octets removed.
    pub serial: &'a [u8],
    /// Raw DER of the issuer Name.
    pub issuer: &'a [u8],
    /// Raw DER of the SubjectPublicKeyInfo.
    pub spki: &'a [u8],
}

/// Reads serial, issuer and SubjectPublicKeyInfo from a DER certificate.
pub fn cert_fields(der_cert: &[u8]) -> Result<CertFields<'_>, DerError> {
    let cert = der::parse(der_cert)?.expect(TAG_SEQUENCE)?;
    let tbs = cert.children().next_tlv()?.expect(TAG_SEQUENCE)?;
    let mut f = tbs.children();
    f.next_if(0xa0)?; // [0] EXPLICIT version
    let serial = f.next_tlv()?.expect(TAG_INTEGER)?;
    let _signature = f.next_tlv()?;
    let issuer = f.next_tlv()?.expect(TAG_SEQUENCE)?;
    let _validity = f.next_tlv()?;
    let _subject = f.next_tlv()?;
    let spki = f.next_tlv()?.expect(TAG_SEQUENCE)?;
    Ok(CertFields { serial: der::integer_magnitude(serial.content), issuer: issuer.raw, spki: spki.raw })
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Describes a DER certificate for the report. Never fails: an unparsable
/// certificate still gets its fingerprints and an empty description.
pub fn describe(der_cert: &[u8], source: &str) -> Certificate {
    let mut out = Certificate {
        sha256: sha256_hex(der_cert),
        sha1: hex::encode(Sha1::digest(der_cert)),
        source: source.to_string(),
        ..Certificate::default()
    };
    let Ok((_, cert)) = X509Certificate::from_der(der_cert) else {
        if let Ok(fields) = cert_fields(der_cert) {
            out.serial = hex::encode(fields.serial);
            if let Ok(key) = crypto::parse_spki(fields.spki) {
                let (alg, bits) = key.describe();
                out.key_algorithm = Some(alg);
                out.key_bits = bits;
            }
        }
        return out;
    };
    out.subject = rfc4514(cert.subject());
    out.issuer = rfc4514(cert.issuer());
    out.serial = hex::encode(der::integer_magnitude(cert.raw_serial()));
    out.not_before = Some(iso8601(cert.validity().not_before.timestamp()));
    out.not_after = Some(iso8601(cert.validity().not_after.timestamp()));
    out.signature_algorithm =
        Some(signature_algorithm_name(&cert.signature_algorithm.algorithm.to_id_string()));
    if let Ok(key) = crypto::parse_spki(cert.public_key().raw) {
        let (alg, bits) = key.describe();
        out.key_algorithm = Some(alg);
        out.key_bits = bits;
    }
    out.country = first_attr(cert.subject(), "2.5.4.6").map(|c| c.to_uppercase());
    out.organization = first_attr(cert.subject(), "2.5.4.10");
    out.debug = first_attr(cert.subject(), "2.5.4.3").as_deref() == Some("Android Debug");
    out
}

/// Validity bounds as UNIX seconds, for expiry checks.
pub fn validity(der_cert: &[u8]) -> Option<(i64, i64)> {
    let (_, cert) = X509Certificate::from_der(der_cert).ok()?;
    Some((cert.validity().not_before.timestamp(), cert.validity().not_after.timestamp()))
}

fn first_attr(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .and_then(|a| attr_text(a.attr_value()))
}

fn attr_text(value: &x509_parser::der_parser::asn1_rs::Any<'_>) -> Option<String> {
    // Most names are PrintableString / UTF8String; BMPString and
    // TeletexString fall back to a lossy read of the raw octets.
    match value.header.tag().0 {
        30 => {
            let units: Vec<u16> =
                value.data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => Some(String::from_utf8_lossy(value.data).into_owned()),
    }
}

fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// RFC 4514 string: RDNs in reverse encoding order, multi-valued RDNs joined by `+`.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let key = short_name(&oid).map(str::to_string).unwrap_or(oid);
                    let value = attr_text(atv.attr_value()).unwrap_or_default();
                    format!("{key}={}", escape_rfc4514(&value))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let needs = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if needs {
            out.push('\\');
        }
        if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

fn signature_algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa-with-sha1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-sha256",
        other => return other.to_string(),
    }
    .to_string()
}

/// Whether a certificate uses an algorithm considered weak today.
pub fn weakness(cert: &Certificate) -> Option<String> {
    let sig = cert.signature_algorithm.as_deref().unwrap_or("");
    let mut reasons = Vec::new();
    if sig.starts_with("md5") {
        reasons.push("MD5 signature".to_string());
    } else if sig.starts_with("sha1") || sig == "ecdsa-with-SHA1" || sig == "dsa-with-sha1" {
        reasons.push("SHA-1 signature".to_string());
    }
    if cert.key_algorithm.as_deref() == Some("RSA") {
        if let Some(bits) = cert.key_bits.filter(|b| *b < 2048) {
            reasons.push(format!("{bits}-bit RSA key"));
        }
    }
    if cert.key_algorithm.as_deref() == Some("DSA") {
        reasons.push("DSA key".to_string());
    }
    (!reasons.is_empty()).then(|| reasons.join(", "))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for UNIX seconds (proleptic Gregorian, UTC).
pub fn iso8601(ts: i64) -> String {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut s = String::new();
    let _ = write!(s, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(-86_400), "1969-12-31T00:00:00Z");
        assert_eq!(iso8601(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn garbage_certificates_still_get_fingerprints() {
        let c = describe(b"not a certificate", "test");
        assert_eq!(c.sha256.len(), 64);
        assert_eq!(c.sha1.len(), 40);
        assert!(c.subject.is_empty());
        assert!(cert_fields(b"\x30\x03\x30\x01\x02").is_err());
    }

    #[test]
    fn escapes_special_characters() {
        assert_eq!(escape_rfc4514("a,b"), "a\\,b");
        assert_eq!(escape_rfc4514(" x "), "\\ x\\ ");
        assert_eq!(escape_rfc4514("#1"), "\\#1");
    }
}
