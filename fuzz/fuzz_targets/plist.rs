#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = appvet::formats::property_list::parse(data);
    let _ = appvet::formats::mobileprovision::parse(data, "embedded.mobileprovision");
});
