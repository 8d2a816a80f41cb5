//! Fuzz target: host extraction over arbitrary text must never panic.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| appvet::evidence::hosts::fuzz_one(data));
