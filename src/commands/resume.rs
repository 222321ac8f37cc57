//! `civitas resume CHECKPOINT` (alias `fork`): carries a checkpointed run on to its
//! horizon or a new one, byte-identically to the run that wrote it; with `--set` or
//! `--inject` it is a fork — a what-if from the checkpoint's moment on.

use super::run::{InjectFile, execute, read_injects};
use super::{Input, RunFiles, bad_input, create_dir, open_events};
use crate::cli::ResumeArgs;
use crate::plan::safe_file_name;
use anyhow::{Result, anyhow};
use civitas_actors::EngineError;
use civitas_scenarios::checkpoint::Checkpoint;
use civitas_scenarios::runner::{RunError, Session};
use civitas_twin::time::DAY;
use std::path::PathBuf;

/// Resumes (or forks) the checkpoint.
pub(super) fn resume(a: ResumeArgs) -> Result<()> {
    let ck = Checkpoint::read(&a.checkpoint).input()?;
    let now = ck.engine.now;
    let scenario = if a.sets.is_empty() {
        ck.scenario.clone()
    } else {
        ck.forked(&a.sets).input()?
    };
    let mut options = ck.options;
    options.workers = a.workers;
    if let Some(d) = a.days {
        options.horizon = d as u64 * DAY;
    } else if let Some(y) = a.years {
        options.horizon = crate::plan::years_to_days(y) * DAY;
    }
    if options.horizon <= now {
        return Err(bad_input(anyhow!(
            "the checkpoint is at simulated day {:.2}; resume to a later day than that (found {:.2})",
            now as f64 / DAY as f64,
            options.horizon as f64 / DAY as f64
        )));
    }
    crate::plan::check_memory(&scenario, options.horizon.div_ceil(DAY), 1, false)?;
    let mut fork_injects = a.inject.as_deref().map(read_injects).transpose()?;
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from("out").join(format!(
            "{}-from-day-{}",
            safe_file_name(&scenario.name),
            now / DAY
        ))
    });
    let checkpoints = a.checkpoint_every.map(|every| {
        (
            every,
            crate::plan::checkpoint_dir(&out, a.checkpoint_dir.clone()),
        )
    });
    let files = RunFiles {
        out: &out,
        scenario: None,
        injects: a.inject.as_deref(),
        checkpoint: Some(&a.checkpoint),
        checkpoint_dir: checkpoints.as_ref().map(|(_, d)| d.as_path()),
    };
    let events = open_events(a.events.as_deref(), &files)?;
    create_dir(&out)?;
    if let Some((_, dir)) = &checkpoints {
        create_dir(dir)?;
    }
    if let Some(f) = &fork_injects {
        f.warn_after(options.horizon, a.quiet);
    }
    let session = Session {
        resume: Some(ck.engine),
        checkpoints,
        fork_injects: fork_injects
            .as_mut()
            .map(InjectFile::take_records)
            .unwrap_or_default(),
        events,
        ..Session::default()
    };
    let days = options.horizon.div_ceil(DAY);
    execute(&scenario, options, session, days, &out, a.quiet)
        .map(|_| ())
        .map_err(|e| {
            // A checkpoint that reads but does not restore is damaged input: name the file.
            let restore = matches!(
                e.downcast_ref::<RunError>(),
                Some(RunError::Engine(EngineError::Checkpoint(_)))
            );
            if restore {
                bad_input(e.context(format!(
                    "{}: the checkpoint does not restore",
                    a.checkpoint.display()
                )))
            } else {
                match &fork_injects {
                    Some(f) => f.name_record(e, true),
                    None => e,
                }
            }
        })
}
