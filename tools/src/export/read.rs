//! Reading an export directory back (`compare` takes one as either side): each table's
//! record batches, checked against the schema in [`super::table`].

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use clap::ValueEnum;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::table::TableId;
use super::write::table_path;
use super::{ExportError, Format};

/// Rows per batch read.
const READ_BATCH_ROWS: usize = 16 * 1024;

/// An export directory holding tables in both formats (a set left by an older wsktrace
/// beside a newer one, or copied in): which set is current cannot be told, so neither is
/// read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}: an export directory with tables in both formats (Parquet: {}; CSV: {}); which set is current cannot be told: remove one set or export again",
    dir.display(),
    names(parquet),
    names(csv)
)]
pub struct MixedFormats {
    /// The directory.
    pub dir: PathBuf,
    /// Its Parquet tables.
    pub parquet: Vec<TableId>,
    /// Its CSV tables.
    pub csv: Vec<TableId>,
}

fn names(tables: &[TableId]) -> String {
    let names: Vec<&str> = tables.iter().map(|t| t.name()).collect();
    names.join(", ")
}

/// The tables of `dir` in `format`.
fn present(dir: &Path, format: Format) -> Vec<TableId> {
    TableId::ALL
        .into_iter()
        .filter(|t| table_path(dir, *t, format).is_file())
        .collect()
}

/// The format of the export in `dir`, if it is one (it holds `files.parquet` or
/// `files.csv`); an error if it holds tables of both formats.
pub fn detect(dir: &Path) -> Result<Option<Format>, MixedFormats> {
    let found = |format| table_path(dir, TableId::Files, format).is_file();
    let Some(format) = Format::value_variants().iter().copied().find(|f| found(*f)) else {
        return Ok(None);
    };
    let (parquet, csv) = (present(dir, Format::Parquet), present(dir, Format::Csv));
    if !parquet.is_empty() && !csv.is_empty() {
        return Err(MixedFormats {
            dir: dir.to_path_buf(),
            parquet,
            csv,
        });
    }
    Ok(Some(format))
}

/// The columns of `table` that `found` lacks or types otherwise (nullability aside).
fn check_schema(path: &Path, table: TableId, found: &Schema) -> Result<(), ExportError> {
    for want in table.schema().fields() {
        match found.field_with_name(want.name()) {
            Ok(f) if same_type(f.data_type(), want.data_type()) => {}
            Ok(f) => {
                return Err(ExportError::Schema {
                    path: path.to_path_buf(),
                    table: table.name(),
                    what: format!(
                        "column {} is {}, not {}",
                        want.name(),
                        f.data_type(),
                        want.data_type()
                    ),
                })
            }
            Err(_) => {
                return Err(ExportError::Schema {
                    path: path.to_path_buf(),
                    table: table.name(),
                    what: format!("no column {}", want.name()),
                })
            }
        }
    }
    Ok(())
}

/// Equal types; timestamps of any UTC spelling (`UTC`, `+00:00`) alike.
fn same_type(a: &DataType, b: &DataType) -> bool {
    match (a, b) {
        (DataType::Timestamp(ua, Some(_)), DataType::Timestamp(ub, Some(_))) => ua == ub,
        _ => a == b,
    }
}

/// `table`'s schema with every column nullable (CSV reads an empty field as null).
fn nullable(table: TableId) -> SchemaRef {
    let fields: Vec<Field> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    Arc::new(Schema::new(fields))
}

/// Hands every batch of `table` in the export `dir` to `each`.
pub fn read_table(
    dir: &Path,
    format: Format,
    table: TableId,
    each: &mut dyn FnMut(RecordBatch),
) -> Result<(), ExportError> {
    let path = table_path(dir, table, format);
    let io = |source| ExportError::Io {
        path: path.clone(),
        source,
    };
    let file = File::open(&path).map_err(io)?;
    match format {
        Format::Parquet => {
            let pq = |source| ExportError::Parquet {
                path: path.clone(),
                source,
            };
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
            check_schema(&path, table, builder.schema())?;
            let reader = builder
                .with_batch_size(READ_BATCH_ROWS)
                .build()
                .map_err(pq)?;
            for batch in reader {
                each(batch.map_err(|source| arrow_error(&path, source))?);
            }
        }
        Format::Csv => {
            let reader = arrow_csv::ReaderBuilder::new(nullable(table))
                .with_header(true)
                .with_header_validation(true)
                .with_batch_size(READ_BATCH_ROWS)
                .build(std::io::BufReader::new(file))
                .map_err(|source| arrow_error(&path, source))?;
            for batch in reader {
                each(batch.map_err(|source| arrow_error(&path, source))?);
            }
        }
    }
    Ok(())
}

fn arrow_error(path: &Path, source: arrow_schema::ArrowError) -> ExportError {
    ExportError::Arrow {
        path: PathBuf::from(path),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_of_both_formats_are_refused() {
        let dir = std::env::temp_dir().join(format!("wsktrace-detect-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let touch = |name: &str| std::fs::write(dir.join(name), b"").unwrap();
        assert_eq!(detect(&dir), Ok(None));
        touch("files.csv");
        touch("notes.parquet");
        assert_eq!(detect(&dir), Ok(Some(Format::Csv)));
        touch("events.parquet");
        let e = detect(&dir).unwrap_err();
        assert_eq!(
            (e.parquet.as_slice(), e.csv.as_slice()),
            (&[TableId::Events][..], &[TableId::Files][..])
        );
        let message = e.to_string();
        assert!(
            message.starts_with(&format!("{}: ", dir.display())),
            "{message}"
        );
        assert!(message.contains("Parquet: events; CSV: files"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
