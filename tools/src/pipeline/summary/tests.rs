//! The decoding summary on every core, where fixed-size kinds are decided by their payload
//! length, against the reference: one thread decoding every record.

use super::decoded::summarize_slice_decoding;
use super::*;
use crate::etl::write::SessionConfig;
use crate::pipeline::parallel::{Plan, JOB};
use crate::scenario::{session_config, write_etl, SCENARIOS};

/// A summary's JSON object (decoded counts included) and the errors met, in order.
type Outcome = (Option<serde_json::Value>, Vec<String>);

fn exact(bytes: &[u8]) -> Outcome {
    let mut errors = Vec::new();
    let s = summarize_decoding_exact(
        bytes,
        &ProviderFilter::default(),
        Layouts::new(),
        &mut |e| errors.push(e.to_string()),
    );
    (s.ok().map(|s| s.to_json("t")), errors)
}

/// Holds every plan (the calling thread alone; three workers with jobs of two buffers, two
/// with the default number, so that jobs are walked with snapshots that turn out
/// old) to the reference.
fn assert_every_plan_is_exact(bytes: &[u8], what: &str) {
    let want = exact(bytes);
    for (workers, job) in [(1, 3), (3, 2), (2, JOB)] {
        let mut errors = Vec::new();
        let s = summarize_slice_decoding(
            bytes,
            &ProviderFilter::default(),
            Layouts::new(),
            Plan { workers, job },
            &mut |e| errors.push(e.to_string()),
            &mut |_| {},
        );
        let got = (s.ok().map(|s| s.to_json("t")), errors);
        assert_eq!(got, want, "{what}: {workers} workers, jobs of {job}");
    }
}

#[test]
fn every_corpus_file_gives_the_exact_counts() {
    let Some(dir) = crate::corpus::etl_dir_or_skip("summary decoding") else {
        return;
    };
    let mut files = 0;
    for entry in crate::corpus::etl_files(&dir) {
        let bytes = std::fs::read(&entry).unwrap();
        assert_every_plan_is_exact(&bytes, &entry.display().to_string());
        files += 1;
    }
    assert!(files >= 19, "{files} corpus files");
}

#[test]
fn simulated_traces_give_the_exact_counts() {
    for s in SCENARIOS {
        let config = SessionConfig {
            buffer_size: 1024,
            ..session_config(s.name)
        };
        let (bytes, _) = write_etl(&s.run(), Vec::new(), config).unwrap();
        assert_every_plan_is_exact(&bytes, s.name);
    }
}

/// Corrupted copies of the corpus file with late `MetaData` events and of a simulated trace:
/// lengths and kinds changed anywhere, the counts still those of the reference.
#[test]
fn corrupted_traces_give_the_exact_counts() {
    let mut inputs = Vec::new();
    if let Some(dir) = crate::corpus::etl_dir() {
        for f in [
            "microsoft__perfview/net.4.5.2.x64.etl",
            "microsoft__perfview/diaghub.etl",
        ] {
            inputs.push(std::fs::read(dir.join(f)).unwrap());
        }
    }
    let s = &SCENARIOS[0];
    let config = SessionConfig {
        buffer_size: 1024,
        ..session_config(s.name)
    };
    inputs.push(write_etl(&s.run(), Vec::new(), config).unwrap().0);
    let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
    for (i, good) in inputs.iter().enumerate() {
        for round in 0..3 {
            let mut bytes = good.clone();
            for _ in 0..1 + next() % 16 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            assert_every_plan_is_exact(&bytes, &format!("input {i}, round {round}"));
        }
    }
}
