//! One buffer's records (the bytes after a 72-byte buffer header), without the file walk.
//! Also checks that the two fast paths agree with the full record parser: the header walk
//! (`RecordHeaders`) and the provider peek of `dump --summary` (`peek_provider`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsktrace_tools::etl::names::{
    classic_name, kernel_provider, record_provider, traits_name_bytes,
};
use wsktrace_tools::etl::record::{peek_provider, ProviderPeek, RecordHeaders, Records};
use wsktrace_tools::etl::Record;

fuzz_target!(|data: &[u8]| {
    let mut full = Records::new(data, 0, 0);
    let mut headers = RecordHeaders::new(data, 0, 0);
    loop {
        let pos = full.position();
        let peek = peek_provider(data, pos);
        let (Some(rec), h) = (full.next(), headers.next()) else {
            break;
        };
        match (&rec, &h) {
            (Ok(r), Some(Ok(h))) => {
                assert_eq!(r.offset(), h.offset);
                assert_eq!(r.timestamp(), h.timestamp);
            }
            (Ok(_), other) => panic!("header walk disagrees: {other:?}"),
            _ => {}
        }
        if let Some((adv, p)) = peek {
            let r = rec
                .as_ref()
                .expect("peek accepted a record the parser rejects");
            assert_eq!(pos + adv, full.position());
            let (g, n) = match p {
                ProviderPeek::Event { guid, traits } => (guid, traits.and_then(traits_name_bytes)),
                ProviderPeek::Kernel { hook_id } => {
                    let (g, n) = kernel_provider(hook_id);
                    (g, n.map(str::as_bytes))
                }
                ProviderPeek::Classic { guid } => (guid, classic_name(&guid).map(str::as_bytes)),
            };
            let (rg, rn) = record_provider(r);
            assert_eq!(g, rg);
            if let Some(rn) = rn {
                assert_eq!(n, Some(rn.as_bytes()));
            }
        }
        if let Ok(Record::Event(e)) = rec {
            for item in e.extended_items() {
                let _ = item.decode();
            }
        }
        // Both skip a record with a bad extended item by its size: they never part.
        assert_eq!(full.position(), headers.position());
    }
});
