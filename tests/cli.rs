//! The command line as users and pipelines see it: outputs and exit codes.

mod common;

use assert_cmd::Command;

fn appvet() -> Command {
    let mut c = Command::cargo_bin("appvet").unwrap();
    c.current_dir(common::root());
    c
}

#[test]
fn one_input_prints_one_json_document() {
    let out = appvet().args(["scan", "samples/benign.apk"]).assert().code(0).get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], "appvet/report/v1");
    assert_eq!(v["app"]["id"], "org.example.notes");
    assert_eq!(v["input"]["kind"], "apk");
}

#[test]
fn several_inputs_print_json_lines_with_an_error_record_for_bad_ones() {
    let dir = std::env::temp_dir().join(format!("appvet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.apk");
    std::fs::write(&junk, b"this is not an app").unwrap();
    let assert = appvet().args(["scan", "samples/benign.apk"]).arg(&junk).assert().code(3);
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines
        .iter()
        .any(|l| l["schema"] == "appvet/error/v1"
            && l["input"]["path"].as_str().unwrap().ends_with("junk.apk")));
    assert!(lines.iter().any(|l| l["app"]["id"] == "org.example.notes"));
    assert_eq!(err.lines().count(), 1, "one clear line per failed input: {err}");
    assert!(err.contains("junk.apk"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_input_fails_with_a_message_naming_it() {
    let assert = appvet().args(["scan", "no/such/file.apk"]).assert().code(4);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("no/such/file.apk"), "{err}");
}

#[test]
fn text_format_and_output_file() {
    let dir = std::env::temp_dir().join(format!("appvet-cli-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("report.txt");
    appvet()
        .args(["scan", "--fail-on", "review", "samples/datahungry.apk", "--format", "text", "--output"])
        .arg(&out)
        .assert()
        // The baseline policy sends the data-hungry sample to review.
        .code(10);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("com.example.flashlight"), "{text}");
    assert!(text.contains("android.permission.READ_SMS"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn scanning_the_samples_directory_analyses_every_sample() {
    // Exit 10: the baseline sends the data-hungry and the tampered samples to review.
    let assert = appvet().args(["scan", "--fail-on", "review", "samples/"]).assert().code(10);
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let n = out.lines().count();
    assert_eq!(n, common::sample_files().len());
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["schema"], "appvet/report/v1", "{line}");
    }
}

#[test]
fn usage_errors_exit_2() {
    appvet().args(["scan"]).assert().code(2);
    appvet().args(["frobnicate"]).assert().code(2);
}

#[test]
fn manifest_command_prints_the_decoded_manifest() {
    let assert = appvet().args(["manifest", "samples/datahungry.apk"]).assert().code(0);
    let xml = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"package="com.example.flashlight""#), "{xml}");
    assert!(xml.contains(r#"<uses-permission android:name="android.permission.READ_SMS"/>"#), "{xml}");
    appvet().args(["manifest", "samples/split-demo.apks"]).assert().code(0);
    appvet().args(["manifest", "Cargo.toml"]).assert().code(4);
}

#[test]
fn calls_lists_call_sites_as_one_json_document_and_refuses_html() {
    let out = appvet().args(["calls", "samples/datahungry.apk"]).assert().code(0).get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let calls = v["calls"].as_array().expect("a calls array");
    for c in calls {
        for key in ["api", "capability", "caller", "source", "party"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
    }
    appvet().args(["calls", "samples/datahungry.apk", "--format", "html"]).assert().failure();
}
