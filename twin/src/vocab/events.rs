//! The observe stream's vocabulary: every [`Event`] a run records, grouped into one
//! [`Window`] per processed window with the engine's [`Counters`]. The engine
//! (`civitas-actors`) produces them; the summary, the KPIs, the `--events` file, the
//! live twin, the console and the viewer read them — none of those needs the engine to
//! read an event.

use crate::kinds::{
    CommandAction, CommandOutcome, Department, DetectedBy, DeviceKind, Handler, IncidentKind,
    InvestmentModel, Level,
};
use crate::time::SimTime;
use crate::vocab::action::Refusal;
use crate::vocab::incident::{EscalationReason, IncidentRecord};
use crate::vocab::ledger::{Transfer, YearReport};
use serde::{Deserialize, Serialize};

/// A stage in an incident's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// It happened (not yet known to anyone).
    Created,
    /// The platform learned of it.
    Detected {
        /// How.
        by: DetectedBy,
    },
    /// The platform assigned it to a first handler (or a micro-loop organisation handed
    /// it to the other).
    Dispatched {
        /// Who handles its kind first.
        to: Handler,
        /// When the case reaches it.
        arrives: SimTime,
    },
    /// Someone started handling it.
    Acknowledged {
        /// The loop handling it.
        level: Level,
    },
    /// The micro-loop sent it up to the street office.
    Escalated {
        /// Why.
        reason: EscalationReason,
        /// The street office that holds it now.
        street: u32,
        /// When the case reaches it.
        arrives: SimTime,
    },
    /// The street office whistled a district department.
    Whistled {
        /// The department.
        department: Department,
        /// Why.
        reason: EscalationReason,
        /// When the case reaches it.
        arrives: SimTime,
    },
    /// The department reported (took the case).
    DepartmentReported {
        /// Within its deadline.
        on_time: bool,
    },
    /// It closed; the full record.
    Closed {
        /// Everything that happened to it.
        record: Box<IncidentRecord>,
    },
}

/// A device's state as the twin sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Working.
    Working,
    /// Broken (still sending heartbeats, or not yet noticed).
    Failed,
    /// Missed its heartbeat.
    Offline,
    /// Raising an alarm.
    Alarm,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// An incident moved on.
    Incident {
        /// When.
        at: SimTime,
        /// The incident.
        id: u64,
        /// Its kind.
        kind: IncidentKind,
        /// Community.
        community: u32,
        /// Building (for site incidents, the building hosting the site point).
        building: u32,
        /// What happened.
        stage: Stage,
    },
    /// A device changed state.
    Device {
        /// When.
        at: SimTime,
        /// Community.
        community: u32,
        /// Building hosting it.
        building: u32,
        /// Device id within the community.
        device: u32,
        /// Its kind.
        kind: DeviceKind,
        /// Its new state.
        state: DeviceState,
    },
    /// The platform sent a device a command.
    Command {
        /// When.
        at: SimTime,
        /// Its correlation id (unique in the run).
        id: u64,
        /// Community.
        community: u32,
        /// Building hosting the device.
        building: u32,
        /// Device id within the community.
        device: u32,
        /// What it is to do.
        action: CommandAction,
        /// The incident that called for it.
        incident: u64,
    },
    /// How a device command ended.
    CommandEnded {
        /// When.
        at: SimTime,
        /// Its correlation id.
        id: u64,
        /// Community.
        community: u32,
        /// Building hosting the device.
        building: u32,
        /// Device id within the community.
        device: u32,
        /// What it was to do.
        action: CommandAction,
        /// How it ended.
        outcome: CommandOutcome,
    },
    /// A payment.
    Payment(Transfer),
    /// A yearly report.
    Report {
        /// When it was written.
        at: SimTime,
        /// The report.
        report: YearReport,
    },
    /// An action or message was refused and changed nothing: an operator's action that
    /// did not fit the case as it was when it arrived, or a message its receiver has no
    /// use for. Counted in [`Counters::refused`].
    Refused {
        /// When.
        at: SimTime,
        /// The incident it was about, if any.
        incident: Option<u64>,
        /// Why.
        reason: Refusal,
    },
    /// A component of the twin failed and was isolated (wall clock only; in a
    /// simulation a failing behaviour stops the run).
    ComponentFailed {
        /// Start of the window it failed in.
        at: SimTime,
        /// The actor's name.
        actor: String,
        /// What went wrong.
        message: String,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> SimTime {
        match self {
            Event::Incident { at, .. }
            | Event::Device { at, .. }
            | Event::Report { at, .. }
            | Event::Refused { at, .. }
            | Event::Command { at, .. }
            | Event::CommandEnded { at, .. }
            | Event::ComponentFailed { at, .. } => *at,
            Event::Payment(t) => t.at,
        }
    }
}

/// Device commands of one action: how many were sent and how each ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CommandTally {
    /// Sent.
    pub sent: u64,
    /// The device confirmed it.
    pub succeeded: u64,
    /// The device answered that it could not.
    pub failed: u64,
    /// No answer within the timeout.
    pub timed_out: u64,
    /// Never delivered before its expiry (the live twin's queue).
    #[serde(default)]
    pub expired: u64,
}

impl CommandTally {
    /// Counts one outcome.
    pub fn ended(&mut self, outcome: CommandOutcome) {
        match outcome {
            CommandOutcome::Succeeded => self.succeeded += 1,
            CommandOutcome::Failed => self.failed += 1,
            CommandOutcome::TimedOut => self.timed_out += 1,
            CommandOutcome::Expired => self.expired += 1,
        }
    }
}

/// The engine's own counters for one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Windows processed so far, this one included (empty windows are skipped).
    pub window: u64,
    /// Actors activated in this window.
    pub activations: u64,
    /// Timers fired plus messages read in this window.
    pub events: u64,
    /// Messages delivered in this window.
    pub messages: u64,
    /// Outside injects delivered in this window.
    pub injects: u64,
    /// Actions and messages refused in this window ([`Event::Refused`]).
    #[serde(default)]
    pub refused: u64,
    /// How far behind the wall clock the window started (0 on the simulated clock), ms.
    pub lag_ms: u64,
}

/// Everything that happened in one window `[start, end)`, sorted by (time, actor,
/// order of recording).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// Start.
    pub start: SimTime,
    /// End (exclusive).
    pub end: SimTime,
    /// What happened.
    pub events: Vec<Event>,
    /// The engine's counters.
    pub counters: Counters,
}

/// Version of the observe stream's format (the `--events` file, and any stream of
/// [`Window`]s): bump it when an event, a stage or the counters change shape.
/// Version 2: the street office an escalation goes to, when a handed-over case arrives,
/// device commands and their outcomes, refusals ([`Event::Refused`],
/// [`Counters::refused`]). Version 3: the operators' command actions (`lock_doors`,
/// `stop_pump`) and the `expired` outcome of the live twin's queue.
pub const EVENTS_SCHEMA_VERSION: u32 = 3;

/// The name on an events file's first line.
pub const EVENTS_SCHEMA: &str = "civitas-events";

/// The first line of an events file (without its newline): what it is and its version.
pub fn stream_header() -> String {
    format!("{{\"schema\":\"{EVENTS_SCHEMA}\",\"schema_version\":{EVENTS_SCHEMA_VERSION}}}")
}

/// Which run an events file records: enough to build its community again (the 3D
/// viewer's replay). Optional in the header: a file without it still reads, and a
/// reader that does not need it ignores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRun {
    /// The scenario as one self-contained TOML file (`Scenario::to_toml`).
    pub scenario_toml: String,
    /// The run's seed.
    pub seed: u64,
    /// The run's investment and operation model.
    pub model: InvestmentModel,
}

/// The first line of an events file that also names its run: [`stream_header`] with a
/// `run` field.
pub fn stream_header_with(run: &StreamRun) -> String {
    let run = serde_json::to_string(run).expect("a run description serializes");
    let plain = stream_header();
    format!("{},\"run\":{run}}}", &plain[..plain.len() - 1])
}

/// Why an events file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// Its first line does not name the events schema.
    #[error("not a civitas events file (its first line is not {expected}): {found}")]
    NotEvents {
        /// The header expected.
        expected: String,
        /// The first line found (shortened).
        found: String,
    },
    /// Written in another version of the format.
    #[error("an events file of schema_version {found}; this build reads schema_version {expected}")]
    Version {
        /// Its version.
        found: u64,
        /// The version this build reads.
        expected: u32,
    },
    /// A line that is not a window.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads an events file: its header line, then one [`Window`] per line.
pub fn read_stream(text: &str) -> Result<Vec<Window>, StreamError> {
    read_stream_with_run(text).map(|(_, windows)| windows)
}

/// Reads an events file and the run its header names, if it names one.
pub fn read_stream_with_run(text: &str) -> Result<(Option<StreamRun>, Vec<Window>), StreamError> {
    let mut lines = text.lines().enumerate();
    let first = lines.next().map_or("", |(_, l)| l);
    let not_events = || StreamError::NotEvents {
        expected: stream_header(),
        found: first.chars().take(80).collect(),
    };
    let header: serde_json::Value = serde_json::from_str(first).map_err(|_| not_events())?;
    if header["schema"] != EVENTS_SCHEMA {
        return Err(not_events());
    }
    match header["schema_version"].as_u64() {
        Some(v) if v == u64::from(EVENTS_SCHEMA_VERSION) => {}
        Some(found) => {
            return Err(StreamError::Version {
                found,
                expected: EVENTS_SCHEMA_VERSION,
            });
        }
        None => return Err(not_events()),
    }
    let run = match header.get("run") {
        None => None,
        Some(run) => Some(StreamRun::deserialize(run).map_err(|e| StreamError::Line {
            line: 1,
            message: format!("its run: {e}"),
        })?),
    };
    let windows = lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| StreamError::Line {
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((run, windows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_events_file_reads_back_and_another_version_is_refused_by_name() {
        let w = Window {
            start: 60,
            end: 120,
            events: vec![],
            counters: Counters::default(),
        };
        let text = format!(
            "{}\n{}\n",
            stream_header(),
            serde_json::to_string(&w).unwrap()
        );
        assert_eq!(read_stream(&text), Ok(vec![w]));
        let newer = text.replacen("\"schema_version\":3", "\"schema_version\":4", 1);
        assert_eq!(
            read_stream(&newer).unwrap_err().to_string(),
            "an events file of schema_version 4; this build reads schema_version 3"
        );
        assert_eq!(
            read_stream("{\"start\":60}\n").unwrap_err().to_string(),
            "not a civitas events file (its first line is not {\"schema\":\"civitas-events\",\"schema_version\":3}): {\"start\":60}"
        );
        let bad = format!("{}\n{{}}\n", stream_header());
        assert!(
            read_stream(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("line 2: missing field `start`")
        );
    }

    #[test]
    fn a_header_names_its_run_and_old_readers_still_see_the_same_windows() {
        let run = StreamRun {
            scenario_toml: "name = \"x\"\n".into(),
            seed: 7,
            model: InvestmentModel::Ppp,
        };
        let header = stream_header_with(&run);
        assert!(header.starts_with(&stream_header()[..stream_header().len() - 1]));
        let text = format!("{header}\n");
        assert_eq!(read_stream_with_run(&text), Ok((Some(run), vec![])));
        assert_eq!(read_stream(&text), Ok(vec![]));
        let plain = format!("{}\n", stream_header());
        assert_eq!(read_stream_with_run(&plain), Ok((None, vec![])));
        let broken = format!("{}\n", header.replace("\"seed\":7", "\"seed\":\"7\""));
        assert!(
            read_stream_with_run(&broken)
                .unwrap_err()
                .to_string()
                .starts_with("line 1: its run: invalid type"),
        );
    }
}
