//! Assembling a batch's outputs from its run files in run order (`runs.*`, `series.*`,
//! `batch.json`), and merging shards into the same bytes as an unsharded batch.

use super::run::{RunFile, Shard, run_file_paths, write_atomic};
use super::{BATCH_SCHEMA_VERSION, Batch, BatchError, DesignKind, RunSpec, io_err};
use crate::metrics::KPIS;
use crate::parquet_table::{Cell, ColumnKind, ParquetTable};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub(super) fn cell(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

#[derive(Serialize)]
struct Manifest<'a> {
    schema_version: u32,
    name: &'a str,
    batch_hash: &'a str,
    civitas_version: &'static str,
    model: &'static str,
    years: u32,
    master_seed: u64,
    seed_rule: &'static str,
    replications: u32,
    design: DesignKind,
    base_points: u32,
    points: usize,
    runs: usize,
    shard: Option<String>,
    parameters: &'a [String],
    kpis: Vec<&'static str>,
}

/// Assembles `runs.csv`, `series.csv` and `batch.json` from the run files of `runs`
/// once all of them exist; otherwise leaves the outputs alone.
pub(super) fn assemble(
    b: &Batch,
    out: &Path,
    runs: &[RunSpec],
    shard: Option<Shard>,
) -> Result<(), BatchError> {
    let runs_dir = out.join("runs");
    if runs
        .iter()
        .any(|r| !runs_dir.join(format!("{}.json", r.id)).is_file())
    {
        return Ok(());
    }
    let kpi_names: Vec<&'static str> = b.kpis.iter().map(|&i| KPIS[i].name).collect();
    let mut runs_csv = String::from("run,point,replication,seed");
    for p in &b.paths {
        let _ = write!(runs_csv, ",{p}");
    }
    for k in &kpi_names {
        let _ = write!(runs_csv, ",{k}");
    }
    runs_csv.push('\n');
    let mut series_csv = String::from("run,year");
    for k in &kpi_names {
        let _ = write!(series_csv, ",{k}");
    }
    series_csv.push('\n');
    let runs_path = out.join("runs.csv");
    let series_path = out.join("series.csv");
    let mut rw = std::io::BufWriter::new(
        std::fs::File::create(runs_path.with_extension("tmp"))
            .map_err(|e| io_err(&runs_path, e))?,
    );
    let mut sw = std::io::BufWriter::new(
        std::fs::File::create(series_path.with_extension("tmp"))
            .map_err(|e| io_err(&series_path, e))?,
    );
    use std::io::Write as _;
    rw.write_all(runs_csv.as_bytes())
        .map_err(|e| io_err(&runs_path, e))?;
    sw.write_all(series_csv.as_bytes())
        .map_err(|e| io_err(&series_path, e))?;
    let pq_err = |e: crate::parquet_table::ParquetError| BatchError::Io {
        path: out.display().to_string(),
        message: e.to_string(),
    };
    let mut cols: Vec<(String, ColumnKind)> = vec![
        ("run".into(), ColumnKind::Utf8),
        ("point".into(), ColumnKind::Int64),
        ("replication".into(), ColumnKind::Int64),
        ("seed".into(), ColumnKind::Int64),
    ];
    cols.extend(b.paths.iter().map(|p| (p.clone(), ColumnKind::Double)));
    cols.extend(
        kpi_names
            .iter()
            .map(|k| (k.to_string(), ColumnKind::Double)),
    );
    let mut runs_pq = ParquetTable::create(&out.join("runs.parquet"), &cols).map_err(pq_err)?;
    let mut scols: Vec<(String, ColumnKind)> = vec![
        ("run".into(), ColumnKind::Utf8),
        ("year".into(), ColumnKind::Int64),
    ];
    scols.extend(
        kpi_names
            .iter()
            .map(|k| (k.to_string(), ColumnKind::Double)),
    );
    let mut series_pq =
        ParquetTable::create(&out.join("series.parquet"), &scols).map_err(pq_err)?;
    for spec in runs {
        let path = runs_dir.join(format!("{}.json", spec.id));
        let f = RunFile::read(&path)?;
        if let Some(why) = f.mismatch(b, spec)? {
            return Err(io_err(
                &path,
                format!(
                    "made from other inputs ({why}); run the batch again with --force to redo it"
                ),
            ));
        }
        let mut line = format!("{},{},{},{}", f.run, f.point, f.replication, f.seed);
        for v in &f.params {
            let _ = write!(line, ",{v}");
        }
        for v in &f.finals {
            let _ = write!(line, ",{}", cell(*v));
        }
        line.push('\n');
        rw.write_all(line.as_bytes())
            .map_err(|e| io_err(&runs_path, e))?;
        let mut row = vec![
            Cell::Str(f.run.clone()),
            Cell::Int(f.point as i64),
            Cell::Int(f.replication as i64),
            Cell::Int(f.seed as i64),
        ];
        row.extend(f.params.iter().map(|v| Cell::Float(Some(*v))));
        row.extend(f.finals.iter().map(|v| Cell::Float(*v)));
        runs_pq.push_row(row).map_err(pq_err)?;
        for (y, values) in f.series.iter().enumerate() {
            let mut line = format!("{},{}", f.run, y + 1);
            for v in values {
                let _ = write!(line, ",{}", cell(*v));
            }
            line.push('\n');
            sw.write_all(line.as_bytes())
                .map_err(|e| io_err(&series_path, e))?;
            let mut srow = vec![Cell::Str(f.run.clone()), Cell::Int(y as i64 + 1)];
            srow.extend(values.iter().map(|v| Cell::Float(*v)));
            series_pq.push_row(srow).map_err(pq_err)?;
        }
    }
    rw.flush().map_err(|e| io_err(&runs_path, e))?;
    sw.flush().map_err(|e| io_err(&series_path, e))?;
    drop((rw, sw));
    runs_pq.finish().map_err(pq_err)?;
    series_pq.finish().map_err(pq_err)?;
    std::fs::rename(runs_path.with_extension("tmp"), &runs_path)
        .map_err(|e| io_err(&runs_path, e))?;
    std::fs::rename(series_path.with_extension("tmp"), &series_path)
        .map_err(|e| io_err(&series_path, e))?;
    let m = Manifest {
        schema_version: BATCH_SCHEMA_VERSION,
        name: &b.name,
        batch_hash: &b.hash,
        civitas_version: env!("CARGO_PKG_VERSION"),
        model: b.model.as_str(),
        years: b.years,
        master_seed: b.master_seed,
        seed_rule: "seed = mix64(master_seed ^ mix64(point << 24 | replication)) & (2^63 - 1), SplitMix64 finalizer",
        replications: b.replications,
        design: b.design,
        base_points: b.base_points,
        points: b.points.len(),
        runs: runs.len(),
        shard: shard.map(|s| format!("{}/{}", s.i, s.n)),
        parameters: &b.paths,
        kpis: kpi_names,
    };
    let mut text = serde_json::to_string_pretty(&m).expect("manifest serializes");
    text.push('\n');
    write_atomic(&out.join("batch.json"), &text)
}

/// Joins shard directories of the same batch into `out`: copies their run files and
/// assembles the outputs, which equal the unsharded batch's byte for byte.
pub fn merge(b: &Batch, dirs: &[PathBuf], out: &Path) -> Result<usize, BatchError> {
    // Everything is checked before anything is written: each directory is a shard of
    // this batch, and together they hold every run. A refused merge leaves `out` as it
    // was.
    let refuse = |path: &Path, message: String| BatchError::Merge {
        path: path.display().to_string(),
        message,
    };
    let runs_dir = out.join("runs");
    let mut sources: std::collections::BTreeMap<std::ffi::OsString, PathBuf> =
        run_file_paths(&runs_dir)?
            .into_iter()
            .filter_map(|p| Some((p.file_name()?.to_os_string(), p)))
            .collect();
    let already = sources.len();
    for d in dirs {
        if !d.is_dir() {
            return Err(refuse(
                d,
                "not a batch directory: no such directory".to_string(),
            ));
        }
        let manifest = d.join("batch.json");
        let text = std::fs::read_to_string(&manifest).map_err(|e| {
            refuse(
                d,
                format!("not a batch directory: cannot read its batch.json ({e})"),
            )
        })?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| refuse(&manifest, format!("not a batch manifest: {e}")))?;
        if v["batch_hash"].as_str() != Some(b.hash.as_str()) {
            return Err(refuse(
                d,
                format!(
                    "a shard of another batch (batch_hash {}, this batch file's is \"{}\")",
                    v["batch_hash"], b.hash
                ),
            ));
        }
        for p in run_file_paths(&d.join("runs"))? {
            if let Some(name) = p.file_name() {
                sources.entry(name.to_os_string()).or_insert(p);
            }
        }
    }
    let all = b.runs();
    let missing: Vec<&str> = all
        .iter()
        .filter(|r| !sources.contains_key(std::ffi::OsStr::new(&format!("{}.json", r.id))))
        .map(|r| r.id.as_str())
        .collect();
    if let Some(first) = missing.first() {
        return Err(refuse(
            out,
            format!(
                "{} of {} runs are missing from the directories given (the first is {first}); merge every shard",
                missing.len(),
                all.len()
            ),
        ));
    }
    std::fs::create_dir_all(&runs_dir).map_err(|e| io_err(&runs_dir, e))?;
    let mut copied = 0;
    for (name, p) in &sources {
        let target = runs_dir.join(name);
        if !target.exists() {
            std::fs::copy(p, &target).map_err(|e| io_err(p, e))?;
            copied += 1;
        }
    }
    debug_assert_eq!(copied + already, sources.len());
    assemble(b, out, &all, None)?;
    Ok(copied)
}
