#![no_main]
// The instruction walker over arbitrary bytes, and over the code items of an
// arbitrary DEX (class data, code offsets and payloads all untrusted).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    appvet::formats::dex::walk_code(data, |_| {});
    if let Ok(dex) = appvet::formats::dex::parse(data) {
        for class in dex.class_defs().take(1000) {
            for m in dex.class_methods(&class) {
                if let Some(insns) = dex.code_insns(m.code_off) {
                    appvet::formats::dex::walk_code(insns, |_| {});
                }
            }
        }
    }
});
