//! `--format cyclonedx` against the official CycloneDX 1.6 JSON schema
//! (`schemas/cyclonedx/`, from the CycloneDX project under Apache-2.0):
//! every sample's BOM validates, formats included, and SDKs are listed with
//! their owners as suppliers and the controlling country as a property.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn schema_file(name: &str) -> Value {
    let path = common::root().join("schemas/cyclonedx").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn validator() -> jsonschema::Validator {
    // The BOM schema refers to its neighbours by relative name; they are
    // registered under the URIs those names resolve to against its $id.
    let resource = |name: &str| jsonschema::Resource::from_contents(schema_file(name)).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .with_resource(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            resource("spdx.SNAPSHOT.schema.json"),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            resource("jsf-0.82.SNAPSHOT.schema.json"),
        )
        .build(&schema_file("bom-1.6.SNAPSHOT.schema.json"))
        .unwrap()
}

fn bom_of(args: &[&str]) -> Vec<Value> {
    let out = Command::cargo_bin("appvet")
        .unwrap()
        .current_dir(common::root())
        .args(["scan", "--format", "cyclonedx"])
        .args(args)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    if args.len() == 1 && !args[0].ends_with('/') {
        vec![serde_json::from_str(&text).unwrap()]
    } else {
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

#[test]
fn every_sample_bom_validates_against_the_cyclonedx_1_6_schema() {
    let v = validator();
    let boms = bom_of(&["samples/"]);
    assert_eq!(boms.len(), common::sample_files().len());
    for bom in &boms {
        let errors: Vec<String> =
            v.iter_errors(bom).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", bom["metadata"]["component"]["name"]);
        assert_eq!(bom["specVersion"], "1.6");
    }
    // A schema that accepts everything would prove nothing.
    let mut broken = boms[0].clone();
    broken["components"] = serde_json::json!([{"type": "not-a-type", "name": "x"}]);
    assert!(!v.is_valid(&broken));
}

#[test]
fn sdks_are_components_with_their_owner_and_controlling_country() {
    let bom = &bom_of(&["samples/datahungry.apk"])[0];
    let comps = bom["components"].as_array().unwrap();
    let umeng = comps.iter().find(|c| c["bom-ref"] == "sdk:umeng").expect("umeng component");
    assert_eq!(umeng["supplier"]["name"], "Umeng (Alibaba)");
    let props = umeng["properties"].as_array().unwrap();
    let prop = |n: &str| props.iter().find(|p| p["name"] == n).map(|p| p["value"].clone());
    assert_eq!(prop("appvet:controlling_country"), Some("CN".into()));
    assert!(prop("appvet:controlling_parent").is_some());
    assert!(comps.iter().any(|c| c["type"] == "library" && c["name"] == "libtracker.so"), "native library");
    assert_eq!(bom["metadata"]["component"]["group"], "com.example.flashlight");
    // Deterministic: the same app gives the same BOM.
    assert_eq!(bom, &bom_of(&["samples/datahungry.apk"])[0]);
}
