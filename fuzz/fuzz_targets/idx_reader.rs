#![no_main]
//! Placeholder: filled in with the idx_reader target.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|_data: &[u8]| {});
