//! The analyst's everyday commands (issue 16): the README's first command
//! exits 0, `--fail-on` opts in to verdict exit codes, an empty input set
//! is an error, `show` returns the stored report as the scan wrote it,
//! `report` writes an index, completions and the man page are generated,
//! and a closed pipe is not a panic.

mod common;

use std::process::{Command as Process, Stdio};

use assert_cmd::Command;

fn appvet() -> Command {
    let mut c = Command::cargo_bin("appvet").unwrap();
    c.current_dir(common::root());
    c
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("appvet-everyday-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn verdicts_change_the_exit_code_only_with_fail_on() {
    // The README's first command: the samples include apps sent to review.
    appvet().args(["scan", "samples/"]).assert().code(0);
    appvet().args(["scan", "samples/", "--fail-on", "review"]).assert().code(10);
    // Under baseline nothing is blocked, so `--fail-on block` lets review pass.
    appvet().args(["scan", "samples/", "--fail-on", "block"]).assert().code(0);
    appvet()
        .args(["scan", "samples/datahungry.apk", "--policy", "nl-aivd", "--fail-on", "block"])
        .assert()
        .code(11);
    appvet().args(["scan", "samples/", "--fail-on", "sometimes"]).assert().code(2);
}

#[test]
fn an_empty_input_set_is_an_error_with_a_message() {
    let dir = temp_dir("empty");
    let a = appvet().arg("scan").arg(&dir).assert().code(4);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("no app file found"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn show_returns_the_stored_report_as_the_scan_wrote_it() {
    let dir = temp_dir("show");
    let db = dir.join("r.sqlite");
    let scanned =
        appvet().args(["scan", "samples/datahungry.apk"]).assert().code(0).get_output().stdout.clone();
    appvet().args(["scan", "samples/", "-q", "--db"]).arg(&db).assert().code(0);
    let v: serde_json::Value = serde_json::from_slice(&scanned).unwrap();
    let sha = v["input"]["sha256"].as_str().unwrap();
    let by_hash =
        appvet().args(["show", "--db"]).arg(&db).arg(sha).assert().code(0).get_output().stdout.clone();
    assert!(by_hash == scanned, "show must print the scan's JSON byte for byte");
    let by_path = appvet()
        .args(["show", "--db"])
        .arg(&db)
        .arg("samples/datahungry.apk")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(by_path == scanned);
    let html = appvet().args(["show", "--format", "html", "--db"]).arg(&db).arg(sha).assert().code(0);
    assert!(String::from_utf8_lossy(&html.get_output().stdout).contains("id=\"parties\""));
    appvet().args(["show", "--db"]).arg(&db).arg("samples/none.apk").assert().code(4);
    appvet().args(["show", "--db"]).arg(dir.join("missing.sqlite")).arg(sha).assert().code(2);

    // The index: one page per app, one index per sort order, rows linking to pages.
    let out = dir.join("site");
    appvet().args(["report", "--db"]).arg(&db).arg("-o").arg(&out).assert().code(0);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    let href = format!("apps/{sha}.html");
    assert!(index.contains(&href), "{index}");
    assert!(out.join(&href).is_file() && out.join("by-sdks.html").is_file());
    assert!(index.contains("Flashlight") && !index.contains("<script"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn completions_and_the_man_page_are_generated() {
    for (shell, marker) in [
        ("bash", "_appvet()"),
        ("zsh", "#compdef appvet"),
        ("fish", "complete -c appvet"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = appvet().args(["completions", shell]).assert().code(0).get_output().stdout.clone();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(marker) && text.contains("fail-on"), "{shell}");
    }
    let man = appvet().arg("man").assert().code(0).get_output().stdout.clone();
    let man = String::from_utf8(man).unwrap();
    assert!(man.contains(".TH appvet 1") && man.contains("completions"), "{man}");
}

#[test]
fn help_lists_every_input_kind_and_format() {
    let out = appvet().args(["scan", "--help"]).assert().code(0).get_output().stdout.clone();
    let help = String::from_utf8(out).unwrap();
    for word in [
        "IPA",
        "Mach-O",
        "AAB",
        "XAPK",
        "json",
        "text",
        "html",
        "sarif",
        "cyclonedx",
        "fail-on",
        "Exit codes",
    ] {
        assert!(help.contains(word), "{word} missing from scan --help:\n{help}");
    }
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    let exe = assert_cmd::cargo::cargo_bin("appvet");
    for args in [&["sigs", "stats", "--format", "json"][..], &["man"], &["completions", "bash"]] {
        let mut child =
            Process::new(&exe).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Closed before the command writes: its writes meet EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn a_misspelt_preset_or_policy_field_gets_a_suggestion() {
    let a = appvet().args(["scan", "samples/benign.apk", "--policy", "nl-aivt"]).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("did you mean \"nl-aivd\"?") && !err.contains("No such file"), "{err}");
    let dir = temp_dir("policy");
    let file = dir.join("p.toml");
    std::fs::write(&file, "name = \"p\"\n[[rules]]\nid = \"a\"\ndecision = \"review\"\ndescription = \"d\"\nsubjcts = [\"publisher\"]\n").unwrap();
    let a = appvet().args(["scan", "samples/benign.apk", "--policy"]).arg(&file).assert().code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("did you mean \"subjects\"?"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn manifest_prints_info_plist_for_ios_and_refuses_bare_binaries() {
    let out =
        appvet().args(["manifest", "samples/demo-tracker.ipa"]).assert().code(0).get_output().stdout.clone();
    let xml = String::from_utf8(out).unwrap();
    assert!(
        xml.contains("<plist version=\"1.0\">") && xml.contains("<string>com.example.demotracker</string>"),
        "{xml}"
    );
    appvet().args(["manifest", "samples/malformed/truncated-fat.macho"]).assert().code(4);
}
