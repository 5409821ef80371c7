//! One buffer's records (the bytes after a 72-byte buffer header), without the file walk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsktrace_tools::etl::record::Records;
use wsktrace_tools::etl::Record;

fuzz_target!(|data: &[u8]| {
    for rec in Records::new(data, 0, 0).flatten() {
        let _ = rec.timestamp();
        let _ = rec.payload();
        if let Record::Event(e) = rec {
            for item in e.extended_items() {
                let _ = item.decode();
            }
        }
    }
});
