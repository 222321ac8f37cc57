//! People acting on incidents through injects: an action applied at the moment the
//! organisation would have decided the same leaves the same history; actions that do
//! not fit are refused with a reason, change nothing, and are counted.

use crate::assembly;
use civitas_actors::{
    Action, Address, Engine, Event, Inject, Organisation, RunResult, SimClock, Stage, Window,
};
use civitas_twin::kinds::{Handler, Level};
use civitas_twin::time::{DAY, SimTime};
use std::collections::BTreeMap;

const DAYS: u64 = 10;

/// A run of the test community with these injects, and its windows.
async fn run(injects: &[(SimTime, Address, Inject)]) -> (RunResult, Vec<Window>) {
    let (w, p) = assembly(1500, 4);
    let mut e = Engine::spawn(w, p.engine.window_secs, SimClock)
        .await
        .unwrap();
    let s = e.source("operator");
    for &(at, to, what) in injects {
        e.inject(s, at, to, what).unwrap();
    }
    let mut windows = Vec::new();
    let r = e
        .run(DAYS * DAY, &mut |w: &Window| windows.push(w.clone()))
        .await
        .unwrap();
    (r, windows)
}

/// Each incident's stages, in order, with their times.
fn history(windows: &[Window]) -> BTreeMap<u64, Vec<(SimTime, Stage)>> {
    let mut h: BTreeMap<u64, Vec<(SimTime, Stage)>> = BTreeMap::new();
    for e in windows.iter().flat_map(|w| &w.events) {
        if let Event::Incident { at, id, stage, .. } = e {
            h.entry(*id).or_default().push((*at, stage.clone()));
        }
    }
    h
}

/// The micro-loop organisation holding incident `id` at `at`, from its history.
fn micro_holder(stages: &[(SimTime, Stage)], community: u32, at: SimTime) -> Organisation {
    let to = stages
        .iter()
        .rev()
        .filter(|(t, _)| *t <= at)
        .find_map(|(_, s)| match s {
            Stage::Dispatched { to, .. } => Some(*to),
            _ => None,
        })
        .unwrap_or(Handler::Committee);
    Organisation::handler(to, community)
}

/// The first event in the history matching `pick` at the micro level: incident, time,
/// and the organisation that made that decision.
fn first_micro_decision(
    windows: &[Window],
    pick: impl Fn(&Stage) -> bool,
) -> Option<(u64, SimTime, Organisation)> {
    let h = history(windows);
    windows
        .iter()
        .flat_map(|w| &w.events)
        .find_map(|e| match e {
            Event::Incident {
                at,
                id,
                community,
                stage,
                ..
            } if pick(stage) => Some((*id, *at, micro_holder(&h[id], *community, *at))),
            _ => None,
        })
}

#[tokio::test]
async fn each_action_at_the_moment_of_the_organisations_own_decision_leaves_the_same_history() {
    let (plain, windows) = run(&[]).await;
    let escalated = first_micro_decision(&windows, |s| matches!(s, Stage::Escalated { .. }))
        .expect("a case escalated from the micro-loop");
    let Some((_, Stage::Escalated { reason, .. })) = history(&windows)[&escalated.0]
        .iter()
        .find(|(_, s)| matches!(s, Stage::Escalated { .. }))
        .cloned()
    else {
        unreachable!()
    };
    let closed = first_micro_decision(
        &windows,
        |s| matches!(s, Stage::Closed { record } if record.closed_level == Some(Level::Micro)),
    )
    .expect("a case closed in the micro-loop");
    // A case acknowledged after it had waited: someone came free, or on duty.
    let h = history(&windows);
    let waited = h
        .iter()
        .filter_map(|(&id, stages)| {
            let dispatched = stages
                .iter()
                .find_map(|(t, s)| matches!(s, Stage::Dispatched { .. }).then_some(*t))?;
            let (at, _) = stages.iter().find(|(t, s)| {
                matches!(
                    s,
                    Stage::Acknowledged {
                        level: Level::Micro
                    }
                ) && *t > dispatched + 60
            })?;
            let community = plain.incidents.iter().find(|r| r.id == id)?.community;
            Some((id, *at, micro_holder(stages, community, *at)))
        })
        .min_by_key(|&(_, at, _)| at)
        .expect("a case that waited for someone to take it");
    for ((id, at, org), action) in [
        (escalated, Action::Escalate { reason }),
        (closed, Action::Close),
        (waited, Action::Acknowledge),
    ] {
        let inject = Inject::Act {
            incident: id,
            action,
        };
        let (acted, acted_windows) = run(&[(at, org.into(), inject)]).await;
        assert_eq!(
            history(&acted_windows),
            history(&windows),
            "{action:?} on incident {id} at {at} by {org}"
        );
        assert_eq!(acted.incidents, plain.incidents, "{action:?}");
        assert_eq!(acted.transfers, plain.transfers, "{action:?}");
        assert_eq!((acted.stats.injects, acted.stats.refused), (1, 0));
    }
    // The same escalation a minute earlier is a different history (the comparison can
    // fail); an hour earlier the case had not reached the organisation yet, so the
    // action is refused when it arrives, counted, and changes nothing.
    let (id, at, org) = escalated;
    let early = Inject::Act {
        incident: id,
        action: Action::Escalate { reason },
    };
    let (_, minute) = run(&[(at - 60, org.into(), early)]).await;
    assert_ne!(history(&minute)[&id], history(&windows)[&id]);
    let (r, hour) = run(&[(at - 3600, org.into(), early)]).await;
    assert_eq!(history(&hour), history(&windows));
    assert_eq!((r.stats.injects, r.stats.refused), (1, 1));
    let refused: Vec<(Option<u64>, String)> = hour
        .iter()
        .flat_map(|w| &w.events)
        .filter_map(|e| match e {
            Event::Refused {
                incident, reason, ..
            } => Some((*incident, reason.to_string())),
            _ => None,
        })
        .collect();
    let why = format!(
        "incident {id} is not held by {org} (escalated, dispatched or closed since, or never sent there)"
    );
    assert_eq!(refused, vec![(Some(id), why)]);
    let counted: u64 = hour.iter().map(|w| w.counters.refused).sum();
    assert_eq!(counted, 1);
}

/// Waits (with a timeout) for the first incident event matching `pick`.
async fn wait_for(sub: &mut civitas_actors::Subscription, pick: impl Fn(&Event) -> bool) -> Event {
    let wait = async {
        while let Some(w) = sub.recv().await {
            if let Some(e) = w.events.iter().find(|e| pick(e)) {
                return e.clone();
            }
        }
        panic!("the run ended first");
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .expect("within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_live_run_an_action_is_checked_against_who_holds_the_case_now() {
    use civitas_actors::observe::{DeviceState, NoObserver};
    use civitas_actors::{InjectError, WallClock, When};
    let (a, p) = assembly(1500, 4);
    let (d, _) = crate::district(1500, 4);
    let camera = crate::camera(&d);
    // A minute of simulated time a second: the platform dispatches within a window.
    let e = Engine::spawn(a, p.engine.window_secs, WallClock::new(60.0))
        .await
        .unwrap();
    let handle = e.handle();
    let run = tokio::spawn(async move { e.run(DAY, &mut NoObserver).await });
    let mut sub = handle.subscribe(1024).await.unwrap();
    let alarm = Inject::Device {
        device: camera,
        state: DeviceState::Alarm,
    };
    let to = Address::Device {
        community: 0,
        device: camera,
    };
    handle
        .inject("cameras", When::Now, to, alarm)
        .await
        .unwrap();
    let Event::Incident {
        id,
        stage: Stage::Dispatched { to, arrives },
        ..
    } = wait_for(&mut sub, |e| {
        matches!(
            e,
            Event::Incident {
                stage: Stage::Dispatched { .. },
                ..
            }
        )
    })
    .await
    else {
        unreachable!()
    };
    let holder = Organisation::handler(to, 0);
    let other = Organisation::handler(
        match to {
            Handler::Committee => Handler::PropertyFirm,
            Handler::PropertyFirm => Handler::Committee,
        },
        0,
    );
    let holdings = handle.holdings().await.unwrap();
    assert_eq!(holdings.open[&id].holder, Some(holder));
    let act = |to: Organisation, incident: u64, action: Action| {
        let handle = handle.clone();
        async move {
            handle
                .inject(
                    "operator",
                    When::Now,
                    to.into(),
                    Inject::Act { incident, action },
                )
                .await
                .map_err(|e| e.to_string())
        }
    };
    assert_eq!(
        act(other, id, Action::Acknowledge).await,
        Err(format!(
            "refused: incident {id} is not held by {other}: {holder} holds it"
        ))
    );
    assert_eq!(
        act(holder, 42, Action::Acknowledge).await,
        Err("refused: incident 42 is unknown (no open or closed incident has that id)".into())
    );
    assert_eq!(
        act(holder, id, Action::Report).await,
        Err(format!(
            "refused: {holder} cannot report incident {id}: only a department reports; the micro-loop and the street office acknowledge (`acknowledge`)"
        ))
    );
    let to_building = handle
        .inject(
            "operator",
            When::Now,
            Address::Building {
                community: 0,
                building: 0,
            },
            Inject::Act {
                incident: id,
                action: Action::Close,
            },
        )
        .await;
    assert_eq!(
        to_building.map_err(|e| e.to_string()),
        Err("refused: an action on an incident cannot go to building 0 of community 0".into())
    );
    // The holder escalates it: the street office holds it now.
    let reason = civitas_actors::EscalationReason::BeyondCapacity;
    let at = act(holder, id, Action::Escalate { reason }).await.unwrap();
    assert!(
        at >= arrives,
        "it waits for the case to reach its holder: {at} < {arrives}"
    );
    wait_for(
        &mut sub,
        |e| matches!(e, Event::Incident { id: i, stage: Stage::Escalated { .. }, .. } if *i == id),
    )
    .await;
    let street = Organisation::StreetOffice { street: 0 };
    assert_eq!(
        handle.holdings().await.unwrap().open[&id].holder,
        Some(street)
    );
    assert_eq!(
        act(holder, id, Action::Close).await,
        Err(format!(
            "refused: incident {id} is not held by {holder}: {street} holds it"
        ))
    );
    assert!(matches!(
        handle
            .inject(
                "operator",
                When::Now,
                street.into(),
                Inject::Act {
                    incident: id,
                    action: Action::Acknowledge
                }
            )
            .await,
        Ok(_)
            | Err(InjectError::Refused(
                civitas_actors::Refusal::AlreadyTaken { .. }
            ))
    ));
    handle.stop().await.unwrap();
    let r = run.await.unwrap().unwrap();
    assert_eq!(r.stats.refused, 0, "every refusal above was at the intake");
}
