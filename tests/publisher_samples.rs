//! Publisher attribution on the samples: a C=CN certificate and a
//! ByteDance-namespace package each produce a publisher link to CN, and a
//! certificate that names another country does not hide the package link.

mod common;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::report::Report;
use appvet::scan::Scanner;

fn scan(name: &str) -> Report {
    let path = common::root().join("samples").join(name);
    let data = std::fs::read(&path).unwrap();
    Scanner::new(Database::embedded(), Limits::default()).scan_bytes(&data, name).unwrap().report
}

fn link<'r>(r: &'r Report, kind: &str) -> Option<&'r appvet::report::PublisherLink> {
    r.publisher.links.iter().find(|l| l.kind.as_str() == kind)
}

#[test]
fn certificate_country_links_the_publisher_to_cn() {
    let r = scan("datahungry.apk");
    let cert = link(&r, "certificate").expect("certificate link");
    assert_eq!((cert.country.as_deref(), cert.confidence.as_str()), (Some("CN"), "strong"));
}

#[test]
fn bytedance_package_prefix_links_to_cn_beside_a_foreign_certificate() {
    let r = scan("shortvideo.apk");
    let cert = link(&r, "certificate").expect("certificate link");
    assert_eq!(cert.country.as_deref(), Some("SG"));
    let prefix = link(&r, "package_prefix").expect("package prefix link");
    // ByteDance Ltd. is registered in the Cayman Islands and run from CN: control decides.
    assert_eq!(prefix.control.as_ref().and_then(|c| c.country.as_deref()), Some("CN"));
    assert!(prefix.entity.as_deref().is_some_and(|e| e.contains("ByteDance")), "{prefix:?}");
    // Both are weighed: the CN prefix is a jurisdiction factor of its own.
    assert!(r.risk.jurisdiction.factors.iter().any(|f| f.id == "jurisdiction.publisher.CN"));
}
