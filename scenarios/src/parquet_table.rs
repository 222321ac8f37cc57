//! A small streaming Parquet writer for flat result tables.
//!
//! [`ParquetTable`] writes a table of named columns, each a string ([`ColumnKind::Utf8`],
//! required), an integer ([`ColumnKind::Int64`], required) or a float that may be null
//! ([`ColumnKind::Double`], optional), one row at a time. Rows are buffered and written as
//! a row group every [`ROW_GROUP_ROWS`] rows, so memory stays bounded however long the
//! table is. The file is written to `<path>.tmp` and renamed to `path` by
//! [`ParquetTable::finish`], so a reader never sees a half-written file.
//!
//! Column names are taken as they are, dots included (for example
//! `parameters.economy.fiscal.capacity_per_resident_developed` is one top-level column,
//! not a nested one).
//!
//! The output is deterministic: the same columns and rows give the same bytes. The
//! writer's properties are set explicitly (Parquet 1.0 data pages, Snappy compression,
//! dictionary encoding, page statistics, no bloom filters, no key-value metadata); the
//! footer's `created_by` is the constant `parquet-rs version <version of the parquet
//! crate>`, and nothing time-dependent is written.
//!
//! The schema is built with the low-level `parquet` API (no arrow), and pandas/pyarrow
//! read the files as they are.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError as LibError;
use parquet::file::properties::{
    DEFAULT_CREATED_BY, EnabledStatistics, WriterProperties, WriterVersion,
};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

/// Number of rows buffered before they are written out as one row group.
pub const ROW_GROUP_ROWS: usize = 4096;

/// The kind of values a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// UTF-8 strings (`BYTE_ARRAY` annotated `STRING`), required: every row has one.
    Utf8,
    /// 64-bit signed integers (`INT64`), required: every row has one.
    Int64,
    /// 64-bit floats (`DOUBLE`), optional: a row may hold null ([`Cell::Float`]`(None)`).
    Double,
}

impl ColumnKind {
    /// What a cell of this kind is, for error messages.
    fn expected(self) -> &'static str {
        match self {
            ColumnKind::Utf8 => "a string",
            ColumnKind::Int64 => "an integer",
            ColumnKind::Double => "a float or null",
        }
    }
}

/// One value of a row, in the column of the same position.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A string, for a [`ColumnKind::Utf8`] column.
    Str(String),
    /// An integer, for a [`ColumnKind::Int64`] column.
    Int(i64),
    /// A float or null (`None`), for a [`ColumnKind::Double`] column.
    Float(Option<f64>),
}

impl Cell {
    /// What this cell is, for error messages.
    fn found(&self) -> &'static str {
        match self {
            Cell::Str(_) => "a string",
            Cell::Int(_) => "an integer",
            Cell::Float(Some(_)) => "a float",
            Cell::Float(None) => "null",
        }
    }
}

/// Errors of writing a Parquet table. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParquetError {
    /// The columns given to [`ParquetTable::create`] cannot make a table.
    #[error("{}: {message}", path.display())]
    Schema {
        /// The table's file.
        path: PathBuf,
        /// What is wrong with the columns.
        message: String,
    },
    /// A row has more or fewer cells than the table has columns.
    #[error(
        "{}: expected {expected} cells (one per column), found {found} (row {row})",
        path.display()
    )]
    CellCount {
        /// The table's file.
        path: PathBuf,
        /// The row's number, counting from 1.
        row: u64,
        /// The number of columns.
        expected: usize,
        /// The number of cells in the row.
        found: usize,
    },
    /// A cell does not match the kind of its column.
    #[error(
        "{}: column `{column}`: expected {expected}, found {found} (row {row})",
        path.display()
    )]
    CellKind {
        /// The table's file.
        path: PathBuf,
        /// The row's number, counting from 1.
        row: u64,
        /// The column's name.
        column: String,
        /// What the column holds ("a string", "an integer", "a float or null").
        expected: &'static str,
        /// What the cell holds ("a string", "an integer", "a float", "null").
        found: &'static str,
    },
    /// Creating, writing or renaming the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned (the temporary `<path>.tmp` or the final path).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet encoder failed.
    #[error("{}: cannot write Parquet: {source}", path.display())]
    Parquet {
        /// The table's file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: LibError,
    },
}

/// The buffered values of one column, waiting for the next row group.
#[derive(Debug)]
enum ColumnBuffer {
    /// Values of a [`ColumnKind::Utf8`] column.
    Utf8(Vec<ByteArray>),
    /// Values of a [`ColumnKind::Int64`] column.
    Int64(Vec<i64>),
    /// Values of a [`ColumnKind::Double`] column: the non-null values, and one definition
    /// level per row (1 = a value, 0 = null).
    Double {
        /// The non-null values, in row order.
        values: Vec<f64>,
        /// One definition level per row.
        def_levels: Vec<i16>,
    },
}

impl ColumnBuffer {
    /// An empty buffer for a column of `kind`.
    fn new(kind: ColumnKind) -> ColumnBuffer {
        match kind {
            ColumnKind::Utf8 => ColumnBuffer::Utf8(Vec::with_capacity(ROW_GROUP_ROWS)),
            ColumnKind::Int64 => ColumnBuffer::Int64(Vec::with_capacity(ROW_GROUP_ROWS)),
            ColumnKind::Double => ColumnBuffer::Double {
                values: Vec::with_capacity(ROW_GROUP_ROWS),
                def_levels: Vec::with_capacity(ROW_GROUP_ROWS),
            },
        }
    }

    /// Whether `cell` fits this column.
    fn accepts(&self, cell: &Cell) -> bool {
        matches!(
            (self, cell),
            (ColumnBuffer::Utf8(_), Cell::Str(_))
                | (ColumnBuffer::Int64(_), Cell::Int(_))
                | (ColumnBuffer::Double { .. }, Cell::Float(_))
        )
    }

    /// Appends `cell`, which [`ColumnBuffer::accepts`] has checked.
    fn push(&mut self, cell: Cell) {
        match (self, cell) {
            (ColumnBuffer::Utf8(values), Cell::Str(s)) => {
                values.push(ByteArray::from(s.into_bytes()))
            }
            (ColumnBuffer::Int64(values), Cell::Int(v)) => values.push(v),
            (ColumnBuffer::Double { values, def_levels }, Cell::Float(v)) => match v {
                Some(v) => {
                    values.push(v);
                    def_levels.push(1);
                }
                None => def_levels.push(0),
            },
            // Checked by `accepts` before any cell of the row is pushed.
            _ => unreachable!("cell kind checked before push"),
        }
    }

    /// Empties the buffer, keeping its capacity.
    fn clear(&mut self) {
        match self {
            ColumnBuffer::Utf8(values) => values.clear(),
            ColumnBuffer::Int64(values) => values.clear(),
            ColumnBuffer::Double { values, def_levels } => {
                values.clear();
                def_levels.clear();
            }
        }
    }
}

/// A Parquet file being written row by row; see the [module documentation](self).
///
/// Dropping a table without calling [`ParquetTable::finish`] removes its temporary file
/// and leaves `path` untouched.
#[derive(Debug)]
pub struct ParquetTable {
    /// The final path.
    path: PathBuf,
    /// The temporary path written to (`<path>.tmp`).
    tmp: PathBuf,
    /// The column names, in order.
    names: Vec<String>,
    /// The buffered values of each column, in order.
    buffers: Vec<ColumnBuffer>,
    /// Rows in the buffers.
    buffered: usize,
    /// Rows pushed so far, for error messages.
    rows: u64,
    /// The file writer; `None` once finished.
    writer: Option<SerializedFileWriter<BufWriter<File>>>,
}

impl ParquetTable {
    /// Starts a table at `path` with `columns` (name and kind, in order): creates
    /// `<path>.tmp` and writes the file's header.
    ///
    /// Fails if there are no columns, if a name is empty or repeated, or if the temporary
    /// file cannot be created.
    pub fn create(
        path: &Path,
        columns: &[(String, ColumnKind)],
    ) -> Result<ParquetTable, ParquetError> {
        let schema_err = |message: String| ParquetError::Schema {
            path: path.to_path_buf(),
            message,
        };
        if columns.is_empty() {
            return Err(schema_err(
                "expected at least one column, found none".to_owned(),
            ));
        }
        let mut fields = Vec::with_capacity(columns.len());
        for (i, (name, kind)) in columns.iter().enumerate() {
            if name.is_empty() {
                return Err(schema_err(format!(
                    "column {}: expected a name, found an empty one",
                    i + 1
                )));
            }
            if columns[..i].iter().any(|(other, _)| other == name) {
                return Err(schema_err(format!(
                    "column `{name}`: expected unique column names, found it twice"
                )));
            }
            let builder = match kind {
                ColumnKind::Utf8 => Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                    .with_repetition(Repetition::REQUIRED)
                    .with_logical_type(Some(LogicalType::String)),
                ColumnKind::Int64 => Type::primitive_type_builder(name, PhysicalType::INT64)
                    .with_repetition(Repetition::REQUIRED),
                ColumnKind::Double => Type::primitive_type_builder(name, PhysicalType::DOUBLE)
                    .with_repetition(Repetition::OPTIONAL),
            };
            let field = builder.build().map_err(|source| ParquetError::Parquet {
                path: path.to_path_buf(),
                source,
            })?;
            fields.push(Arc::new(field));
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(|source| ParquetError::Parquet {
                path: path.to_path_buf(),
                source,
            })?;

        let tmp = tmp_path(path);
        let file = File::create(&tmp).map_err(|source| ParquetError::Io {
            path: tmp.clone(),
            source,
        })?;
        let writer = SerializedFileWriter::new(
            BufWriter::new(file),
            Arc::new(schema),
            Arc::new(properties()),
        );
        let writer = match writer {
            Ok(writer) => writer,
            Err(source) => {
                // Best effort: the error reported is the writer's.
                let _ = std::fs::remove_file(&tmp);
                return Err(ParquetError::Parquet {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        Ok(ParquetTable {
            path: path.to_path_buf(),
            tmp,
            names: columns.iter().map(|(name, _)| name.clone()).collect(),
            buffers: columns
                .iter()
                .map(|(_, kind)| ColumnBuffer::new(*kind))
                .collect(),
            buffered: 0,
            rows: 0,
            writer: Some(writer),
        })
    }

    /// Appends a row: one cell per column, in column order.
    ///
    /// The row is checked whole before anything is buffered, so a rejected row leaves the
    /// table as it was. Every [`ROW_GROUP_ROWS`] rows the buffered rows are written out as
    /// a row group.
    pub fn push_row(&mut self, row: Vec<Cell>) -> Result<(), ParquetError> {
        let number = self.rows + 1;
        if row.len() != self.buffers.len() {
            return Err(ParquetError::CellCount {
                path: self.path.clone(),
                row: number,
                expected: self.buffers.len(),
                found: row.len(),
            });
        }
        for ((buffer, cell), name) in self.buffers.iter().zip(&row).zip(&self.names) {
            if !buffer.accepts(cell) {
                let expected = match buffer {
                    ColumnBuffer::Utf8(_) => ColumnKind::Utf8,
                    ColumnBuffer::Int64(_) => ColumnKind::Int64,
                    ColumnBuffer::Double { .. } => ColumnKind::Double,
                }
                .expected();
                return Err(ParquetError::CellKind {
                    path: self.path.clone(),
                    row: number,
                    column: name.clone(),
                    expected,
                    found: cell.found(),
                });
            }
        }
        for (buffer, cell) in self.buffers.iter_mut().zip(row) {
            buffer.push(cell);
        }
        self.rows = number;
        self.buffered += 1;
        if self.buffered >= ROW_GROUP_ROWS {
            self.flush_row_group()?;
        }
        Ok(())
    }

    /// Writes the remaining rows, the file's footer, syncs the file to disk and renames
    /// `<path>.tmp` to `path`.
    ///
    /// On failure the temporary file is removed and `path` is left untouched.
    pub fn finish(mut self) -> Result<(), ParquetError> {
        self.flush_row_group()?;
        let Some(writer) = self.writer.take() else {
            // `writer` is only taken here, and `finish` consumes the table.
            return Ok(());
        };
        let buffered = writer
            .into_inner()
            .map_err(|source| ParquetError::Parquet {
                path: self.path.clone(),
                source,
            })?;
        let io_err = |source: std::io::Error| ParquetError::Io {
            path: self.tmp.clone(),
            source,
        };
        let file = buffered.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_all().map_err(io_err)?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|source| ParquetError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Writes the buffered rows, if any, as one row group.
    fn flush_row_group(&mut self) -> Result<(), ParquetError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let path = &self.path;
        let lib_err = |source: LibError| ParquetError::Parquet {
            path: path.clone(),
            source,
        };
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut row_group = writer.next_row_group().map_err(lib_err)?;
        let mut buffers = self.buffers.iter_mut();
        while let Some(mut column) = row_group.next_column().map_err(lib_err)? {
            let Some(buffer) = buffers.next() else {
                break;
            };
            // The typed writers match the schema built from the same kinds in `create`.
            let written = match buffer {
                ColumnBuffer::Utf8(values) => column
                    .typed::<ByteArrayType>()
                    .write_batch(values, None, None),
                ColumnBuffer::Int64(values) => {
                    column.typed::<Int64Type>().write_batch(values, None, None)
                }
                ColumnBuffer::Double { values, def_levels } => column
                    .typed::<DoubleType>()
                    .write_batch(values, Some(def_levels), None),
            };
            written.map_err(lib_err)?;
            column.close().map_err(lib_err)?;
            buffer.clear();
        }
        row_group.close().map_err(lib_err)?;
        self.buffered = 0;
        Ok(())
    }
}

impl Drop for ParquetTable {
    /// Removes the temporary file of a table dropped before [`ParquetTable::finish`]
    /// completed.
    fn drop(&mut self) {
        if self.tmp.exists() {
            // Close the file before removing it; errors are of no use any more.
            drop(self.writer.take());
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// `<path>.tmp`: the whole file name with `.tmp` appended.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// The writer's properties, all set explicitly so that the output does not depend on the
/// crate's defaults changing, and is the same bytes for the same rows.
fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        // Constant for a given build of the parquet crate; no timestamp is written.
        .set_created_by(DEFAULT_CREATED_BY.to_owned())
        .set_key_value_metadata(None)
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_bloom_filter_enabled(false)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    /// The columns of the test table: dotted names, the three kinds.
    fn columns() -> Vec<(String, ColumnKind)> {
        vec![
            ("run_id".to_owned(), ColumnKind::Utf8),
            ("seed".to_owned(), ColumnKind::Int64),
            (
                "parameters.economy.fiscal.capacity_per_resident_developed".to_owned(),
                ColumnKind::Double,
            ),
            ("kpi.mean_response_time_s".to_owned(), ColumnKind::Double),
        ]
    }

    /// Row `i` of the test table: every seventh value of the third column and every
    /// eleventh of the fourth are null.
    fn row(i: i64) -> Vec<Cell> {
        vec![
            Cell::Str(format!("run-{i:05}")),
            Cell::Int(i * 1_000_003 - 7),
            Cell::Float((i % 7 != 0).then_some(i as f64 * 0.25)),
            Cell::Float((i % 11 != 0).then(|| (i as f64).sqrt())),
        ]
    }

    /// Rows in the test table: more than two row groups, the last one partial.
    const ROWS: i64 = 2 * ROW_GROUP_ROWS as i64 + 123;

    /// Writes the test table to `path`.
    fn write_table(path: &Path) {
        let mut table = ParquetTable::create(path, &columns()).unwrap();
        for i in 0..ROWS {
            table.push_row(row(i)).unwrap();
        }
        table.finish().unwrap();
    }

    #[test]
    fn a_table_of_the_three_kinds_with_nulls_reads_back_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        write_table(&path);
        assert!(
            !tmp_path(&path).exists(),
            "the temporary file is renamed away"
        );

        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let metadata = reader.metadata();
        assert_eq!(metadata.file_metadata().num_rows(), ROWS);
        assert_eq!(metadata.num_row_groups(), 3);
        assert_eq!(metadata.row_group(0).num_rows(), ROW_GROUP_ROWS as i64);
        assert_eq!(metadata.row_group(2).num_rows(), 123);
        let schema = metadata.file_metadata().schema_descr();
        let names: Vec<&str> = schema
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| f.name())
            .collect();
        let expected: Vec<String> = columns().into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            names, expected,
            "dotted names stay single top-level columns"
        );
        assert_eq!(schema.num_columns(), 4);

        let mut count = 0;
        let mut nulls = 0;
        for (i, read) in reader.get_row_iter(None).unwrap().enumerate() {
            let read = read.unwrap();
            let fields: Vec<(&String, &Field)> = read.get_column_iter().collect();
            assert_eq!(fields.len(), 4);
            for ((name, field), ((expected_name, _), cell)) in
                fields.into_iter().zip(columns().iter().zip(row(i as i64)))
            {
                assert_eq!(name, expected_name);
                match (field, cell) {
                    (Field::Str(got), Cell::Str(want)) => assert_eq!(*got, want),
                    (Field::Long(got), Cell::Int(want)) => assert_eq!(*got, want),
                    (Field::Double(got), Cell::Float(Some(want))) => {
                        assert_eq!(got.to_bits(), want.to_bits())
                    }
                    (Field::Null, Cell::Float(None)) => nulls += 1,
                    (got, want) => panic!("row {i}, column `{name}`: read {got:?}, wrote {want:?}"),
                }
            }
            count += 1;
        }
        assert_eq!(count, ROWS);
        let expected_nulls =
            (0..ROWS).filter(|i| i % 7 == 0).count() + (0..ROWS).filter(|i| i % 11 == 0).count();
        assert_eq!(nulls, expected_nulls);
    }

    #[test]
    fn writing_the_same_rows_twice_gives_identical_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.parquet");
        let second = dir.path().join("second.parquet");
        write_table(&first);
        write_table(&second);
        let first = std::fs::read(first).unwrap();
        let second = std::fs::read(second).unwrap();
        assert!(first.starts_with(b"PAR1") && first.ends_with(b"PAR1"));
        assert!(first == second, "the two files differ");
    }

    #[test]
    fn a_cell_of_the_wrong_kind_is_rejected_with_the_file_column_and_expectation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        let mut table = ParquetTable::create(&path, &columns()).unwrap();
        table.push_row(row(0)).unwrap();
        let mut bad = row(1);
        bad[1] = Cell::Str("42".to_owned());
        let err = table.push_row(bad).unwrap_err();
        assert!(
            matches!(err, ParquetError::CellKind { row: 2, .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.ends_with(
                "runs.parquet: column `seed`: expected an integer, found a string (row 2)"
            ),
            "{message}"
        );

        let mut bad = row(1);
        bad[3] = Cell::Int(3);
        let message = table.push_row(bad).unwrap_err().to_string();
        assert!(
            message.ends_with("column `kpi.mean_response_time_s`: expected a float or null, found an integer (row 2)"),
            "{message}"
        );

        // The rejected rows left nothing behind: the table still takes good rows.
        table.push_row(row(1)).unwrap();
        table.finish().unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
    }

    #[test]
    fn a_row_with_the_wrong_number_of_cells_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        let mut table = ParquetTable::create(&path, &columns()).unwrap();
        let mut short = row(0);
        short.pop();
        let message = table.push_row(short).unwrap_err().to_string();
        assert!(
            message.ends_with("runs.parquet: expected 4 cells (one per column), found 3 (row 1)"),
            "{message}"
        );
    }

    #[test]
    fn a_table_dropped_before_finish_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        let mut table = ParquetTable::create(&path, &columns()).unwrap();
        assert!(tmp_path(&path).exists());
        table.push_row(row(0)).unwrap();
        drop(table);
        assert!(!tmp_path(&path).exists());
        assert!(!path.exists());
    }

    #[test]
    fn repeated_or_missing_column_names_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        let twice = vec![
            ("a.b".to_owned(), ColumnKind::Int64),
            ("a.b".to_owned(), ColumnKind::Double),
        ];
        let message = ParquetTable::create(&path, &twice).unwrap_err().to_string();
        assert!(
            message.ends_with("column `a.b`: expected unique column names, found it twice"),
            "{message}"
        );
        let message = ParquetTable::create(&path, &[]).unwrap_err().to_string();
        assert!(
            message.ends_with("runs.parquet: expected at least one column, found none"),
            "{message}"
        );
        assert!(!tmp_path(&path).exists());
    }
}
