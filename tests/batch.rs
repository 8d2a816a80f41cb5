//! Batch runs as a store-scale user drives them: list and stdin inputs, the
//! results database, resume, shards and merge, rescore, the time guard.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn appvet() -> Command {
    let mut c = Command::cargo_bin("appvet").unwrap();
    c.current_dir(common::root());
    c
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("appvet-batch-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

#[test]
fn database_run_resumes_and_dedupes() {
    let dir = temp_dir("resume");
    let db = dir.join("r.sqlite");
    let samples = common::sample_files();
    // The baseline policy sends the data-hungry sample to review: exit 10.
    let a = appvet()
        .args(["scan", "--fail-on", "review", "samples/", "--summary", "--db"])
        .arg(&db)
        .assert()
        .code(10);
    assert!(a.get_output().stdout.is_empty(), "reports go to the database only");
    assert!(stderr_of(&a).contains(&format!("{} inputs", samples.len())), "{}", stderr_of(&a));
    let apps = count(&db, "SELECT count(*) FROM apps");
    assert_eq!(count(&db, "SELECT count(*) FROM inputs"), samples.len() as i64);
    assert!(apps > 0);
    assert!(count(&db, "SELECT count(*) FROM permissions") > 0);
    assert_eq!(count(&db, "SELECT count(*) FROM apps WHERE length(evidence) = 0"), 0);

    // A second run over the same tree plus a copy of one sample: nothing is
    // analysed again, the copy is recorded as a duplicate.
    let copy = dir.join("copy.apk");
    std::fs::copy(common::root().join("samples/benign.apk"), &copy).unwrap();
    let a = appvet().args(["scan", "samples/", "--summary", "--db"]).arg(&db).arg(&copy).assert().code(0);
    let err = stderr_of(&a);
    assert!(err.contains(" 0 analysed"), "{err}");
    assert!(err.contains(&format!("{} already stored, 1 duplicates", samples.len())), "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM apps"), apps);
    assert_eq!(count(&db, "SELECT count(*) FROM inputs WHERE status = 'duplicate'"), 1);

    // Errors are rows.
    let junk = dir.join("junk.apk");
    std::fs::write(&junk, b"not an app").unwrap();
    appvet().args(["scan", "--db"]).arg(&db).arg(&junk).assert().code(4);
    assert_eq!(count(&db, "SELECT count(*) FROM errors"), 1);

    // Rescore works from the stored evidence.
    appvet().args(["rescore", "--db"]).arg(&db).assert().code(0);
    assert_eq!(count(&db, "SELECT count(*) FROM apps"), apps);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rescore_rewrites_every_app_and_a_failed_write_commits_nothing() {
    let dir = temp_dir("rescore");
    let db = dir.join("r.sqlite");
    appvet().args(["scan", "--fail-on", "review", "samples/", "-q", "--db"]).arg(&db).assert().code(10);
    let apps = count(&db, "SELECT count(*) FROM apps");
    assert!(apps > 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let reports = |conn: &rusqlite::Connection| -> Vec<(String, Vec<u8>)> {
        let mut st = conn.prepare("SELECT sha256, report FROM apps ORDER BY sha256").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let before = reports(&conn);

    // Rows stamped by an older signature version are all brought up to date,
    // with the same attribution (the signatures did not change).
    conn.execute("UPDATE apps SET signatures_version = 'old'", []).unwrap();
    appvet().args(["rescore", "--jobs", "2", "--db"]).arg(&db).assert().code(0);
    assert_eq!(count(&db, "SELECT count(*) FROM apps WHERE signatures_version = 'old'"), 0);
    assert_eq!(reports(&conn), before);

    // A write that fails stops every worker and rolls back: no row changes.
    conn.execute("UPDATE apps SET signatures_version = 'old'", []).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE UPDATE ON apps BEGIN SELECT RAISE(ABORT, 'refused'); END;",
    )
    .unwrap();
    let a = appvet().args(["rescore", "--jobs", "2", "--db"]).arg(&db).assert().code(2);
    assert!(stderr_of(&a).contains("refused"), "{}", stderr_of(&a));
    assert_eq!(count(&db, "SELECT count(*) FROM apps WHERE signatures_version = 'old'"), apps);
    drop(conn);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shards_partition_the_inputs_and_merge_back() {
    let dir = temp_dir("shard");
    let whole = dir.join("whole.sqlite");
    appvet().args(["scan", "--fail-on", "review", "samples/", "-q", "--db"]).arg(&whole).assert().code(10);
    let mut parts = Vec::new();
    for k in 1..=3 {
        let part = dir.join(format!("part{k}.sqlite"));
        // A shard may hold no input at all: still a success.
        let code = appvet()
            .args(["scan", "samples/", "-q", "--shard", &format!("{k}/3"), "--db"])
            .arg(&part)
            .output()
            .unwrap()
            .status
            .code();
        // 0, or 10 when the shard holds an app the baseline sends to review.
        assert!(matches!(code, Some(0 | 10)), "shard {k}: exit {code:?}");
        parts.push(part);
    }
    let inputs: i64 = parts.iter().map(|p| count(p, "SELECT count(*) FROM inputs")).sum();
    assert_eq!(inputs, count(&whole, "SELECT count(*) FROM inputs"));
    let merged = dir.join("merged.sqlite");
    appvet().arg("merge").arg(&merged).args(&parts).assert().code(0);
    for table in ["apps", "inputs", "permissions", "certificates", "diagnostics"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(count(&merged, &sql), count(&whole, &sql), "{table}");
    }
    // Merging again changes nothing.
    appvet().arg("merge").arg(&merged).args(&parts).assert().code(0);
    assert_eq!(
        count(&merged, "SELECT count(*) FROM permissions"),
        count(&whole, "SELECT count(*) FROM permissions")
    );
    appvet().args(["scan", "x", "--shard", "4/3"]).assert().code(2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_files_and_stdin_name_inputs() {
    let dir = temp_dir("list");
    let list = dir.join("list.txt");
    std::fs::write(&list, "# two apps\nsamples/benign.apk\n\nsamples/datahungry.apk\n").unwrap();
    let out = appvet()
        .args(["scan", "--fail-on", "review", &format!("@{}", list.display())])
        .assert()
        .code(10)
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    let out = appvet()
        .args(["scan", "-"])
        .write_stdin("samples/benign.apk\n")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["app"]["id"], "org.example.notes");
    let out = appvet()
        .args(["scan", "--fail-on", "review", "samples/*.apk"])
        .assert()
        .code(10)
        .get_output()
        .stdout
        .clone();
    let top_level_apks = std::fs::read_dir(common::root().join("samples"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "apk"))
        .count();
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), top_level_apks);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_time_guard_turns_a_slow_app_into_an_error_row() {
    let dir = temp_dir("timeout");
    let db = dir.join("t.sqlite");
    let a = appvet()
        .args([
            "scan",
            "samples/benign.apk",
            "samples/datahungry.apk",
            "--timeout",
            "0.000001",
            "--jobs",
            "1",
            "--db",
        ])
        .arg(&db)
        .assert()
        .code(4);
    assert!(stderr_of(&a).contains("timeout"), "{}", stderr_of(&a));
    assert_eq!(count(&db, "SELECT count(*) FROM errors WHERE error LIKE 'timeout%'"), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
