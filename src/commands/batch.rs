//! `civitas batch`: run a batch file's design × replications (resumable, shardable),
//! merge shard directories, and summarize a batch per point.

use super::{Input, Progress, create_dir, refuse_file_as_dir, write_file};
use crate::cli::{BatchArgs, BatchCommand};
use crate::plan::BatchPlan;
use anyhow::Result;
use civitas_scenarios::batch::{
    Batch, BatchRuns, merge, point_summary, run_batch, sensitivity_summary, write_plots,
};

/// `batch FILE`, `batch merge` or `batch summarize`.
pub(super) fn batch(a: BatchArgs) -> Result<()> {
    match a.command {
        Some(BatchCommand::Merge { batch, dirs, out }) => {
            let b = Batch::from_path(&batch).input()?;
            // The merge checks every shard before it creates anything in `out`.
            refuse_file_as_dir(&out)?;
            let copied = merge(&b, &dirs, &out)?;
            println!(
                "merged {} shard directories ({copied} run files copied) into {}",
                dirs.len(),
                out.display()
            );
            Ok(())
        }
        Some(BatchCommand::Summarize { batch, dir }) => {
            let b = Batch::from_path(&batch).input()?;
            let runs = BatchRuns::read(&b, &dir).input()?;
            for w in &runs.warnings {
                eprintln!("warning: {w}");
            }
            let text = point_summary(&b, &runs);
            let p = dir.join("points.csv");
            write_file(&p, &text)?;
            println!(
                "wrote {} ({} of {} runs)",
                p.display(),
                runs.present,
                runs.total
            );
            if let Some((name, text)) = sensitivity_summary(&b, &runs) {
                let p = dir.join(name);
                write_file(&p, &text)?;
                println!("wrote {}", p.display());
            }
            let plots = write_plots(&b, &runs, &dir)?;
            println!(
                "wrote {} charts (PNG and SVG) in {}",
                plots.len() / 2,
                dir.join("plots").display()
            );
            Ok(())
        }
        None => run(BatchPlan::resolve(a)?),
    }
}

/// Runs this shard's runs that are not done yet.
fn run(plan: BatchPlan) -> Result<()> {
    create_dir(&plan.out)?;
    let progress = Progress::runs(plan.runs() as u64, plan.quiet);
    let BatchPlan {
        batch: b,
        jobs,
        shard,
        out,
        force,
        quiet,
    } = plan;
    let p = run_batch(&b, &out, shard, jobs, force, |done, _| {
        progress.set(done as u64)
    })?;
    progress.finish();
    if !quiet {
        println!(
            "{}: {} runs in this shard, {} already done, {} run now; outputs in {}",
            b.name,
            p.total,
            p.skipped,
            p.ran,
            out.display()
        );
    }
    Ok(())
}
