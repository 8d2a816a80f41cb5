//! The verdict contract at the command line: presets, exit codes by
//! verdict, exceptions valid only until their expiry, HTML that carries no
//! script, and `appvet diff`.

mod common;

use assert_cmd::Command;

fn appvet() -> Command {
    let mut c = Command::cargo_bin("appvet").unwrap();
    c.current_dir(common::root());
    c
}

const DATAHUNGRY: &str = "samples/datahungry.apk";
const BENIGN: &str = "samples/benign.apk";

fn verdict(out: &[u8]) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(out).unwrap();
    v["verdict"].clone()
}

#[test]
fn datahungry_cn_sample_is_blocked_and_spy_sensitive_under_nl_aivd() {
    let out = appvet()
        .args(["scan", "--fail-on", "review", DATAHUNGRY, "--policy", "nl-aivd"])
        .assert()
        .code(11)
        .get_output()
        .stdout
        .clone();
    let v = verdict(&out);
    assert_eq!(v["decision"], "block");
    assert_eq!(v["spy_sensitive"], true);
    let reasons = v["reasons"].to_string();
    assert!(reasons.contains("jurisdiction.publisher.CN"), "{reasons}");
    let criteria = v["matched_criteria"].to_string();
    assert!(
        criteria.contains("capability.location") && criteria.contains("capability.microphone"),
        "{criteria}"
    );
    assert!(criteria.contains("certificate"), "{criteria}");
}

#[test]
fn benign_sample_is_approved_under_every_preset() {
    for policy in ["baseline", "nl-aivd", "us-foreign-adversaries"] {
        let out =
            appvet().args(["scan", BENIGN, "--policy", policy]).assert().code(0).get_output().stdout.clone();
        assert_eq!(verdict(&out)["decision"], "approve", "{policy}");
    }
}

#[test]
fn baseline_sends_the_data_hungry_app_to_review() {
    appvet().args(["scan", "--fail-on", "review", DATAHUNGRY]).assert().code(10);
}

#[test]
fn exception_approves_only_while_valid() {
    let sha = "913832768b506d47cf28b4efe8ce09f38c84b7cbdeaa2e4f06a9cbce920cdd26";
    let dir = std::env::temp_dir().join(format!("appvet-exc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("exceptions.toml");
    std::fs::write(
        &file,
        format!(
            "[[exceptions]]\napp_id = \"com.example.flashlight\"\nsigner_sha256 = \"{sha}\"\n\
             justification = \"China desk needs it\"\nexpires = \"2030-06-30\"\n"
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let args = |today: &'static str| {
        ["scan", DATAHUNGRY, "--fail-on", "block", "--policy", "nl-aivd", "--exceptions", f, "--today", today]
    };
    let out = appvet().args(args("2030-06-30")).assert().code(0).get_output().stdout.clone();
    let v = verdict(&out);
    assert_eq!((v["decision"].as_str(), v["spy_sensitive"].as_bool()), (Some("approve"), Some(true)));
    assert_eq!(v["exceptions"][0]["status"], "applied");
    let out = appvet().args(args("2030-07-01")).assert().code(11).get_output().stdout.clone();
    assert_eq!(verdict(&out)["exceptions"][0]["status"], "expired");
    appvet().args(["scan", DATAHUNGRY, "--exceptions", "/nonexistent/exc.toml"]).assert().code(2);
    appvet().args(["scan", DATAHUNGRY, "--policy", "no-such-preset"]).assert().code(2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn html_report_is_self_contained_and_scriptless() {
    let out = appvet()
        .args(["scan", "--fail-on", "review", DATAHUNGRY, "--policy", "nl-aivd", "--format", "html"])
        .assert()
        .code(11);
    let html = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("data-decision=\"block\"") && html.contains("SPY-SENSITIVE"));
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    appvet().args(["scan", DATAHUNGRY, BENIGN, "--format", "html"]).assert().code(2);
}

#[test]
fn text_report_leads_with_the_verdict() {
    let out = appvet()
        .args(["scan", "--fail-on", "review", DATAHUNGRY, "--policy", "nl-aivd", "--format", "text"])
        .assert()
        .code(11);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let second = text.lines().nth(1).unwrap();
    assert!(second.contains("VERDICT     BLOCK") && second.contains("SPY-SENSITIVE"), "{text}");
    assert!(!text.contains('\u{1b}'), "colour when not a terminal");
}

#[test]
fn diff_names_the_new_signer_and_new_parties_in_countries_of_concern() {
    let out = appvet().args(["diff", BENIGN, DATAHUNGRY, "--format", "json"]).assert().code(0);
    let d: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(d["schema"], "appvet/diff/v1");
    assert_eq!(d["signer_changed"], true);
    assert!(d["red_flags"].to_string().contains("a new signer: CN=Example Flashlight"), "{}", d["red_flags"]);
    assert!(d["red_flags"]
        .to_string()
        .contains("a new party in a country of concern: Tencent Holdings Ltd."));
    assert!(d["permissions"]["added"].to_string().contains("READ_SMS"));
    let text = appvet().args(["diff", BENIGN, DATAHUNGRY]).assert().code(0).get_output().stdout.clone();
    assert!(String::from_utf8(text).unwrap().contains("! a new signer: CN=Example Flashlight"));
}

/// `diff --fail-on red-flag` gates an update: a tampered build (its
/// signature no longer verifies) fails, the same build against itself passes.
#[test]
fn diff_fails_on_red_flags_only_when_asked_and_only_when_there_are_some() {
    const TAMPERED: &str = "samples/malformed/tampered.apk";
    let out = appvet().args(["diff", BENIGN, TAMPERED, "--fail-on", "red-flag"]).assert().code(10);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("! the signature no longer verifies"), "{text}");
    appvet().args(["diff", BENIGN, TAMPERED]).assert().code(0);
    appvet().args(["diff", BENIGN, BENIGN, "--fail-on", "red-flag"]).assert().code(0);
}

/// A lost protection gates an update too: the same app with debugging and
/// backup turned on (two JSON reports, as a pipeline keeps them) fails
/// `--fail-on red-flag`, and the flags read as words.
#[test]
fn diff_fails_on_a_lost_protection() {
    let out = appvet().args(["scan", BENIGN]).assert().code(0).get_output().stdout.clone();
    let mut report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["app"]["android"]["allow_backup"], false);
    let dir = std::env::temp_dir().join(format!("appvet-diff-lost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = dir.join("old.json");
    std::fs::write(&old, serde_json::to_vec(&report).unwrap()).unwrap();
    report["app"]["android"]["debuggable"] = serde_json::Value::Bool(true);
    report["app"]["android"]["allow_backup"] = serde_json::Value::Null;
    let new = dir.join("new.json");
    std::fs::write(&new, serde_json::to_vec(&report).unwrap()).unwrap();
    let out = appvet().arg("diff").arg(&old).arg(&new).args(["--fail-on", "red-flag"]).assert().code(10);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.contains("! debuggable newly turned on"), "{text}");
    assert!(text.contains("! backup newly allowed"), "{text}");
    appvet().arg("diff").arg(&new).arg(&old).args(["--fail-on", "red-flag"]).assert().code(0);
    let _ = std::fs::remove_dir_all(&dir);
}
