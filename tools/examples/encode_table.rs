//! What the `parquet` crate alone costs `wsktrace export`: reads a table an export wrote
//! (`events.parquet`) into batches of the export's size and encodes them again, as the export
//! does (`parquet_properties`), into memory, on one thread. Prints the fastest of the rounds
//! (docs/benchmarks.md, "`export` and `compare` on fleets").
//!
//! usage: encode_table TABLE.parquet [ROUNDS]

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use wsktrace_tools::export::collect::BATCH_ROWS;
use wsktrace_tools::export::table::TableId;
use wsktrace_tools::export::write::parquet_properties;

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: encode_table TABLE.parquet [ROUNDS]");
        return ExitCode::from(2);
    };
    let rounds = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(9);
    match run(Path::new(path), rounds) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("encode_table: {path}: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(path: &Path, rounds: usize) -> Result<(), Failure> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let table = TableId::ALL
        .into_iter()
        .find(|t| t.name() == stem)
        .ok_or("not a table of an export (events.parquet, captures.parquet, …)")?;
    let batches = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?
        .with_batch_size(BATCH_ROWS)
        .build()?
        .collect::<Result<Vec<RecordBatch>, _>>()?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut fastest = Duration::MAX;
    let mut bytes = 0;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        bytes = encode(table, &batches)?;
        fastest = fastest.min(started.elapsed());
    }
    let ms = fastest.as_secs_f64() * 1e3;
    let ns_per_row = fastest.as_nanos() as f64 / rows.max(1) as f64;
    println!(
        "{}: {rows} rows, {} columns encoded in {ms:.1} ms ({ns_per_row:.0} ns a row), {bytes} bytes",
        table.name(),
        table.schema().fields().len()
    );
    Ok(())
}

fn encode(table: TableId, batches: &[RecordBatch]) -> Result<usize, Failure> {
    let mut writer =
        ArrowWriter::try_new(Vec::new(), table.schema(), Some(parquet_properties(table)))?;
    for batch in batches {
        writer.write(batch)?;
    }
    Ok(writer.into_inner()?.len())
}
