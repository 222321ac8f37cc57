//! Time in the viewer: the playback clock and its keys ([`TimelinePlugin`]), and the
//! feed that applies the data source's events up to the clock ([`DataSourcePlugin`]).
//! The clock never runs past what the source has delivered, so a slow simulation or a
//! quiet live feed holds the picture instead of showing a future that did not happen.

use crate::scene::SceneChange;
use crate::source::{DataSource, Next};
use crate::view::{Change, TwinView};
use bevy::prelude::*;
use civitas_twin::time::SimTime;
use civitas_twin::vocab::events::Window;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// Speeds the keys step through (simulated seconds per real second).
pub const SPEEDS: [f64; 7] = [1.0, 10.0, 60.0, 600.0, 3_600.0, 21_600.0, 86_400.0];
/// Speed the viewer starts at: an hour per second.
pub const DEFAULT_SPEED: f64 = 3_600.0;
/// Highest speed accepted from the command line.
pub const MAX_SPEED: f64 = 86_400.0;

/// The playback clock.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct Playback {
    /// Simulated time shown (s).
    pub now: f64,
    /// Simulated seconds per second of viewer time.
    pub speed: f64,
    /// Stopped by the user.
    pub paused: bool,
    /// The run's horizon: the clock stops there.
    pub horizon: SimTime,
    /// The source's state.
    pub source: SourceState,
    /// A still picture of one moment (a snapshot): no speed, nothing paused.
    pub still: bool,
}

/// Where the data source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// More may come.
    Running,
    /// Everything was delivered.
    Ended,
    /// It failed; the message says why.
    Failed(String),
}

impl Playback {
    /// At time 0 of a run up to `horizon`, at `speed`.
    pub fn new(horizon: SimTime, speed: f64) -> Playback {
        Playback {
            now: 0.0,
            speed,
            paused: false,
            horizon,
            source: SourceState::Running,
            still: false,
        }
    }

    /// The simulated second shown.
    pub fn second(&self) -> SimTime {
        self.now as SimTime
    }

    /// One step up (`up`) or down the speed list.
    pub fn step_speed(&mut self, up: bool) {
        let i = SPEEDS
            .iter()
            .position(|s| *s >= self.speed)
            .unwrap_or(SPEEDS.len() - 1);
        let exact = SPEEDS[i] == self.speed;
        let j = match (up, exact) {
            (true, true) => (i + 1).min(SPEEDS.len() - 1),
            (true, false) => i,
            (false, _) => i.saturating_sub(1),
        };
        self.speed = SPEEDS[j];
    }
}

/// The community as of the playback clock.
#[derive(Resource, Debug, Default)]
pub struct View(pub TwinView);

/// The data source and the windows taken from it but not yet applied.
#[derive(Resource)]
pub struct Feed {
    source: Mutex<Box<dyn DataSource>>,
    queue: VecDeque<Window>,
    /// Events of the front window already applied.
    cursor: usize,
    /// The source said it has nothing more.
    pub ended: bool,
    /// The source's one line.
    pub describe: String,
}

impl Feed {
    /// Feeds from `source`.
    pub fn new(source: Box<dyn DataSource>) -> Feed {
        let describe = source.describe();
        Feed {
            source: Mutex::new(source),
            queue: VecDeque::new(),
            cursor: 0,
            ended: false,
            describe,
        }
    }

    /// Time up to which the source has delivered everything.
    pub fn known_until(&self) -> SimTime {
        self.source.lock().map_or(0, |s| s.known_until())
    }

    /// Applies every event up to `now` to `view`. With `wait`, waits for the source
    /// until it has delivered everything up to `now` (or ended); without, takes only
    /// what is ready.
    pub fn pump(
        &mut self,
        now: SimTime,
        wait: bool,
        view: &mut TwinView,
        changes: &mut Vec<Change>,
    ) -> SourceState {
        loop {
            if let Some(w) = self.queue.front() {
                while let Some(e) = w.events.get(self.cursor).filter(|e| e.at() <= now) {
                    view.apply(e, changes);
                    self.cursor += 1;
                }
                if self.cursor < w.events.len() {
                    view.expire(now, changes);
                    return SourceState::Running;
                }
                self.queue.pop_front();
                self.cursor = 0;
                continue;
            }
            view.expire(now, changes);
            if self.ended {
                return SourceState::Ended;
            }
            let Ok(mut source) = self.source.lock() else {
                self.ended = true;
                return SourceState::Failed("the data source was poisoned".into());
            };
            let next = if wait && source.known_until() < now {
                source.next(Some(Duration::from_secs(1)))
            } else {
                source.next(None)
            };
            match next {
                Next::Window(w) => self.queue.push_back(w),
                Next::Pending if wait && source.known_until() < now => {}
                Next::Pending => return SourceState::Running,
                Next::End => {
                    self.ended = true;
                    return SourceState::Ended;
                }
                Next::Failed(message) => {
                    self.ended = true;
                    return SourceState::Failed(message);
                }
            }
        }
    }
}

/// The feed's system: applies what happened up to the clock and tells the scene.
pub fn feed(
    mut feed: ResMut<Feed>,
    mut view: ResMut<View>,
    mut playback: ResMut<Playback>,
    mut changes: MessageWriter<SceneChange>,
) {
    let mut out = Vec::new();
    let state = feed.pump(playback.second(), false, &mut view.0, &mut out);
    if !matches!(playback.source, SourceState::Failed(_)) {
        playback.source = state;
    }
    changes.write_batch(out.into_iter().map(SceneChange));
}

/// Applies the source to the clock each frame.
pub struct DataSourcePlugin;

impl Plugin for DataSourcePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<View>()
            .add_systems(Update, feed.after(advance));
    }
}

/// The playback clock and the keys that drive it: Space plays and pauses, `]`/`[`
/// (or `+`/`-`) step the speed up and down, 1–7 pick a speed, Home goes back to the
/// start of what was shown (replays only restart from the beginning; a later issue
/// brings the scrubbing timeline).
pub struct TimelinePlugin;

impl Plugin for TimelinePlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, (keys, advance).chain());
    }
}

/// Moves the clock on by the frame's time × speed, never past what the source has
/// delivered or the horizon.
pub fn advance(time: Res<Time>, feed: Res<Feed>, mut playback: ResMut<Playback>) {
    if playback.paused {
        return;
    }
    let limit = if feed.ended {
        playback.horizon
    } else {
        feed.known_until().min(playback.horizon)
    } as f64;
    let next = playback.now + time.delta_secs_f64() * playback.speed;
    playback.now = next.min(limit).max(playback.now);
}

fn keys(keys: Option<Res<ButtonInput<KeyCode>>>, mut playback: ResMut<Playback>) {
    let Some(keys) = keys else { return };
    if keys.just_pressed(KeyCode::Space) {
        playback.paused = !playback.paused;
    }
    if keys.any_just_pressed([KeyCode::BracketRight, KeyCode::Equal, KeyCode::NumpadAdd]) {
        playback.step_speed(true);
    }
    if keys.any_just_pressed([
        KeyCode::BracketLeft,
        KeyCode::Minus,
        KeyCode::NumpadSubtract,
    ]) {
        playback.step_speed(false);
    }
    let digits = [
        KeyCode::Digit1,
        KeyCode::Digit2,
        KeyCode::Digit3,
        KeyCode::Digit4,
        KeyCode::Digit5,
        KeyCode::Digit6,
        KeyCode::Digit7,
    ];
    for (k, speed) in digits.iter().zip(SPEEDS) {
        if keys.just_pressed(*k) {
            playback.speed = speed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_steps_through_the_list_and_stops_at_its_ends() {
        let mut p = Playback::new(100, 1.0);
        p.step_speed(false);
        assert_eq!(p.speed, 1.0);
        p.step_speed(true);
        assert_eq!(p.speed, 10.0);
        p.speed = 100.0;
        p.step_speed(true);
        assert_eq!(
            p.speed, 600.0,
            "an off-list speed steps to the next on the list"
        );
        p.speed = 100.0;
        p.step_speed(false);
        assert_eq!(p.speed, 60.0);
        p.speed = MAX_SPEED;
        p.step_speed(true);
        assert_eq!(p.speed, MAX_SPEED);
    }
}
