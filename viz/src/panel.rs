//! The on-screen line: what is watched, the simulated date and time, the speed, the open
//! incidents by loop and the devices not working. It sits in the top-left corner; the
//! details panel of a later issue gets the right-hand side.

use crate::playback::{Feed, Playback, SourceState, View};
use crate::scene::Model;
use crate::view::{Holder, TwinView};
use bevy::prelude::*;
use civitas_twin::calendar::Calendar;
use civitas_twin::vocab::events::DeviceState;

/// The status line's text node.
#[derive(Component, Debug)]
pub struct StatusLine;

/// The status line.
pub struct PanelPlugin;

impl Plugin for PanelPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_line)
            .add_systems(Update, update_line.after(crate::playback::feed));
    }
}

fn spawn_line(mut commands: Commands) {
    commands.spawn((
        Text::new(""),
        TextFont {
            font_size: bevy::text::FontSize::Px(15.0),
            ..default()
        },
        TextColor(Color::WHITE),
        BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.55)),
        Node {
            position_type: PositionType::Absolute,
            top: Val::Px(8.0),
            left: Val::Px(8.0),
            padding: UiRect::all(Val::Px(6.0)),
            ..default()
        },
        StatusLine,
    ));
}

/// The line's text.
pub fn status_text(
    calendar: &Calendar,
    playback: &Playback,
    view: &TwinView,
    describe: &str,
) -> String {
    let when = calendar
        .datetime(playback.second())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let open = view.open_by_holder();
    let n = |h: Holder| open.get(&h).copied().unwrap_or(0);
    let devices = view.devices_by_state();
    let d = |s: DeviceState| devices.get(&s).copied().unwrap_or(0);
    let state = match (&playback.source, playback.paused) {
        (SourceState::Failed(m), _) => format!(" | {m}"),
        _ if playback.still => String::new(),
        (_, true) => " | paused".into(),
        (SourceState::Ended, _) if playback.second() >= playback.horizon => " | end of run".into(),
        _ => String::new(),
    };
    let speed = if playback.still {
        String::new()
    } else {
        format!(" | {}x", playback.speed)
    };
    format!(
        "{describe}\n{when} ({tz}){speed}{state}\nopen incidents: community {} | street {} | district {} | unnoticed {}\ndevices: alarm {} | failed {} | offline {}",
        n(Holder::Community),
        n(Holder::Street),
        n(Holder::District),
        n(Holder::Unnoticed),
        d(DeviceState::Alarm),
        d(DeviceState::Failed),
        d(DeviceState::Offline),
        tz = calendar.time_zone(),
    )
}

fn update_line(
    model: Res<Model>,
    playback: Res<Playback>,
    view: Res<View>,
    feed: Res<Feed>,
    mut line: Query<&mut Text, With<StatusLine>>,
) {
    let Ok(mut text) = line.single_mut() else {
        return;
    };
    let new = status_text(&model.subject.calendar, &playback, &view.0, &feed.describe);
    if text.0 != new {
        text.0 = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_twin::kinds::IncidentKind;
    use civitas_twin::vocab::events::{Event, Stage};

    #[test]
    fn the_line_says_when_how_fast_and_what_is_open_by_loop() {
        let calendar = Calendar::new("2026-01-01T00:00", "Asia/Shanghai").unwrap();
        let mut view = TwinView::default();
        let mut changes = Vec::new();
        for (id, stage) in [(1, Stage::Created), (2, Stage::Created)] {
            view.apply(
                &Event::Incident {
                    at: 10,
                    id,
                    kind: IncidentKind::Fire,
                    community: 0,
                    building: 0,
                    stage,
                },
                &mut changes,
            );
        }
        let mut p = Playback::new(86_400, 600.0);
        p.now = 3_600.0 * 30.5;
        let line = status_text(&calendar, &p, &view, "watching");
        assert_eq!(
            line,
            "watching\n2026-01-02 06:30 (Asia/Shanghai) | 600x\n\
             open incidents: community 0 | street 0 | district 0 | unnoticed 2\n\
             devices: alarm 0 | failed 0 | offline 0"
        );
        p.paused = true;
        assert!(status_text(&calendar, &p, &view, "w").contains("| 600x | paused\n"));
        p.still = true;
        assert!(status_text(&calendar, &p, &view, "w").contains("(Asia/Shanghai)\n"));
    }
}
