//! The committed samples must be exactly what the builder writes today, and
//! the files must be accepted by independent parsers where one is at hand.

use std::path::Path;

use appvet_samples::all_samples;

fn samples_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_samples_match_the_builder() {
    let mut stale = Vec::new();
    for sample in all_samples() {
        let path = samples_dir().join(sample.path);
        match std::fs::read(&path) {
            Ok(committed) if committed == sample.bytes => {}
            Ok(_) => stale.push(format!("{} differs", sample.path)),
            Err(e) => stale.push(format!("{} unreadable: {e}", sample.path)),
        }
    }
    assert!(stale.is_empty(), "samples are out of date (run `cargo run -p appvet-samples`): {stale:?}");
}

#[test]
fn building_twice_gives_identical_bytes() {
    assert_eq!(appvet_samples::apps::benign_apk(), appvet_samples::apps::benign_apk());
}

/// Pulls a stored entry out of an archive written by our zip writer.
fn stored_entry<'a>(zip: &'a [u8], name: &str) -> &'a [u8] {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let eocd = zip.len() - 22;
    let mut at = u32_at(eocd + 16);
    for _ in 0..u16_at(eocd + 10) {
        let name_len = u16_at(at + 28);
        let entry_name = &zip[at + 46..at + 46 + name_len];
        if entry_name == name.as_bytes() {
            assert_eq!(u16_at(at + 10), 0, "{name} is stored");
            let size = u32_at(at + 20);
            let local = u32_at(at + 42);
            let data = local + 30 + u16_at(local + 26) + u16_at(local + 28);
            return &zip[data..data + size];
        }
        at += 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
    }
    panic!("{name} not found");
}

#[test]
fn native_library_parses_with_goblin() {
    let apk = appvet_samples::apps::datahungry_apk();
    let so = stored_entry(&apk, "lib/arm64-v8a/libtracker.so");
    let elf = goblin::elf::Elf::parse(so).expect("goblin parses libtracker.so");
    assert_eq!(elf.header.e_machine, goblin::elf::header::EM_AARCH64);
    assert_eq!(elf.soname, Some("libtracker.so"));
    assert_eq!(elf.libraries, vec!["liblog.so", "libc.so"]);
    let names: Vec<&str> = elf.dynsyms.iter().filter_map(|s| elf.dynstrtab.get_at(s.st_name)).collect();
    assert!(names.contains(&"__android_log_print"));
    assert!(names.contains(&"JNI_OnLoad"));
    assert!(so.windows(33).any(|w| w == b"https://sdk.tracker.example.cn/v1"));
}
