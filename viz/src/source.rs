//! Where the viewer's events come from, behind one interface ([`DataSource`]): a
//! simulation run in-process ([`Simulation`], through the engine's observe stream) or
//! a run's `--events` file played back ([`Replay`]). The live twin will be a third
//! source; nothing in the scene knows which one it is watching.

use anyhow::{Context, bail};
use civitas_scenarios::file::Scenario;
use civitas_scenarios::runner::{self, RunOptions, Session};
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::InvestmentModel;
use civitas_twin::model::District;
use civitas_twin::time::SimTime;
use civitas_twin::vocab::events::{Window, read_stream_with_run};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::time::Duration;

/// What a source has next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// A window of events.
    Window(Window),
    /// Nothing yet; ask again later.
    Pending,
    /// Nothing more, ever.
    End,
    /// The source failed (the message says why); nothing more will come.
    Failed(String),
}

/// A stream of windows of one community or district.
pub trait DataSource: Send + 'static {
    /// The next window if there is one; with `wait`, blocks until there is one, the
    /// source ends, or `wait` has passed.
    fn next(&mut self, wait: Option<Duration>) -> Next;

    /// Simulated time up to which the source has delivered everything (windows with
    /// nothing in them are never delivered).
    fn known_until(&self) -> SimTime;

    /// One line saying what is being watched.
    fn describe(&self) -> String;
}

/// What the viewer shows: the district, how to read its clock, and its horizon.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The community or district.
    pub district: District,
    /// Its calendar (for the date and time on screen).
    pub calendar: Calendar,
    /// The run's horizon.
    pub horizon: SimTime,
    /// Scenario name, model and seed, for the screen.
    pub title: String,
}

impl Subject {
    /// `s`'s district built with `seed` under `model`, shown up to `horizon`.
    pub fn new(s: &Scenario, seed: u64, model: InvestmentModel, horizon: SimTime) -> Subject {
        Subject {
            district: runner::build_district_for(s, seed, model),
            calendar: s.calendar.clone(),
            horizon,
            title: format!("{}, {} model, seed {seed}", s.name, model),
        }
    }
}

enum Msg {
    Window(Window),
    Done(Result<(), String>),
}

/// A simulation run on its own thread, its windows handed over as they are made. The
/// run waits when the viewer has not taken the last 256 windows yet.
pub struct Simulation {
    rx: Receiver<Msg>,
    known: SimTime,
    horizon: SimTime,
    done: bool,
    title: String,
}

impl Simulation {
    /// Starts `scenario` with `seed` and `model` up to `horizon`.
    pub fn start(
        scenario: &Scenario,
        seed: u64,
        model: InvestmentModel,
        horizon: SimTime,
    ) -> (Subject, Simulation) {
        let subject = Subject::new(scenario, seed, model, horizon);
        let (tx, rx) = sync_channel::<Msg>(256);
        let district = subject.district.clone();
        let s = scenario.clone();
        let opts = RunOptions {
            seed,
            horizon,
            workers: 1,
            model,
        };
        std::thread::Builder::new()
            .name("civitas-sim".into())
            .spawn(move || simulate(&district, &s, opts, tx))
            .expect("a thread for the simulation");
        let sim = Simulation {
            rx,
            known: 0,
            horizon,
            done: false,
            title: subject.title.clone(),
        };
        (subject, sim)
    }
}

fn simulate(district: &District, s: &Scenario, opts: RunOptions, tx: SyncSender<Msg>) {
    let windows = tx.clone();
    let session = Session {
        observer: Some(Box::new(move |w: &Window| {
            // The viewer closed: the rest of the run has nobody to show it to.
            let _ = windows.send(Msg::Window(w.clone()));
        })),
        ..Session::default()
    };
    let result = runner::run_session(district, s, opts, session, |_| {});
    let _ = tx.send(Msg::Done(result.map(|_| ()).map_err(|e| e.to_string())));
}

impl DataSource for Simulation {
    fn next(&mut self, wait: Option<Duration>) -> Next {
        if self.done {
            return Next::End;
        }
        let msg = match wait {
            None => match self.rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return Next::Pending,
                Err(TryRecvError::Disconnected) => Msg::Done(Err("the simulation stopped".into())),
            },
            Some(d) => match self.rx.recv_timeout(d) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => return Next::Pending,
                Err(RecvTimeoutError::Disconnected) => {
                    Msg::Done(Err("the simulation stopped".into()))
                }
            },
        };
        match msg {
            Msg::Window(w) => {
                self.known = self.known.max(w.end);
                Next::Window(w)
            }
            Msg::Done(r) => {
                self.done = true;
                self.known = self.horizon;
                match r {
                    Ok(()) => Next::End,
                    Err(e) => Next::Failed(format!("the simulation failed: {e}")),
                }
            }
        }
    }

    fn known_until(&self) -> SimTime {
        self.known
    }

    fn describe(&self) -> String {
        format!("simulating {}", self.title)
    }
}

/// A run's `--events` file, read whole and played back.
pub struct Replay {
    windows: VecDeque<Window>,
    horizon: SimTime,
    title: String,
}

impl Replay {
    /// Plays back `windows`, in order, of a run up to `horizon`.
    pub fn from_windows(
        windows: Vec<Window>,
        horizon: SimTime,
        title: impl Into<String>,
    ) -> Replay {
        Replay {
            windows: windows.into(),
            horizon,
            title: title.into(),
        }
    }

    /// Reads `path`; its header must name the run (files written by this version of
    /// `civitas run --events` do). `scenario` overrides the header's scenario (for a
    /// file that does not name one).
    pub fn open(path: &Path, scenario: Option<&Scenario>) -> anyhow::Result<(Subject, Replay)> {
        let name = path.display().to_string();
        let text = read_events_file(path)?;
        let (run, windows) = read_stream_with_run(&text).with_context(|| name.clone())?;
        let (s, seed, model) = match (scenario, run) {
            (Some(s), run) => {
                let seed = run.as_ref().map_or(s.seed, |r| r.seed);
                let model = run.as_ref().map_or(s.model, |r| r.model);
                (s.clone(), seed, model)
            }
            (None, Some(run)) => {
                let s = Scenario::from_str(&run.scenario_toml, &format!("{name} (its run)"))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                (s, run.seed, run.model)
            }
            (None, None) => bail!(
                "{name}: the events file does not say which scenario it records (written by an \
                 older civitas); pass --scenario FILE|PRESET with it"
            ),
        };
        let end = windows.last().map_or(0, |w| w.end);
        let horizon = (s.days as SimTime * civitas_twin::time::DAY).max(end);
        let subject = Subject::new(&s, seed, model, horizon);
        let title = format!("replaying {name}: {}", subject.title);
        Ok((
            subject,
            Replay {
                windows: windows.into(),
                horizon,
                title,
            },
        ))
    }
}

/// Largest events file the viewer reads (1 GiB).
pub const EVENTS_FILE_LIMIT: u64 = 1 << 30;

fn read_events_file(path: &Path) -> anyhow::Result<String> {
    let name = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("{name}: cannot read it"))?;
    if !meta.is_file() {
        bail!("{name}: not a file");
    }
    if meta.len() > EVENTS_FILE_LIMIT {
        bail!(
            "{name}: {} bytes, more than the {} bytes the viewer reads",
            meta.len(),
            EVENTS_FILE_LIMIT
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("{name}: cannot read it"))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{name}: not text (invalid UTF-8 at byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

impl DataSource for Replay {
    fn next(&mut self, _wait: Option<Duration>) -> Next {
        match self.windows.pop_front() {
            Some(w) => Next::Window(w),
            None => Next::End,
        }
    }

    fn known_until(&self) -> SimTime {
        self.horizon
    }

    fn describe(&self) -> String {
        self.title.clone()
    }
}
