//! Unit tests over archives built by `test_writer`, well-formed and hostile.

use std::borrow::Cow;
use std::io::Write;
use std::sync::OnceLock;

use super::test_writer::{deflate, TestEntry, ZipBuilder};
use super::*;
use crate::test_support::{each_flip, each_truncation};

fn parse(data: &[u8]) -> ZipArchive<'_> {
    ZipArchive::parse(data, &Limits::default()).expect("archive parses")
}

fn codes_of<'z>(archive: &'z ZipArchive<'_>) -> Vec<&'z str> {
    archive.diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn read_all(archive: &ZipArchive<'_>, name: &str) -> Vec<u8> {
    let entry = archive.by_name(name).expect("entry exists");
    archive.read(entry, &mut Budget::new(&Limits::default())).expect("entry reads").into_owned()
}

fn sample_text() -> Vec<u8> {
    b"<manifest package=\"org.example\"/>\n".repeat(200)
}

#[test]
fn reads_stored_by_borrowing_and_deflated_by_inflating() {
    let text = sample_text();
    let data = ZipBuilder::with(vec![
        TestEntry::stored("resources.arsc", b"stored bytes"),
        TestEntry::deflated("AndroidManifest.xml", &text),
        TestEntry::stored("assets/", b""),
    ])
    .build();
    let archive = parse(&data);
    assert!(archive.diagnostics.is_empty(), "{:?}", archive.diagnostics);
    assert_eq!(archive.entries.len(), 3);
    assert!(archive.layout.eocd_found);
    assert_eq!(archive.layout.prefix_len, 0);
    assert_eq!(archive.layout.eocd_offset as usize, data.len() - 22);
    assert!(archive.entries[2].is_dir());

    let mut budget = Budget::new(&archive.limits);
    let stored = archive.read(&archive.entries[0], &mut budget).unwrap();
    assert!(matches!(stored, Cow::Borrowed(b"stored bytes")));
    let inflated = archive.read(&archive.entries[1], &mut budget).unwrap();
    assert!(matches!(inflated, Cow::Owned(_)));
    assert_eq!(&*inflated, &text[..]);
    assert_eq!(budget.remaining, archive.limits.max_total_inflated - 12 - text.len() as u64);
    assert_eq!(archive.raw_compressed(&archive.entries[1]).unwrap(), &deflate(&text)[..]);
}

#[test]
fn reads_zip64_records_and_extra_fields() {
    let text = sample_text();
    let mut builder =
        ZipBuilder::with(vec![TestEntry::deflated("classes.dex", &text), TestEntry::stored("a.txt", b"abc")]);
    builder.zip64 = true;
    let data = builder.build();
    let archive = parse(&data);
    assert!(archive.layout.zip64);
    assert_eq!(archive.layout.declared_entries, 2);
    assert!(archive.diagnostics.is_empty(), "{:?}", archive.diagnostics);
    assert_eq!(archive.entries[0].uncompressed_size, text.len() as u64);
    assert_eq!(read_all(&archive, "classes.dex"), text);
    assert_eq!(read_all(&archive, "a.txt"), b"abc");
}

#[test]
fn keeps_duplicate_names_and_returns_the_first() {
    let data = ZipBuilder::with(vec![
        TestEntry::stored("classes.dex", b"first"),
        TestEntry::stored("classes.dex", b"second"),
        TestEntry::stored("other", b"x"),
    ])
    .build();
    let archive = parse(&data);
    assert_eq!(archive.entries.len(), 3);
    assert_eq!(codes_of(&archive), [codes::DUPLICATE_NAME]);
    assert_eq!(read_all(&archive, "classes.dex"), b"first");
    let all: Vec<usize> = archive.entries_named("classes.dex").map(|e| e.index).collect();
    assert_eq!(all, [0, 1]);
}

#[test]
fn ignores_the_encrypted_flag_like_android() {
    let text = sample_text();
    let mut entry = TestEntry::deflated("AndroidManifest.xml", &text);
    entry.flags = 1;
    let data = ZipBuilder::with(vec![entry]).build();
    let archive = parse(&data);
    assert_eq!(codes_of(&archive), [codes::ENCRYPTED_FLAG]);
    assert!(archive.entries[0].has_encrypted_flag());
    assert_eq!(read_all(&archive, "AndroidManifest.xml"), text);
}

#[test]
fn reads_unknown_methods_as_deflate_like_android() {
    let text = sample_text();
    let mut entry = TestEntry::deflated("classes.dex", &text);
    entry.method = 99;
    let mut not_deflate = TestEntry::stored("res/raw.bin", &[0xff; 64]);
    not_deflate.method = 12;
    let data = ZipBuilder::with(vec![entry, not_deflate]).build();
    let archive = parse(&data);
    assert_eq!(codes_of(&archive), [codes::UNKNOWN_METHOD, codes::UNKNOWN_METHOD]);
    assert_eq!(read_all(&archive, "classes.dex"), text);
    let err = archive.read(&archive.entries[1], &mut Budget::new(&archive.limits)).unwrap_err();
    assert_eq!(err.code(), codes::ENTRY_UNREADABLE);
    assert!(err.to_string().contains("method 12"), "{err}");
}

#[test]
fn reports_janus_dex_prefix_with_absolute_offsets() {
    let mut builder = ZipBuilder::with(vec![TestEntry::stored("classes.dex", b"real")]);
    builder.prefix = b"dex\n035\0 fake dex bytes".to_vec();
    let data = builder.build();
    let archive = parse(&data);
    assert_eq!(archive.layout.prefix_len, builder.prefix.len() as u64);
    assert_eq!(archive.layout.offset_shift, 0);
    let prefix = archive.diagnostics.iter().find(|d| d.code == codes::PREPENDED_DATA).unwrap();
    assert_eq!(prefix.level, crate::diagnostic::Level::Error);
    assert!(prefix.message.contains("DEX"));
    assert_eq!(read_all(&archive, "classes.dex"), b"real");
}

#[test]
fn shifts_offsets_of_self_extractor_style_archives() {
    let text = sample_text();
    let mut builder =
        ZipBuilder::with(vec![TestEntry::stored("a", b"alpha"), TestEntry::deflated("b", &text)]);
    builder.prefix = b"MZ self-extractor stub".to_vec();
    builder.offsets_relative_to_prefix = true;
    let data = builder.build();
    let archive = parse(&data);
    assert_eq!(archive.layout.offset_shift, builder.prefix.len() as i64);
    assert_eq!(archive.layout.prefix_len, builder.prefix.len() as u64);
    assert!(codes_of(&archive).contains(&codes::OFFSETS_SHIFTED));
    assert_eq!(read_all(&archive, "a"), b"alpha");
    assert_eq!(read_all(&archive, "b"), text);

    builder.zip64 = true;
    let data = builder.build();
    let archive = parse(&data);
    assert!(archive.layout.zip64);
    assert_eq!(archive.layout.offset_shift, builder.prefix.len() as i64);
    assert_eq!(read_all(&archive, "b"), text);
}

#[test]
fn salvages_entries_when_the_central_directory_is_cut() {
    let text = sample_text();
    let data = ZipBuilder::with(vec![
        TestEntry::stored("one", b"1"),
        TestEntry::deflated("two", &text),
        TestEntry::stored("three", b"333"),
    ])
    .build();
    // Cut the last central record's name, then append a fresh end record
    // that still declares the original directory size.
    let eocd = data.len() - 22;
    let mut cut = data[..eocd - 2].to_vec();
    cut.extend_from_slice(&data[eocd..]);
    let archive = parse(&cut);
    let names: Vec<&str> = archive.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["one", "two", "three"]);
    assert!(archive.entries[2].recovered);
    assert!(codes_of(&archive).contains(&codes::CENTRAL_DIRECTORY_DAMAGED));
    assert_eq!(read_all(&archive, "three"), b"333");
    assert_eq!(read_all(&archive, "two"), text);
}

#[test]
fn lists_local_headers_when_there_is_no_end_record() {
    let text = sample_text();
    let mut described = TestEntry::deflated("described", &text);
    described.flags = 8;
    let data =
        ZipBuilder::with(vec![TestEntry::stored("one", b"1"), described, TestEntry::stored("last", b"x")])
            .build();
    let first_cd = memchr::memmem::find(&data, b"PK\x01\x02").unwrap();
    let archive = parse(&data[..first_cd + 10]);
    assert!(!archive.layout.eocd_found);
    assert!(codes_of(&archive).contains(&codes::EOCD_MISSING));
    assert_eq!(archive.entries.len(), 3);
    assert!(archive.entries.iter().all(|e| e.recovered));
    assert_eq!(archive.entries[1].compressed_size, deflate(&text).len() as u64);
    assert_eq!(read_all(&archive, "described"), text);
    assert_eq!(read_all(&archive, "last"), b"x");
}

#[test]
fn reads_data_descriptor_entries_from_the_directory() {
    let text = sample_text();
    let mut described = TestEntry::deflated("described", &text);
    described.flags = 8;
    let data = ZipBuilder::with(vec![described, TestEntry::stored("after", b"ok")]).build();
    let archive = parse(&data);
    assert!(archive.diagnostics.is_empty(), "{:?}", archive.diagnostics);
    assert_eq!(read_all(&archive, "described"), text);
    assert_eq!(read_all(&archive, "after"), b"ok");
}

/// 200 MiB of zeros, deflated while streaming so the test never holds them.
fn zeros_bomb() -> &'static (Vec<u8>, u64) {
    static BOMB: OnceLock<(Vec<u8>, u64)> = OnceLock::new();
    BOMB.get_or_init(|| {
        let chunk = vec![0u8; 1 << 20];
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..200 {
            encoder.write_all(&chunk).unwrap();
        }
        (encoder.finish().unwrap(), 200 << 20)
    })
}

fn bomb_entry(declared: u64) -> TestEntry {
    let (packed, _) = zeros_bomb();
    TestEntry {
        name: b"bomb.bin".to_vec(),
        method: 8,
        flags: 0,
        payload: packed.clone(),
        crc32: 0,
        uncompressed_size: declared,
        local_name: None,
        local_method: None,
        local_header_of: None,
    }
}

#[test]
fn refuses_a_bomb_by_its_declared_ratio_before_inflating() {
    let (packed, real) = zeros_bomb();
    let data = ZipBuilder::with(vec![bomb_entry(*real)]).build();
    let archive = parse(&data);
    let mut budget = Budget::new(&archive.limits);
    let err = archive.read(&archive.entries[0], &mut budget).unwrap_err();
    assert_eq!(err.code(), codes::BOMB, "{err} ({} compressed)", packed.len());
    assert_eq!(budget.remaining, archive.limits.max_total_inflated, "nothing was inflated");
}

#[test]
fn cuts_off_a_bomb_that_lies_about_its_size() {
    let data = ZipBuilder::with(vec![bomb_entry(100_000)]).build();
    let archive = parse(&data);
    let mut budget = Budget::new(&archive.limits);
    let err = archive.read(&archive.entries[0], &mut budget).unwrap_err();
    assert_eq!(err.code(), codes::BOMB, "{err}");
    assert!(err.to_string().contains("past its declared"));
    assert_eq!(budget.remaining, archive.limits.max_total_inflated - 100_000);
}

#[test]
fn enforces_entry_size_and_budget_limits() {
    let text = sample_text();
    let data = ZipBuilder::with(vec![TestEntry::deflated("a", &text), TestEntry::stored("b", &text)]).build();
    let small = Limits { max_entry_size: 100, ..Limits::default() };
    let archive = ZipArchive::parse(&data, &small).unwrap();
    let err = archive.read(&archive.entries[0], &mut Budget::new(&small)).unwrap_err();
    assert_eq!(err.code(), codes::ENTRY_TOO_LARGE);

    let limits = Limits { max_total_inflated: text.len() as u64 + 10, ..Limits::default() };
    let archive = ZipArchive::parse(&data, &limits).unwrap();
    let mut budget = Budget::new(&limits);
    archive.read(&archive.entries[0], &mut budget).unwrap();
    let err = archive.read(&archive.entries[1], &mut budget).unwrap_err();
    assert_eq!(err.code(), codes::BUDGET_EXHAUSTED);
}

#[test]
fn returns_data_with_a_crc_mismatch_diagnostic() {
    let text = sample_text();
    let mut bad = TestEntry::deflated("classes.dex", &text);
    bad.crc32 ^= 1;
    let mut bad_stored = TestEntry::stored("raw", b"raw");
    bad_stored.crc32 = 7;
    let data = ZipBuilder::with(vec![bad, bad_stored]).build();
    let archive = parse(&data);
    let mut budget = Budget::new(&archive.limits);
    let mut found = Vec::new();
    for entry in &archive.entries {
        archive.read_with_diagnostics(entry, &mut budget, &mut found).unwrap();
    }
    let found: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(found, [codes::CRC_MISMATCH, codes::CRC_MISMATCH]);
}

#[test]
fn prefers_central_values_over_a_mismatched_local_header() {
    let text = sample_text();
    let mut entry = TestEntry::deflated("classes.dex", &text);
    entry.local_method = Some(0);
    entry.local_name = Some(b"other.dex".to_vec());
    let data = ZipBuilder::with(vec![entry]).build();
    let archive = parse(&data);
    assert_eq!(codes_of(&archive), [codes::LOCAL_HEADER_MISMATCH]);
    assert!(archive.diagnostics[0].message.contains("name, method"));
    assert_eq!(read_all(&archive, "classes.dex"), text);
}

#[test]
fn records_suspicious_names() {
    let names = ["../../evil.so", "/system/bin/sh", "lib\\x.so", "a\nb", "ok/name.txt"];
    let data = ZipBuilder::with(names.iter().map(|n| TestEntry::stored(n, b"x")).collect()).build();
    let archive = parse(&data);
    let flagged = archive.diagnostics.iter().filter(|d| d.code == codes::SUSPICIOUS_NAME).count();
    assert_eq!(flagged, 4);
}

#[test]
fn reports_entries_sharing_data() {
    let mut second = TestEntry::stored("second", b"shared");
    second.local_header_of = Some(0);
    let data = ZipBuilder::with(vec![TestEntry::stored("shared", b"shared"), second]).build();
    let archive = parse(&data);
    assert!(codes_of(&archive).contains(&codes::OVERLAPPING_ENTRIES), "{:?}", archive.diagnostics);
}

#[test]
fn caps_entries_and_reports_count_mismatch() {
    let entries: Vec<TestEntry> = (0..5).map(|i| TestEntry::stored(&format!("e{i}"), b"x")).collect();
    let data = ZipBuilder::with(entries.clone()).build();
    let limits = Limits { max_entries: 2, ..Limits::default() };
    let archive = ZipArchive::parse(&data, &limits).unwrap();
    assert_eq!(archive.entries.len(), 2);
    assert_eq!(codes_of(&archive), [codes::TOO_MANY_ENTRIES]);

    let mut builder = ZipBuilder::with(entries);
    builder.declared_entries = Some(3);
    let data = builder.build();
    let archive = parse(&data);
    assert_eq!(archive.entries.len(), 5);
    assert_eq!(codes_of(&archive), [codes::ENTRY_COUNT_MISMATCH]);
}

#[test]
fn finds_the_end_record_behind_a_comment_with_fake_signatures() {
    let mut builder = ZipBuilder::with(vec![TestEntry::stored("a", b"alpha")]);
    builder.comment = b"PK\x05\x06 not a record PK\x05\x06".to_vec();
    let data = builder.build();
    let archive = parse(&data);
    assert_eq!(archive.entries.len(), 1);
    assert_eq!(read_all(&archive, "a"), b"alpha");
}

#[test]
fn empty_archive_and_non_zip_inputs() {
    let empty = ZipBuilder::default().build();
    let archive = parse(&empty);
    assert!(archive.entries.is_empty());
    assert!(archive.diagnostics.is_empty());
    for junk in [&b""[..], b"hello", &[0u8; 100], b"PK\x05\x06"] {
        let err = ZipArchive::parse(junk, &Limits::default()).err().expect("not a zip");
        assert_eq!(err.code(), codes::NOT_ZIP);
    }
}

#[test]
fn truncations_and_corruptions_never_panic() {
    let text = sample_text();
    let mut described = TestEntry::deflated("d", &text);
    described.flags = 8;
    let mut builder =
        ZipBuilder::with(vec![TestEntry::stored("s", b"stored"), described, TestEntry::deflated("z", &text)]);
    for zip64 in [false, true] {
        builder.zip64 = zip64;
        let data = builder.build();
        let limits = Limits { max_total_inflated: 1 << 20, ..Limits::default() };
        let check = |bytes: &[u8]| {
            if let Ok(archive) = ZipArchive::parse(bytes, &limits) {
                let mut budget = Budget::new(&limits);
                for entry in &archive.entries {
                    let _ = archive.read(entry, &mut budget);
                }
            }
        };
        each_truncation(&data, check);
        // Cut at the front too: the end record is found from the back.
        for len in 0..data.len() {
            check(&data[len..]);
        }
        each_flip(&data, &[0x00, 0xff, 0x7f], |_, _, flipped| check(flipped));
    }
}

#[test]
fn read_prefix_inflates_only_the_start() {
    let zeros = vec![0u8; 4 << 20];
    let data = ZipBuilder::with(vec![TestEntry::deflated("assets/a.bin", &zeros)]).build();
    let zip = ZipArchive::parse(&data, &Limits::default()).unwrap();
    let (head, consumed) = zip.read_prefix(&zip.entries[0], 65536).unwrap();
    assert_eq!(head.len(), 65536);
    assert!(consumed < 1000, "consumed {consumed}");
}
