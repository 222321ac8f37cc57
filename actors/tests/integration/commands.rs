//! Commands out, outcomes back: a fire commands its building's doors, the simulated
//! devices answer, a failure becomes an incident, and over a year the outcomes show the
//! device model's rates; a checkpoint carries commands still waiting for an answer.

use civitas_actors::observe::NoObserver;
use civitas_actors::{Address, Assembly, Engine, Event, Inject, SimClock, Window};
use civitas_twin::kinds::{
    CommandAction, CommandOutcome, DeviceKind, IncidentKind, InvestmentModel,
};
use civitas_twin::model::District;
use civitas_twin::params::Parameters;
use civitas_twin::time::{DAY, HOUR, YEAR};

/// A community whose buildings all have access control and a basement water-level
/// station, under `p`.
fn district(p: Parameters, residents: u32) -> (District, Parameters) {
    let devices = [
        (DeviceKind::AccessControl, 1.0),
        (DeviceKind::WaterLevel, 1.0),
        (DeviceKind::SmokeDetector, 1.0),
    ];
    crate::district_with(residents, 4, &devices, p)
}

#[tokio::test]
async fn a_fire_commands_its_buildings_doors_and_a_failed_release_is_an_incident() {
    let mut p = Parameters::default();
    p.commands.failure_prob = 1.0; // every door answers that it could not
    p.commands.loss_prob = 0.0;
    let (d, p) = district(p, 1500);
    let building = 2u32;
    let doors: Vec<u32> = d.communities[0].devices_by_building()[building as usize]
        .iter()
        .copied()
        .filter(|&id| d.communities[0].devices[id as usize].kind == DeviceKind::AccessControl)
        .collect();
    assert!(!doors.is_empty(), "the building has access control");
    let a = Assembly::build(&d, &p, 4, InvestmentModel::Hybrid);
    let mut e = Engine::spawn(a, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let s = e.source("drill");
    let at = DAY + 3 * HOUR;
    let fire = Inject::Incident {
        kind: IncidentKind::Fire,
        household: None,
    };
    e.inject(
        s,
        at,
        Address::Building {
            community: 0,
            building,
        },
        fire,
    )
    .unwrap();
    let mut windows: Vec<Window> = Vec::new();
    let r = e
        .run(2 * DAY, &mut |w: &Window| windows.push(w.clone()))
        .await
        .unwrap();
    let events: Vec<&Event> = windows.iter().flat_map(|w| &w.events).collect();
    let mut commanded: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            Event::Command {
                building: b,
                device,
                action: CommandAction::ReleaseDoors,
                ..
            } if *b == building => Some(*device),
            _ => None,
        })
        .collect();
    commanded.sort_unstable();
    assert_eq!(
        commanded, doors,
        "every door of that building, and only there"
    );
    let failed = events
        .iter()
        .filter(|e| {
            matches!(e, Event::CommandEnded { outcome: CommandOutcome::Failed, building: b, .. } if *b == building)
        })
        .count();
    assert_eq!(failed, doors.len(), "each door answered");
    let raised: Vec<_> = r
        .incidents
        .iter()
        .filter(|i| i.kind == IncidentKind::CommandFailed && i.building == building)
        .collect();
    assert_eq!(
        raised.len(),
        doors.len(),
        "one incident per door not released"
    );
    assert!(
        raised.iter().all(|i| i.detected == Some(i.created)),
        "known at once"
    );
    let t = r.commands[&CommandAction::ReleaseDoors];
    assert_eq!((t.sent, t.failed), (doors.len() as u64, doors.len() as u64));
}

#[tokio::test]
async fn over_three_years_the_outcomes_show_the_device_models_rates() {
    let mut p = Parameters::default();
    (p.commands.failure_prob, p.commands.loss_prob) = (0.1, 0.05);
    let (d, p) = district(p, 4000);
    let a = Assembly::build(&d, &p, 4, InvestmentModel::Hybrid);
    let e = Engine::spawn(a, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let r = e.run(3 * YEAR, &mut NoObserver).await.unwrap();
    let (mut sent, mut succeeded, mut failed, mut timed_out) = (0, 0, 0, 0);
    for t in r.commands.values() {
        (sent, succeeded, failed, timed_out) = (
            sent + t.sent,
            succeeded + t.succeeded,
            failed + t.failed,
            timed_out + t.timed_out,
        );
    }
    assert!(sent >= 200, "enough commands to see rates: {sent}");
    assert!(
        sent - (succeeded + failed + timed_out) <= 5,
        "all but the last ended"
    );
    // Within three standard deviations of the binomial count the model's rates give:
    // 5% lost (broken devices add a little more), 10% of the others fail.
    let near = |observed: u64, p: f64| {
        let n = sent as f64;
        (observed as f64 - n * p).abs() <= 3.0 * (n * p * (1.0 - p)).sqrt()
    };
    assert!(near(timed_out, 0.05), "timed out {timed_out} of {sent}");
    assert!(near(failed, 0.1 * 0.95), "failed {failed} of {sent}");
    // And not what other rates would give.
    assert!(!near(failed, 0.02) && !near(timed_out, 0.2));
    let raised = r
        .incidents
        .iter()
        .filter(|i| i.kind == IncidentKind::CommandFailed)
        .count() as u64;
    assert_eq!(raised, failed + timed_out);
}

#[tokio::test]
async fn a_checkpoint_carries_a_pending_command_and_who_holds_the_fire() {
    // The devices answer only through injects (the live twin) and a command waits an
    // hour: a checkpoint ten minutes after the fire holds its commands, unanswered.
    let mut p = Parameters::default();
    p.commands.device_model = false;
    p.commands.timeout_secs = 3600;
    let (d, p) = district(p, 1500);
    let building = 2u32;
    let fire_at = DAY + 3 * HOUR;
    let start = |d: &District, p: &Parameters| {
        let a = Assembly::build(d, p, 4, InvestmentModel::Hybrid);
        Engine::spawn(a, p.engine.window_secs, SimClock)
    };
    let fire = Inject::Incident {
        kind: IncidentKind::Fire,
        household: None,
    };
    let to = Address::Building {
        community: 0,
        building,
    };
    let mut whole = start(&d, &p).await.unwrap();
    let s = whole.source("drill");
    whole.inject(s, fire_at, to, fire).unwrap();
    let whole = whole.run(2 * DAY, &mut NoObserver).await.unwrap();

    let mut e = start(&d, &p).await.unwrap();
    let s = e.source("drill");
    e.inject(s, fire_at, to, fire).unwrap();
    e.step_until(fire_at + 600, &mut NoObserver).await.unwrap();
    let state = e.checkpoint().await.unwrap();
    drop(e);
    let t = state.collector.commands[&CommandAction::ReleaseDoors];
    assert!(
        t.sent > 0 && t.succeeded + t.failed + t.timed_out == 0,
        "{t:?}"
    );
    let held: Vec<_> = (state.collector.holdings.open.values())
        .filter(|h| h.kind == IncidentKind::Fire && h.building == building)
        .collect();
    assert_eq!(held.len(), 1, "the fire is open and held");
    assert!(held[0].holder.is_some());
    let a = Assembly::build(&d, &p, 4, InvestmentModel::Hybrid);
    let resumed = Engine::restore(a, state, SimClock)
        .await
        .unwrap()
        .run(2 * DAY, &mut NoObserver)
        .await
        .unwrap();
    assert_eq!(resumed, whole);
    // Unanswered, every door release timed out after its hour and became an incident.
    let t = whole.commands[&CommandAction::ReleaseDoors];
    assert_eq!(t.timed_out, t.sent);
}

#[tokio::test]
async fn with_commands_off_a_fire_commands_nothing() {
    // What `civitas twin` runs until it forwards commands to hardware.
    let mut p = Parameters::default();
    p.commands.send = false;
    let (d, p) = district(p, 1500);
    let a = Assembly::build(&d, &p, 4, InvestmentModel::Hybrid);
    let mut e = Engine::spawn(a, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let s = e.source("drill");
    let fire = Inject::Incident {
        kind: IncidentKind::Fire,
        household: None,
    };
    let to = Address::Building {
        community: 0,
        building: 2,
    };
    e.inject(s, DAY, to, fire).unwrap();
    let r = e.run(2 * DAY, &mut NoObserver).await.unwrap();
    assert!(r.incidents.iter().any(|i| i.kind == IncidentKind::Fire));
    assert!(r.commands.is_empty(), "{:?}", r.commands);
    assert!(
        !r.incidents
            .iter()
            .any(|i| i.kind == IncidentKind::CommandFailed)
    );
}
