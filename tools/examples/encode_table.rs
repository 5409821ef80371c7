//! What the `parquet` crate alone costs `wsktrace export`: reads a table of a Parquet export
//! back and encodes its batches again, as the export does (`parquet_properties`), into
//! memory, on one thread. Prints the fastest of the rounds (docs/benchmarks.md, "`export` and
//! `compare` on fleets").
//!
//! usage: encode_table EXPORT_DIR TABLE [ROUNDS]

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use wsktrace_tools::export::read::read_table;
use wsktrace_tools::export::table::TableId;
use wsktrace_tools::export::write::parquet_properties;
use wsktrace_tools::export::Format;

type Failure = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(name)) = (args.first(), args.get(1)) else {
        eprintln!("usage: encode_table EXPORT_DIR TABLE [ROUNDS]");
        return ExitCode::from(2);
    };
    let rounds = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(9);
    match run(Path::new(dir), name, rounds) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("encode_table: {dir}: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(dir: &Path, name: &str, rounds: usize) -> Result<(), Failure> {
    let table = TableId::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| format!("{name}: not a table (events, captures, registrations, …)"))?;
    let mut batches = Vec::new();
    read_table(dir, Format::Parquet, table, &mut |batch| {
        batches.push(batch)
    })?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut fastest = Duration::MAX;
    let mut bytes = 0;
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        bytes = encode(table, &batches)?;
        fastest = fastest.min(started.elapsed());
    }
    let ms = fastest.as_secs_f64() * 1e3;
    let columns = table.schema().fields().len();
    print!("{name}: {rows} rows, {columns} columns encoded in {ms:.1} ms");
    if rows > 0 {
        print!(" ({:.0} ns a row)", fastest.as_nanos() as f64 / rows as f64);
    }
    println!(", {bytes} bytes");
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
