//! The whole-file reader: every buffer, every record, every extended item, the sorted merge.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsktrace_tools::etl::merge::SortedRecords;
use wsktrace_tools::etl::EtlReader;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = EtlReader::new(data) {
        let clock = r.info().clock();
        while let Some(b) = r.next_buffer() {
            let Ok(b) = b else { continue };
            for rec in b.records().flatten() {
                if let Some(ts) = rec.timestamp() {
                    let _ = clock.filetime(ts);
                    let _ = clock.since_boot_ns(ts);
                }
                if let wsktrace_tools::etl::Record::Event(e) = rec {
                    for item in e.extended_items() {
                        let _ = item.decode();
                    }
                }
            }
        }
    }
    if let Ok(r) = EtlReader::new(data) {
        let mut m = SortedRecords::new(r, 4);
        while m.next().is_some() {}
    }
});
