//! An organization that handles incidents: the residents committee and the property firm
//! (micro-loop), a street office (small loop), a district department (big loop).
//!
//! Each has finite staff per shift and a queue. A case waits (most severe first, then
//! first come), is taken by a free staff member (the acknowledgement, or for a
//! department its "report"), and is handled for a random time. It escalates to the next
//! loop when the level's time limit for its severity passes, when the queue is full on
//! arrival, when its severity sends it up at once, or when the level tried and could
//! not close it. The district level never escalates and has no queue limit: whistled
//! cases wait until a crew reports.
//!
//! A person in the organisation acts on its cases through injects ([`Action`]):
//! acknowledging takes a waiting case as a free staff member would, escalating and
//! whistling send it up as a time limit does, closing resolves it. Each goes through
//! the same steps as the organisation's own decision, or is refused whole with a
//! [`Refusal`] in the stream. A case's draws (handling time, whether this level resolves
//! it) come from a stream of its own, so acting on one case never changes another's.

use super::{Behaviour, Ctx, Final};
use crate::incident::{Escalation, EscalationReason, IncidentRecord};
use crate::inject::Inject;
use crate::message::{ActorId, Payload};
use crate::observe::Stage;
use crate::timers::Timers;
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::{Department, Level, Severity};
use civitas_twin::params::Parameters;
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{SimTime, hours};
use civitas_twin::vocab::action::{Action, Organisation, Refusal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Staff on duty by time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Staffing {
    /// On duty from `day_start` to `day_end`.
    pub(crate) day: u32,
    /// On duty otherwise.
    pub(crate) night: u32,
    /// Hour the day shift starts.
    pub(crate) day_start: u32,
    /// Hour the day shift ends.
    pub(crate) day_end: u32,
}

impl Staffing {
    /// Day and night shifts at the parameters' hours.
    pub(crate) fn shifts(day: u32, night: u32, p: &Parameters) -> Self {
        Staffing {
            day,
            night,
            day_start: p.staffing.day_start_hour,
            day_end: p.staffing.day_end_hour,
        }
    }

    /// The same staff around the clock.
    pub(crate) fn constant(n: u32) -> Self {
        Staffing {
            day: n,
            night: n,
            day_start: 0,
            day_end: 24,
        }
    }

    /// Staff on duty at `t`, by the local hour.
    pub(crate) fn at(&self, t: SimTime, calendar: &Calendar) -> u32 {
        if self.day == self.night || !calendar.is_night(t, self.day_start, self.day_end) {
            self.day
        } else {
            self.night
        }
    }

    /// The next time after `t` at which the number on duty may change: the next local
    /// start or end of the day shift.
    pub(crate) fn next_change(&self, t: SimTime, calendar: &Calendar) -> Option<SimTime> {
        if self.day == self.night {
            return None;
        }
        let start = calendar.next_local_hour(t, self.day_start);
        let end = calendar.next_local_hour(t, self.day_end);
        Some(start.min(end))
    }
}

/// Timer events of a responder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Timer {
    /// Handling of this incident (its arrival here numbered so) ends.
    Done(u64, u64),
    /// This incident's time limit at this level passes (for its arrival numbered so:
    /// a case dispatched away and back is a new arrival with timers of its own).
    Deadline(u64, u64),
    /// Staff on duty may have changed.
    Shift,
}

#[derive(Serialize, Deserialize)]
struct Case {
    rec: Box<IncidentRecord>,
    /// Its arrival's number here.
    arrival: u64,
    /// When this organisation took it up (acknowledged, or for a department reported).
    taken: Option<SimTime>,
    /// Drawn when it was taken up: whether this level's handling resolves it.
    resolves: bool,
}

/// Queue key: most severe first, then arrival order.
type QueueKey = (std::cmp::Reverse<Severity>, u64);

/// One incident-handling organization.
#[derive(Serialize, Deserialize)]
pub(crate) struct Responder {
    org: Organisation,
    me: ActorId,
    seed: u64,
    staffing: Staffing,
    capacity: Option<usize>,
    /// The run's parameters, calendar and addresses (not state; see [`crate::agents::Shared`]).
    #[serde(skip, default = "crate::agents::Shared::detached")]
    pub(crate) context: crate::agents::Shared,
    timers: Timers<Timer>,
    queue: BTreeMap<QueueKey, Case>,
    queued: BTreeMap<u64, QueueKey>,
    busy: BTreeMap<u64, Case>,
    arrivals: u64,
    shift_timer: bool,
}

impl Responder {
    /// The organisation `org`, acting as actor `me`.
    pub(crate) fn new(
        org: Organisation,
        me: ActorId,
        staffing: Staffing,
        capacity: Option<usize>,
        shared: crate::agents::Shared,
        seed: u64,
    ) -> Self {
        Responder {
            org,
            me,
            seed,
            staffing,
            capacity,
            context: shared,
            timers: Timers::default(),
            queue: BTreeMap::new(),
            queued: BTreeMap::new(),
            busy: BTreeMap::new(),
            arrivals: 0,
            shift_timer: false,
        }
    }

    fn level(&self) -> Level {
        self.org.level()
    }

    /// The draws for one case at this organisation: a stream of its own per (seed,
    /// organisation, incident), so that a person's action on one case never shifts the
    /// draws of another (organisations are keyed by actor id in a stream space of their
    /// own).
    fn case_rng(&self, incident: u64) -> EntityRng {
        let key = rng::mix64(self.me.0 as u64) ^ incident;
        rng::stream(self.seed, u32::MAX - 1, Stream::Organization, key)
    }

    /// Cases waiting.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Cases being handled.
    #[cfg(test)]
    pub(crate) fn in_service(&self) -> usize {
        self.busy.len()
    }

    fn limit_hours(&self, s: Severity) -> Option<f64> {
        let p = self.context.params.severity(s);
        match self.level() {
            Level::Micro => Some(p.micro_limit_hours),
            Level::Street => Some(p.street_limit_hours),
            Level::District => None,
        }
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_>, mut rec: Box<IncidentRecord>) {
        if self.level() == Level::District {
            rec.department
                .get_or_insert(self.context.params.incident(rec.kind).department);
        }
        let limit = self.limit_hours(rec.severity).filter(|_| !rec.false_alarm);
        if limit.is_some_and(|l| l <= 0.0) {
            return self.escalate(ctx, rec, EscalationReason::Severity, None);
        }
        // The queue is full only for a case that would have to wait.
        let free = self.busy.len() < self.staffing.at(ctx.now, &self.context.calendar) as usize;
        if !free && self.capacity.is_some_and(|c| self.queue.len() >= c) && !rec.false_alarm {
            return self.escalate(ctx, rec, EscalationReason::QueueFull, None);
        }
        self.arrivals += 1;
        let arrival = self.arrivals;
        if let Some(l) = limit {
            self.timers
                .push(ctx.now + hours(l), Timer::Deadline(rec.id, arrival));
        }
        let key = (std::cmp::Reverse(rec.severity), arrival);
        self.queued.insert(rec.id, key);
        let case = Case {
            rec,
            arrival,
            taken: None,
            resolves: false,
        };
        self.queue.insert(key, case);
        self.start_work(ctx);
    }

    /// Free staff take waiting cases, most severe first.
    fn start_work(&mut self, ctx: &mut Ctx<'_>) {
        let on_duty = self.staffing.at(ctx.now, &self.context.calendar) as usize;
        while self.busy.len() < on_duty {
            let Some((_, case)) = self.queue.pop_first() else {
                break;
            };
            self.queued.remove(&case.rec.id);
            self.take_up(ctx, case);
        }
        if !self.queue.is_empty()
            && !self.shift_timer
            && let Some(t) = self.staffing.next_change(ctx.now, &self.context.calendar)
        {
            self.timers.push(t, Timer::Shift);
            self.shift_timer = true;
        }
    }

    /// Someone takes up a case: it is acknowledged (a department's crew reports), and
    /// its handling time and whether this level can resolve it are drawn.
    fn take_up(&mut self, ctx: &mut Ctx<'_>, mut case: Case) {
        let level = self.level();
        let rec = &mut case.rec;
        rec.acknowledged.get_or_insert(ctx.now);
        ctx.journal
            .incident(ctx.now, rec, Stage::Acknowledged { level });
        let params = &self.context.params;
        let p = params.incident(rec.kind);
        let (mean, resolve) = if rec.false_alarm {
            (params.staffing.false_alarm_check_hours, 1.0)
        } else {
            match level {
                Level::Micro => (p.micro_service_hours, p.micro_resolve),
                Level::Street => (p.street_service_hours, p.street_resolve),
                Level::District => (p.district_service_hours, 1.0),
            }
        };
        if level == Level::District {
            let hours_allowed = params.severity(rec.severity).department_report_hours;
            let deadline = rec.to_district.map(|e| e.at).unwrap_or(ctx.now) + hours(hours_allowed);
            let on_time = ctx.now <= deadline;
            rec.department_reported = Some(ctx.now);
            rec.department_on_time = Some(on_time);
            ctx.journal
                .incident(ctx.now, rec, Stage::DepartmentReported { on_time });
        }
        let mut draws = self.case_rng(rec.id);
        let done = ctx.now + hours(rng::exp(&mut draws, mean)).max(1);
        case.resolves = rng::chance(&mut draws, resolve);
        case.taken = Some(ctx.now);
        self.timers
            .push(done, Timer::Done(case.rec.id, case.arrival));
        self.busy.insert(case.rec.id, case);
    }

    /// Sends a case up a loop: from the micro-loop to the community's street office, from
    /// a street office to `department` (by default the one its kind calls for).
    fn escalate(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut rec: Box<IncidentRecord>,
        reason: EscalationReason,
        department: Option<Department>,
    ) {
        let esc = Some(Escalation {
            at: ctx.now,
            reason,
        });
        let latency = self.context.params.engine.dispatch_latency_secs;
        let arrives = ctx.arrival(latency);
        let dst = match self.level() {
            Level::Micro => {
                rec.to_street = esc;
                let c = &self.context.addresses.communities[rec.community as usize];
                let stage = Stage::Escalated {
                    reason,
                    street: c.street,
                    arrives,
                };
                ctx.journal.incident(ctx.now, &rec, stage);
                c.street_office
            }
            Level::Street => {
                rec.to_district = esc;
                let d = department.unwrap_or(self.context.params.incident(rec.kind).department);
                rec.department = Some(d);
                let stage = Stage::Whistled {
                    department: d,
                    reason,
                    arrives,
                };
                ctx.journal.incident(ctx.now, &rec, stage);
                self.context.addresses.department(d)
            }
            Level::District => unreachable!("the district level never escalates"),
        };
        ctx.send(dst, latency, Payload::Assign(rec));
    }

    #[allow(clippy::boxed_local)] // the box arrived in a message; unboxing would copy it
    fn close(&mut self, ctx: &mut Ctx<'_>, mut rec: Box<IncidentRecord>) {
        rec.closed = Some(ctx.now);
        rec.closed_level = Some(self.level());
        if !rec.false_alarm {
            let target =
                hours(self.context.params.severity(rec.severity).target_hours).max(1) as f64;
            let took = (ctx.now - rec.created).max(1) as f64;
            let score = if took <= target {
                1.0
            } else {
                (target / took) as f32
            };
            let host = self.context.addresses.communities[rec.community as usize].buildings
                [rec.building as usize];
            ctx.send(
                host,
                0,
                Payload::Outcome {
                    household: rec.household,
                    score,
                },
            );
        }
        ctx.journal.closed(ctx.now, *rec);
    }

    /// The case `id` if this organisation holds it, waiting or taken up.
    fn held(&self, id: u64) -> Option<&Case> {
        let waiting = self.queued.get(&id).and_then(|k| self.queue.get(k));
        waiting.or_else(|| self.busy.get(&id))
    }

    /// Removes a case wherever it is; says whether it was still waiting.
    fn take(&mut self, id: u64) -> Option<(Box<IncidentRecord>, bool)> {
        if let Some(key) = self.queued.remove(&id) {
            return self.queue.remove(&key).map(|c| (c.rec, true));
        }
        self.busy.remove(&id).map(|c| (c.rec, false))
    }

    /// A person here acts on case `incident`: applied through the same steps as this
    /// organisation's own decisions, or refused whole (nothing changes).
    fn act(&mut self, ctx: &mut Ctx<'_>, incident: u64, action: Action) -> Result<(), Refusal> {
        let by = self.org;
        action.fits_loop_of(incident, by)?;
        let Some(case) = self.held(incident) else {
            return Err(Refusal::NotHere { incident, by });
        };
        let (taken, community) = (case.taken, case.rec.community);
        match action {
            Action::Acknowledge | Action::Report => {
                if let Some(at) = taken {
                    return Err(Refusal::AlreadyTaken { incident, by, at });
                }
                let key = self.queued.remove(&incident).expect("waiting");
                let case = self.queue.remove(&key).expect("queued");
                self.take_up(ctx, case);
            }
            Action::Dispatch { to } => {
                if Organisation::handler(to, community) == by {
                    return Err(Refusal::SameHandler { incident, by });
                }
                let (rec, _) = self.take(incident).expect("held");
                let latency = self.context.params.engine.dispatch_latency_secs;
                let arrives = ctx.arrival(latency);
                ctx.journal
                    .incident(ctx.now, &rec, Stage::Dispatched { to, arrives });
                let dst = self.context.addresses.communities[community as usize].handler(to);
                ctx.send(dst, latency, Payload::Assign(rec));
            }
            Action::Escalate { reason } => {
                let (rec, _) = self.take(incident).expect("held");
                self.escalate(ctx, rec, reason, None);
            }
            Action::Whistle { department, reason } => {
                let (rec, _) = self.take(incident).expect("held");
                self.escalate(ctx, rec, reason, Some(department));
            }
            Action::Close => {
                if taken.is_none() {
                    let first = match self.level() {
                        Level::District => "report",
                        Level::Micro | Level::Street => "acknowledge",
                    };
                    let first = first.into();
                    return Err(Refusal::NotTaken {
                        incident,
                        by,
                        first,
                    });
                }
                let (rec, _) = self.take(incident).expect("held");
                self.close(ctx, rec);
            }
        }
        self.start_work(ctx);
        Ok(())
    }
}

impl Behaviour for Responder {
    type Timer = Timer;

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, _src: ActorId, payload: Payload) {
        match payload {
            Payload::Assign(rec) => self.arrive(ctx, rec),
            Payload::Inject(Inject::Act { incident, action }) => {
                if let Err(reason) = self.act(ctx, incident, action) {
                    ctx.refuse(Some(incident), reason);
                }
            }
            p @ (Payload::Inject(
                Inject::Incident { .. }
                | Inject::Device { .. }
                | Inject::Alarm { .. }
                | Inject::CommandOutcome { .. },
            )
            | Payload::Command { .. }
            | Payload::DeviceRepaired { .. }
            | Payload::Detected(_)
            | Payload::DeviceOffline { .. }
            | Payload::Outcome { .. }
            | Payload::FundingRequest { .. }
            | Payload::Funding { .. }
            | Payload::PlatformStatus { .. }
            | Payload::ServiceDemand(_)
            | Payload::ServiceOutcome { .. }) => ctx.unexpected(self.org.to_string(), &p),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Done(id, arrival) => {
                // A case escalated, dispatched or closed before its handling ended is no
                // longer here (or is here again, as a later arrival).
                if self.busy.get(&id).is_some_and(|c| c.arrival == arrival) {
                    let case = self.busy.remove(&id).expect("checked");
                    if case.resolves {
                        self.close(ctx, case.rec);
                    } else {
                        self.escalate(ctx, case.rec, EscalationReason::BeyondCapacity, None);
                    }
                }
                self.start_work(ctx);
            }
            Timer::Deadline(id, arrival) => {
                if self.held(id).is_some_and(|c| c.arrival == arrival)
                    && let Some((rec, waiting)) = self.take(id)
                {
                    let reason = if waiting {
                        EscalationReason::Unanswered
                    } else {
                        EscalationReason::TimeLimit
                    };
                    self.escalate(ctx, rec, reason, None);
                    self.start_work(ctx);
                }
            }
            Timer::Shift => {
                self.shift_timer = false;
                self.start_work(ctx);
            }
        }
    }

    fn finish(&mut self, _now: SimTime) -> Final {
        let mut open: Vec<IncidentRecord> = std::mem::take(&mut self.queue)
            .into_values()
            .chain(std::mem::take(&mut self.busy).into_values())
            .map(|c| *c.rec)
            .collect();
        self.queued.clear();
        open.sort_by_key(|r| r.id);
        Final {
            open,
            ..Final::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::testing::{envelope, incident, run};
    use crate::incident::Escalation;
    use civitas_twin::kinds::IncidentKind;
    use civitas_twin::time::{DAY, HOUR, MINUTE};

    /// A low-severity committee case (a neighbour dispute), and parameters under which
    /// nobody finishes handling one within a test: only arrivals, queues, shifts and
    /// deadlines happen.
    const KIND: IncidentKind = IncidentKind::NeighbourDispute;

    fn params() -> Parameters {
        let mut p = Parameters::default();
        let i = p.incidents.get_mut(&KIND).unwrap();
        i.micro_service_hours = 1e6;
        i.street_service_hours = 1e6;
        i.district_service_hours = 1e6;
        p
    }

    /// The organisation at `level` the test context's addresses give actor `me`: the
    /// committee of community 0, street office 0, or the department of the test's kind.
    fn responder(
        level: Level,
        me: ActorId,
        staffing: Staffing,
        capacity: Option<usize>,
        p: &Parameters,
    ) -> Responder {
        let org = match level {
            Level::Micro => Organisation::Committee { community: 0 },
            Level::Street => Organisation::StreetOffice { street: 0 },
            Level::District => Organisation::Department {
                department: p.incident(KIND).department,
            },
        };
        Responder::new(
            org,
            me,
            staffing,
            capacity,
            crate::agents::testing::context(p),
            1,
        )
    }

    fn assign(
        at: SimTime,
        seq: u64,
        to: ActorId,
        rec: Box<IncidentRecord>,
    ) -> crate::message::Envelope {
        envelope(at, ActorId(10), seq, to, Payload::Assign(rec))
    }

    #[test]
    fn a_full_queue_escalates_to_the_street_office_with_reason_queue_full() {
        let p = params();
        let committee = ActorId(11);
        let mut r = responder(Level::Micro, committee, Staffing::constant(1), Some(1), &p);
        let t = 10 * HOUR;
        let inbox = (1..=3)
            .map(|id| assign(t, id, committee, incident(id, KIND, &p, t - 60)))
            .collect();
        let out = run(&mut r, committee, inbox, t, t + 60);
        // One in hand, one waiting, the third finds the queue full.
        assert_eq!((r.in_service(), r.waiting()), (1, 1));
        assert_eq!(out.out.len(), 1);
        let e = &out.out[0];
        assert_eq!(e.dst, ActorId(13), "the community's street office");
        assert_eq!(e.at, t + p.engine.dispatch_latency_secs);
        let Payload::Assign(rec) = &e.payload else {
            panic!("expected an assignment, got {:?}", e.payload)
        };
        assert_eq!(rec.id, 3);
        assert_eq!(
            rec.to_street,
            Some(Escalation {
                at: t,
                reason: EscalationReason::QueueFull
            })
        );
        assert_eq!(rec.acknowledged, None);
    }

    #[test]
    fn staff_on_duty_changes_at_the_shift_boundary_and_waiting_cases_are_taken_then() {
        let p = params();
        let committee = ActorId(11);
        let shifts = Staffing::shifts(2, 1, &p);
        let day_start = p.staffing.day_start_hour as SimTime * HOUR;
        let midnight = Calendar::default();
        assert_eq!(shifts.at(day_start - 1, &midnight), 1);
        assert_eq!(shifts.at(day_start, &midnight), 2);
        assert_eq!(
            shifts.next_change(day_start - 2 * HOUR, &midnight),
            Some(day_start)
        );

        let mut r = responder(Level::Micro, committee, shifts, None, &p);
        let t = day_start - 2 * HOUR;
        let inbox = (1..=3)
            .map(|id| assign(t, id, committee, incident(id, KIND, &p, t)))
            .collect();
        run(&mut r, committee, inbox, t, day_start);
        assert_eq!(
            (r.in_service(), r.waiting()),
            (1, 2),
            "one on the night shift"
        );
        run(&mut r, committee, Vec::new(), day_start, day_start + HOUR);
        assert_eq!(
            (r.in_service(), r.waiting()),
            (2, 1),
            "two on the day shift"
        );
        assert_eq!(r.busy[&1].rec.acknowledged, Some(t));
        assert_eq!(r.busy[&2].rec.acknowledged, Some(day_start));
    }

    #[test]
    fn a_run_started_at_14_37_local_staffs_the_day_shift_from_the_start() {
        let shifts = Staffing {
            day: 3,
            night: 1,
            day_start: 8,
            day_end: 20,
        };
        let afternoon = Calendar::new("2026-12-02T14:37", "Asia/Shanghai").unwrap();
        assert_eq!(shifts.at(0, &afternoon), 3);
        // The night shift comes at 20:00 local, 5 h 23 min in.
        let night = 5 * HOUR + 23 * MINUTE;
        assert_eq!(shifts.next_change(0, &afternoon), Some(night));
        assert_eq!(shifts.at(night - 1, &afternoon), 3);
        assert_eq!(shifts.at(night, &afternoon), 1);
        // A run started at midnight begins on the night shift.
        assert_eq!(shifts.at(0, &Calendar::default()), 1);
    }

    #[test]
    fn a_street_office_past_its_time_limit_whistles_to_the_kinds_department() {
        let mut p = params();
        p.severity
            .get_mut(&Severity::Low)
            .unwrap()
            .street_limit_hours = 2.0;
        let street = ActorId(13);
        let mut r = responder(Level::Street, street, Staffing::constant(1), None, &p);
        let t = 10 * HOUR;
        let inbox = vec![assign(t, 1, street, incident(1, KIND, &p, t))];
        let out = run(&mut r, street, inbox, t, t + 3 * HOUR);
        assert_eq!(out.out.len(), 1);
        let e = &out.out[0];
        let department = p.incident(KIND).department;
        assert_eq!(e.dst, ActorId(20 + department.index() as u32));
        assert_eq!(e.at, t + 2 * HOUR + p.engine.dispatch_latency_secs);
        let Payload::Assign(rec) = &e.payload else {
            panic!("expected an assignment, got {:?}", e.payload)
        };
        assert_eq!(rec.department, Some(department));
        assert_eq!(
            rec.to_district,
            Some(Escalation {
                at: t + 2 * HOUR,
                reason: EscalationReason::TimeLimit
            })
        );
    }

    /// A case whistled at `whistled` to a department on duty by `staffing`, which must
    /// report within `report_hours`; the department after a day.
    fn whistle(
        whistled: SimTime,
        staffing: Staffing,
        report_hours: f64,
    ) -> (Responder, Parameters) {
        let mut p = params();
        p.severity
            .get_mut(&Severity::Low)
            .unwrap()
            .department_report_hours = report_hours;
        let department = p.incident(KIND).department;
        let me = ActorId(20 + department.index() as u32);
        let mut r = responder(Level::District, me, staffing, None, &p);
        let mut rec = incident(1, KIND, &p, whistled - HOUR);
        rec.to_district = Some(Escalation {
            at: whistled,
            reason: EscalationReason::BeyondCapacity,
        });
        rec.department = Some(department);
        let arrives = whistled + p.engine.dispatch_latency_secs;
        run(
            &mut r,
            me,
            vec![assign(arrives, 1, me, rec)],
            arrives,
            whistled + DAY,
        );
        (r, p)
    }

    #[test]
    fn a_department_with_a_crew_free_reports_on_arrival_within_its_deadline() {
        let t = 10 * HOUR;
        let (r, p) = whistle(t, Staffing::constant(1), 0.5);
        let rec = &r.busy[&1].rec;
        assert_eq!(
            rec.department_reported,
            Some(t + p.engine.dispatch_latency_secs)
        );
        assert_eq!(rec.department_on_time, Some(true));
        assert_eq!(rec.closed, None);
    }

    #[test]
    fn a_department_whose_crew_comes_on_duty_after_the_deadline_reports_late() {
        // Whistled at 02:00; the only crew starts at 08:00.
        let day_only = Staffing {
            day: 1,
            night: 0,
            day_start: 8,
            day_end: 20,
        };
        for (report_hours, on_time) in [(4.0, false), (6.0, true)] {
            let (r, _) = whistle(2 * HOUR, day_only, report_hours);
            let rec = &r.busy[&1].rec;
            assert_eq!(rec.department_reported, Some(8 * HOUR));
            assert_eq!(
                rec.department_on_time,
                Some(on_time),
                "reported 6 h after the whistle, due within {report_hours} h"
            );
        }
    }

    fn act(at: SimTime, to: ActorId, incident: u64, action: Action) -> crate::message::Envelope {
        envelope(
            at,
            ActorId(99),
            at,
            to,
            Payload::Inject(Inject::Act { incident, action }),
        )
    }

    /// The refusals recorded in a step's journal.
    fn refusals(out: &crate::agents::StepOutput) -> Vec<String> {
        out.journal
            .events
            .iter()
            .filter_map(|e| match e {
                crate::observe::Event::Refused { reason, .. } => Some(reason.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_person_acknowledging_a_waiting_case_does_what_a_free_staff_member_does() {
        let mut p = params();
        p.incidents.get_mut(&KIND).unwrap().micro_service_hours = 2.0;
        let committee = ActorId(11);
        let t = 10 * HOUR;
        // A committee with one on duty takes the case as it arrives…
        let mut staffed = responder(Level::Micro, committee, Staffing::constant(1), None, &p);
        run(
            &mut staffed,
            committee,
            vec![assign(t, 1, committee, incident(1, KIND, &p, t))],
            t,
            t + 1,
        );
        // …and one with nobody on duty keeps it waiting until a person acknowledges it.
        let mut manned = responder(Level::Micro, committee, Staffing::constant(0), None, &p);
        let inbox = vec![
            assign(t, 1, committee, incident(1, KIND, &p, t)),
            act(t, committee, 1, Action::Acknowledge),
        ];
        let out = run(&mut manned, committee, inbox, t, t + 1);
        assert!(refusals(&out).is_empty(), "{:?}", refusals(&out));
        assert_eq!((manned.in_service(), manned.waiting()), (1, 0));
        assert_eq!(manned.busy[&1].rec.acknowledged, Some(t));
        // The same draws: the handling ends at the same time, with the same outcome.
        assert_eq!(manned.timers.next_at(), staffed.timers.next_at());
        assert_eq!(manned.busy[&1].resolves, staffed.busy[&1].resolves);
    }

    #[test]
    fn actions_that_do_not_fit_the_case_are_refused_with_a_reason_and_change_nothing() {
        let p = params();
        let committee = ActorId(11);
        let t = 10 * HOUR;
        // Case 1 in hand, case 2 waiting.
        let mut r = responder(Level::Micro, committee, Staffing::constant(1), None, &p);
        let arrivals = (1..=2)
            .map(|id| assign(t, id, committee, incident(id, KIND, &p, t)))
            .collect();
        run(&mut r, committee, arrivals, t, t + 1);
        let by = "the residents committee of community 0";
        for (incident, action, reason) in [
            (
                9,
                Action::Close,
                format!(
                    "incident 9 is not held by {by} (escalated, dispatched or closed since, or never sent there)"
                ),
            ),
            (
                1,
                Action::Acknowledge,
                format!("incident 1 was taken up by {by} at simulated second {t} already"),
            ),
            (
                2,
                Action::Close,
                format!("incident 2 is still waiting at {by}: acknowledge it before closing it"),
            ),
            (
                2,
                Action::Report,
                format!(
                    "{by} cannot report incident 2: only a department reports; the micro-loop and the street office acknowledge (`acknowledge`)"
                ),
            ),
            (
                2,
                Action::Whistle {
                    department: Department::Health,
                    reason: EscalationReason::Severity,
                },
                format!(
                    "{by} cannot whistle incident 2: only a street office whistles; the micro-loop escalates to it (`escalate`)"
                ),
            ),
            (
                1,
                Action::Dispatch {
                    to: civitas_twin::kinds::Handler::Committee,
                },
                format!("incident 1 is held by {by} already"),
            ),
        ] {
            let at = t + 60;
            let out = run(
                &mut r,
                committee,
                vec![act(at, committee, incident, action)],
                at,
                at + 1,
            );
            assert_eq!(refusals(&out), vec![reason]);
            assert!(out.out.is_empty(), "nothing sent: {:?}", out.out);
            assert_eq!((r.in_service(), r.waiting()), (1, 1), "nothing changed");
            assert_eq!(r.busy[&1].taken, Some(t));
        }
    }

    #[test]
    fn a_person_dispatches_escalates_and_whistles_through_the_organisations_own_steps() {
        let p = params();
        let (committee, street) = (ActorId(11), ActorId(13));
        let t = 10 * HOUR;
        let latency = p.engine.dispatch_latency_secs;
        let mut r = responder(Level::Micro, committee, Staffing::constant(1), None, &p);
        let arrivals = (1..=2)
            .map(|id| assign(t, id, committee, incident(id, KIND, &p, t)))
            .collect();
        run(&mut r, committee, arrivals, t, t + 1);
        let inbox = vec![
            act(
                t + 60,
                committee,
                1,
                Action::Dispatch {
                    to: civitas_twin::kinds::Handler::PropertyFirm,
                },
            ),
            act(
                t + 120,
                committee,
                2,
                Action::Escalate {
                    reason: EscalationReason::BeyondCapacity,
                },
            ),
        ];
        let out = run(&mut r, committee, inbox, t + 60, t + 121);
        let sent: Vec<(ActorId, SimTime, u64)> = out
            .out
            .iter()
            .map(|e| match &e.payload {
                Payload::Assign(rec) => (e.dst, e.at, rec.id),
                other => panic!("expected an assignment, got {other:?}"),
            })
            .collect();
        // Case 1 to the property firm; case 2, taken up when 1 left, to the street office.
        assert_eq!(
            sent,
            vec![
                (ActorId(12), t + 60 + latency, 1),
                (street, t + 120 + latency, 2)
            ]
        );
        assert_eq!((r.in_service(), r.waiting()), (0, 0));
        let Payload::Assign(rec) = &out.out[1].payload else {
            unreachable!()
        };
        assert_eq!(rec.acknowledged, Some(t + 60), "taken up when case 1 left");
        assert_eq!(
            rec.to_street,
            Some(Escalation {
                at: t + 120,
                reason: EscalationReason::BeyondCapacity
            })
        );
        // The street office whistles the department the person names.
        let mut s = responder(Level::Street, street, Staffing::constant(1), None, &p);
        let case = rec.clone();
        let at = t + 120 + latency;
        let whistle = Action::Whistle {
            department: Department::FireRescue,
            reason: EscalationReason::Severity,
        };
        let inbox = vec![
            envelope(at, committee, 1, street, Payload::Assign(case)),
            act(at + 60, street, 2, whistle),
        ];
        let out = run(&mut s, street, inbox, at, at + 61);
        assert_eq!(out.out.len(), 1);
        assert_eq!(
            out.out[0].dst,
            ActorId(20 + Department::FireRescue.index() as u32)
        );
        let Payload::Assign(rec) = &out.out[0].payload else {
            unreachable!()
        };
        assert_eq!(rec.department, Some(Department::FireRescue));
    }

    #[test]
    fn a_message_a_responder_has_no_use_for_is_refused_and_counted_not_dropped() {
        let p = params();
        let committee = ActorId(11);
        let mut r = responder(Level::Micro, committee, Staffing::constant(1), None, &p);
        let stray = envelope(
            HOUR,
            ActorId(10),
            1,
            committee,
            Payload::DeviceRepaired {
                device: 3,
                replaced: false,
            },
        );
        let out = run(&mut r, committee, vec![stray], HOUR, HOUR + 1);
        assert_eq!(
            refusals(&out),
            vec!["the residents committee of community 0 has no use for a device_repaired message"]
        );
    }
}
