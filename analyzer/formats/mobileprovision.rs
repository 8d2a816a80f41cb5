//! `embedded.mobileprovision`: a CMS SignedData (signed by Apple) whose
//! encapsulated content is an XML plist naming the team, the app id, the
//! entitlements granted, the developer certificates, the expiry and the
//! devices. The distribution type matters to an analyst: ad-hoc and
//! enterprise (`ProvisionsAllDevices`) builds bypass App Store review.

use plist::{Dictionary, Value};

use crate::diagnostic::Diagnostic;
use crate::formats::property_list;
use crate::formats::signing::certificate;
use crate::formats::signing::der::{self, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE};
use crate::formats::summary::{Distribution, ProvisioningProfile};

/// Developer certificates described per profile, at most.
const MAX_CERTIFICATES: usize = 64;

/// The encapsulated content of a CMS SignedData (`eContent`), if present.
pub fn encapsulated_content(data: &[u8]) -> Option<Vec<u8>> {
    let ci = der::parse(data).ok()?.expect(TAG_SEQUENCE).ok()?;
    let mut ci_kids = ci.children();
    let _oid = ci_kids.next_tlv().ok()?.expect(TAG_OID).ok()?;
    let explicit = ci_kids.next_tlv().ok()?.expect(0xa0).ok()?;
    let signed_data = explicit.children().next_tlv().ok()?.expect(TAG_SEQUENCE).ok()?;
    let mut fields = signed_data.children();
    let _version = fields.next_tlv().ok()?;
    let _digests = fields.next_tlv().ok()?;
    let encap = fields.next_tlv().ok()?.expect(TAG_SEQUENCE).ok()?;
    let mut encap_kids = encap.children();
    let _content_type = encap_kids.next_tlv().ok()?;
    let wrapped = encap_kids.next_tlv().ok()?.expect(0xa0).ok()?;
    let octets = wrapped.children().next_tlv().ok()?;
    match octets.tag {
        TAG_OCTET_STRING => Some(octets.content.to_vec()),
        // BER constructed OCTET STRING: concatenate the primitive pieces.
        0x24 => {
            let mut out = Vec::new();
            for piece in octets.children() {
                out.extend_from_slice(piece.ok()?.content);
            }
            Some(out)
        }
        _ => None,
    }
}

/// The plist inside a profile: from the CMS structure, else found by its
/// XML markers (profiles re-wrapped by tools are not always clean DER).
fn payload(data: &[u8]) -> Option<Vec<u8>> {
    if let Some(content) = encapsulated_content(data) {
        return Some(content);
    }
    let start = memchr::memmem::find(data, b"<?xml")?;
    let end = memchr::memmem::find(data.get(start..)?, b"</plist>")? + start + b"</plist>".len();
    Some(data.get(start..end)?.to_vec())
}

fn date_of(dict: &Dictionary, key: &str) -> Option<String> {
    match dict.get(key)? {
        Value::Date(d) => Some(d.to_xml_format()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Reads a profile; `entry` names it in the result.
pub fn parse(data: &[u8], entry: &str) -> (Option<ProvisioningProfile>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let Some(content) = payload(data) else {
        diagnostics.push(Diagnostic::error(
            "provision.no_payload",
            "no property list inside the provisioning profile",
        ));
        return (None, diagnostics);
    };
    let dict = match property_list::parse_dict(&content) {
        Ok(d) => d,
        Err(e) => {
            diagnostics.push(Diagnostic::error("provision.bad_plist", e.to_string()));
            return (None, diagnostics);
        }
    };
    let devices = match dict.get("ProvisionedDevices") {
        Some(Value::Array(d)) => u32::try_from(d.len()).unwrap_or(u32::MAX),
        _ => 0,
    };
    let all_devices = dict.get("ProvisionsAllDevices").and_then(Value::as_boolean).unwrap_or(false);
    let entitlements = match dict.get("Entitlements") {
        Some(Value::Dictionary(e)) => {
            Some(e.iter().map(|(k, v)| (k.clone(), property_list::to_json(v))).collect())
        }
        _ => None,
    };
    let get_task_allow = match dict.get("Entitlements") {
        Some(Value::Dictionary(e)) => e.get("get-task-allow").and_then(Value::as_boolean).unwrap_or(false),
        _ => false,
    };
    let distribution = if all_devices {
        Distribution::Enterprise
    } else if devices > 0 && get_task_allow {
        Distribution::Development
    } else if devices > 0 {
        Distribution::AdHoc
    } else {
        Distribution::AppStore
    };
    let mut developer_certificates = Vec::new();
    if let Some(Value::Array(certs)) = dict.get("DeveloperCertificates") {
        for cert in certs.iter().take(MAX_CERTIFICATES) {
            if let Value::Data(der_bytes) = cert {
                developer_certificates.push(certificate::describe(der_bytes, entry));
            }
        }
    }
    let profile = ProvisioningProfile {
        entry: entry.to_string(),
        name: property_list::string_of(&dict, "Name"),
        uuid: property_list::string_of(&dict, "UUID"),
        team_ids: property_list::strings_of(&dict, "TeamIdentifier"),
        team_name: property_list::string_of(&dict, "TeamName"),
        app_id_name: property_list::string_of(&dict, "AppIDName"),
        application_identifier: match dict.get("Entitlements") {
            Some(Value::Dictionary(e)) => property_list::string_of(e, "application-identifier"),
            _ => None,
        },
        creation_date: date_of(&dict, "CreationDate"),
        expiration_date: date_of(&dict, "ExpirationDate"),
        distribution,
        provisioned_devices: devices,
        provisions_all_devices: all_devices,
        entitlements,
        developer_certificates,
    };
    (Some(profile), diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::each_truncation;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    const PLIST: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
        <key>Name</key><string>Demo AdHoc</string>\
        <key>TeamIdentifier</key><array><string>ABCDE12345</string></array>\
        <key>TeamName</key><string>Demo Corp</string>\
        <key>ExpirationDate</key><date>2030-01-01T00:00:00Z</date>\
        <key>ProvisionedDevices</key><array><string>0000</string></array>\
        <key>Entitlements</key><dict><key>application-identifier</key><string>ABCDE12345.com.demo</string></dict>\
        </dict></plist>";

    fn cms(content: &[u8]) -> Vec<u8> {
        let oid_signed = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
        let oid_data = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
        let encap = tlv(0x30, &[oid_data.to_vec(), tlv(0xa0, &tlv(0x04, content))].concat());
        let sd = tlv(0x30, &[vec![0x02, 0x01, 0x01], tlv(0x31, &[]), encap, tlv(0x31, &[])].concat());
        tlv(0x30, &[oid_signed.to_vec(), tlv(0xa0, &sd)].concat())
    }

    #[test]
    fn reads_an_ad_hoc_profile() {
        let (profile, diags) = parse(&cms(PLIST.as_bytes()), "embedded.mobileprovision");
        assert!(diags.is_empty(), "{diags:?}");
        let p = profile.unwrap();
        assert_eq!(p.team_ids, ["ABCDE12345"]);
        assert_eq!(p.team_name.as_deref(), Some("Demo Corp"));
        assert_eq!(p.distribution, Distribution::AdHoc);
        assert_eq!(p.provisioned_devices, 1);
        assert_eq!(p.application_identifier.as_deref(), Some("ABCDE12345.com.demo"));
        assert_eq!(p.expiration_date.as_deref(), Some("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn damaged_profiles_give_diagnostics() {
        assert!(parse(b"", "x").0.is_none());
        let bytes = cms(PLIST.as_bytes());
        each_truncation(&bytes, |cut| drop(parse(cut, "x")));
        // Raw XML without the CMS wrapper is still read.
        assert!(parse(PLIST.as_bytes(), "x").0.is_some());
    }
}
