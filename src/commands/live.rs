//! `civitas run --live`: the operator's first view of a community in real time — each
//! incident as it opens, is dispatched, escalates and closes on stdout, and a status line (open cases
//! by loop, the backlog, how far behind real time the engine is) on stderr every few
//! seconds.

use civitas_actors::inject::Holding;
use civitas_actors::{Event, Holdings, Stage, Window};
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::Level;
use civitas_twin::time::SimTime;
use std::io::Write;
use std::time::{Duration, Instant};

/// Prints a live run as it goes.
pub(super) struct LiveView {
    calendar: Calendar,
    /// Known open incidents and who holds each (the same fold as the engine's).
    holdings: Holdings,
    /// When the last status line was printed (real time).
    last_status: Option<Instant>,
    lag_ms: u64,
}

/// Real time between status lines.
const STATUS_EVERY: Duration = Duration::from_secs(5);

impl LiveView {
    pub(super) fn new(calendar: Calendar) -> Self {
        LiveView {
            calendar,
            holdings: Holdings::default(),
            last_status: None,
            lag_ms: 0,
        }
    }

    fn local(&self, t: SimTime) -> String {
        self.calendar
            .datetime(t)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// One window: its incidents' lines, and the status line when it is due.
    #[allow(clippy::disallowed_methods)] // real time paces the status line, never results
    pub(super) fn window(&mut self, w: &Window) {
        self.lag_ms = w.counters.lag_ms;
        self.holdings.window(w);
        let mut out = std::io::stdout().lock();
        for e in &w.events {
            if let Event::Refused { at, reason, .. } = e {
                // An action accepted at the prompt that no longer fitted when it arrived.
                let _ = writeln!(out, "{}  refused    {reason}", self.local(*at));
                continue;
            }
            let Event::Incident {
                at,
                id,
                kind,
                building,
                stage,
                ..
            } = e
            else {
                continue;
            };
            let what = match stage {
                Stage::Detected { by } => format!("opened     detected by {}", by.as_str()),
                Stage::Dispatched { to, .. } => {
                    format!("dispatched to the {}", to.as_str().replace('_', " "))
                }
                Stage::Escalated { reason, street, .. } => {
                    format!("escalated  to street office {street} ({})", reason.as_str())
                }
                Stage::Whistled {
                    department, reason, ..
                } => {
                    format!(
                        "whistled   to {} ({})",
                        department.as_str(),
                        reason.as_str()
                    )
                }
                Stage::Closed { record } => {
                    let took = record
                        .resolution_secs()
                        .map_or(String::new(), |s| format!(" after {}", duration(s)));
                    let level = record.closed_level.map_or("?", |l| l.as_str());
                    if record.false_alarm {
                        format!("closed     a false alarm{took}")
                    } else {
                        format!("closed     by the {level} loop{took}")
                    }
                }
                Stage::Created | Stage::Acknowledged { .. } | Stage::DepartmentReported { .. } => {
                    continue;
                }
            };
            let _ = writeln!(
                out,
                "{}  {:<19} #{id:<14} building {building:<4} {what}",
                self.local(*at),
                kind.as_str()
            );
        }
        let _ = out.flush();
        let now = Instant::now();
        if self
            .last_status
            .is_none_or(|t| now.duration_since(t) >= STATUS_EVERY)
        {
            self.last_status = Some(now);
            eprintln!("{}", self.status(w.end));
        }
    }

    /// "[2026-12-07 10:31:00] open: 3 micro, 1 street, 0 district (backlog 4)  lag 0 ms".
    fn status(&self, t: SimTime) -> String {
        // A case not dispatched yet counts with the micro-loop, where it is going.
        let open = &self.holdings.open;
        let level = |h: &Holding| h.holder.map_or(Level::Micro, |o| o.level());
        let count = |l: Level| open.values().filter(|h| level(h) == l).count();
        format!(
            "[{}] open: {} micro, {} street, {} district (backlog {})  lag {} ms",
            self.local(t),
            count(Level::Micro),
            count(Level::Street),
            count(Level::District),
            open.len(),
            self.lag_ms
        )
    }
}

/// A duration for people: "12 min", "3.4 h", "2.1 d".
fn duration(secs: SimTime) -> String {
    let s = secs as f64;
    if s < 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 86_400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86_400.0)
    }
}
