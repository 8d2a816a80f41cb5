//! Fuzzes ZIP directory parsing and bounded reads of every entry.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    use appvet::archive::zip::{Budget, Limits, ZipArchive};
    let limits = Limits {
        max_entries: 1000,
        max_entry_size: 1 << 20,
        max_total_inflated: 4 << 20,
        ..Limits::default()
    };
    if let Ok(archive) = ZipArchive::parse(data, &limits) {
        let mut budget = Budget::new(&limits);
        for entry in &archive.entries {
            let _ = archive.read(entry, &mut budget);
        }
    }
});
