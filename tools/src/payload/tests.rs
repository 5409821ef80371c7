//! [`PayloadDecoder::decodes`] (the length memo, the recent schemas, the TraceLogging size
//! walk) against [`PayloadDecoder::decode`] on every record of every corpus file.

use super::*;
use crate::etl::EtlReader;

/// What [`PayloadDecoder::decode`] says, as [`Decodes`].
fn decided(decoder: &mut PayloadDecoder, rec: &Record<'_>) -> Decodes {
    match decoder.decode(rec) {
        Payload::Decoded { .. } => Decodes::Yes,
        Payload::Failed { .. } => Decodes::No,
        Payload::Undescribed => Decodes::Undescribed(PayloadDecoder::layout_key(rec)),
    }
}

#[test]
fn decodes_says_what_decoding_says_on_every_corpus_record() {
    let Some(dir) = crate::corpus::etl_dir_or_skip("payload decodes") else {
        return;
    };
    let mut files = 0;
    let mut tracelogging = 0;
    for path in crate::corpus::etl_files(&dir) {
        let bytes = std::fs::read(&path).unwrap();
        let mut layouts = Layouts::new();
        crate::pipeline::summary::read_metadata(&bytes[..], &mut layouts);
        let mut cheap = PayloadDecoder::new(layouts.clone());
        let mut full = PayloadDecoder::new(layouts);
        let Ok(mut reader) = EtlReader::new(&bytes[..]) else {
            continue;
        };
        while let Some(b) = reader.next_buffer() {
            let Ok(b) = b else { continue };
            for rec in b.records().flatten() {
                let at = rec.offset();
                assert_eq!(
                    cheap.decodes(&rec),
                    decided(&mut full, &rec),
                    "{} record at {at:#x}",
                    path.display()
                );
                if let Described::TraceLogging { meta, payload, ptr } = described(&rec) {
                    tracelogging += 1;
                    if let Ok(schema) = full.schemas.get(meta) {
                        let ptr = pointer_size(ptr);
                        let want = tracelogging::decode(schema, payload, ptr).map(|e| e.unread);
                        assert_eq!(tracelogging::validate(schema, payload, ptr), want);
                    }
                }
            }
        }
        files += 1;
    }
    assert!(files >= 19, "{files} corpus files");
    assert!(tracelogging > 10_000, "{tracelogging} TraceLogging records");
}
