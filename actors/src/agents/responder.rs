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

use super::{Behaviour, Ctx, Final};
use crate::incident::{Escalation, EscalationReason, IncidentRecord};
use crate::message::{ActorId, Payload};
use crate::observe::Stage;
use crate::timers::Timers;
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::{Level, Severity};
use civitas_twin::params::Parameters;
use civitas_twin::rng::{self, EntityRng, Stream};
use civitas_twin::time::{SimTime, hours};
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
    /// Handling of this incident ends.
    Done(u64),
    /// This incident's time limit at this level passes.
    Deadline(u64),
    /// Staff on duty may have changed.
    Shift,
}

#[derive(Serialize, Deserialize)]
struct Case {
    rec: Box<IncidentRecord>,
}

/// Queue key: most severe first, then arrival order.
type QueueKey = (std::cmp::Reverse<Severity>, u64);

/// One incident-handling organization.
#[derive(Serialize, Deserialize)]
pub(crate) struct Responder {
    level: Level,
    staffing: Staffing,
    capacity: Option<usize>,
    /// The run's parameters, calendar and addresses (not state; see [`crate::agents::Shared`]).
    #[serde(skip, default = "crate::agents::Shared::detached")]
    pub(crate) context: crate::agents::Shared,
    rng: EntityRng,
    timers: Timers<Timer>,
    queue: BTreeMap<QueueKey, Case>,
    queued: BTreeMap<u64, QueueKey>,
    busy: BTreeMap<u64, Case>,
    arrivals: u64,
    shift_timer: bool,
}

impl Responder {
    /// A responder at `level`, acting as actor `me`.
    // Its own configuration plus the run's shared context (parameters, calendar…).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        level: Level,
        me: ActorId,
        staffing: Staffing,
        capacity: Option<usize>,
        shared: crate::agents::Shared,
        seed: u64,
    ) -> Self {
        Responder {
            level,
            staffing,
            capacity,
            context: shared,
            // Organizations are keyed by actor id in a stream space of their own.
            rng: rng::stream(seed, u32::MAX - 1, Stream::Organization, me.0 as u64),
            timers: Timers::default(),
            queue: BTreeMap::new(),
            queued: BTreeMap::new(),
            busy: BTreeMap::new(),
            arrivals: 0,
            shift_timer: false,
        }
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
        match self.level {
            Level::Micro => Some(p.micro_limit_hours),
            Level::Street => Some(p.street_limit_hours),
            Level::District => None,
        }
    }

    fn arrive(&mut self, ctx: &mut Ctx<'_>, mut rec: Box<IncidentRecord>) {
        if self.level == Level::District {
            rec.department
                .get_or_insert(self.context.params.incident(rec.kind).department);
        }
        let limit = self.limit_hours(rec.severity).filter(|_| !rec.false_alarm);
        if limit.is_some_and(|l| l <= 0.0) {
            return self.escalate(ctx, rec, EscalationReason::Severity);
        }
        // The queue is full only for a case that would have to wait.
        let free = self.busy.len() < self.staffing.at(ctx.now, &self.context.calendar) as usize;
        if !free && self.capacity.is_some_and(|c| self.queue.len() >= c) && !rec.false_alarm {
            return self.escalate(ctx, rec, EscalationReason::QueueFull);
        }
        if let Some(l) = limit {
            self.timers
                .push(ctx.now + hours(l), Timer::Deadline(rec.id));
        }
        self.arrivals += 1;
        let key = (std::cmp::Reverse(rec.severity), self.arrivals);
        self.queued.insert(rec.id, key);
        self.queue.insert(key, Case { rec });
        self.start_work(ctx);
    }

    fn start_work(&mut self, ctx: &mut Ctx<'_>) {
        let on_duty = self.staffing.at(ctx.now, &self.context.calendar) as usize;
        while self.busy.len() < on_duty {
            let Some((_, mut case)) = self.queue.pop_first() else {
                break;
            };
            self.queued.remove(&case.rec.id);
            let rec = &mut case.rec;
            rec.acknowledged.get_or_insert(ctx.now);
            let level = self.level;
            ctx.journal
                .incident(ctx.now, rec, Stage::Acknowledged { level });
            let p = self.context.params.incident(rec.kind);
            let mean = if rec.false_alarm {
                self.context.params.staffing.false_alarm_check_hours
            } else {
                match self.level {
                    Level::Micro => p.micro_service_hours,
                    Level::Street => p.street_service_hours,
                    Level::District => p.district_service_hours,
                }
            };
            if self.level == Level::District {
                rec.department_reported = Some(ctx.now);
                let deadline = rec.to_district.map(|e| e.at).unwrap_or(ctx.now)
                    + hours(
                        self.context
                            .params
                            .severity(rec.severity)
                            .department_report_hours,
                    );
                rec.department_on_time = Some(ctx.now <= deadline);
                let on_time = ctx.now <= deadline;
                ctx.journal
                    .incident(ctx.now, rec, Stage::DepartmentReported { on_time });
            }
            let done = ctx.now + hours(rng::exp(&mut self.rng, mean)).max(1);
            self.timers.push(done, Timer::Done(rec.id));
            self.busy.insert(rec.id, case);
        }
        if !self.queue.is_empty()
            && !self.shift_timer
            && let Some(t) = self.staffing.next_change(ctx.now, &self.context.calendar)
        {
            self.timers.push(t, Timer::Shift);
            self.shift_timer = true;
        }
    }

    fn escalate(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut rec: Box<IncidentRecord>,
        reason: EscalationReason,
    ) {
        let esc = Some(Escalation {
            at: ctx.now,
            reason,
        });
        let dst = match self.level {
            Level::Micro => {
                rec.to_street = esc;
                ctx.journal
                    .incident(ctx.now, &rec, Stage::Escalated { reason });
                self.context.addresses.communities[rec.community as usize].street_office
            }
            Level::Street => {
                rec.to_district = esc;
                let d = self.context.params.incident(rec.kind).department;
                rec.department = Some(d);
                let stage = Stage::Whistled {
                    department: d,
                    reason,
                };
                ctx.journal.incident(ctx.now, &rec, stage);
                self.context.addresses.department(d)
            }
            Level::District => unreachable!("the district level never escalates"),
        };
        ctx.send(
            dst,
            self.context.params.engine.dispatch_latency_secs,
            Payload::Assign(rec),
        );
    }

    #[allow(clippy::boxed_local)] // the box arrived in a message; unboxing would copy it
    fn close(&mut self, ctx: &mut Ctx<'_>, mut rec: Box<IncidentRecord>) {
        rec.closed = Some(ctx.now);
        rec.closed_level = Some(self.level);
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

    /// Removes a case wherever it is; says whether it was still waiting.
    fn take(&mut self, id: u64) -> Option<(Box<IncidentRecord>, bool)> {
        if let Some(key) = self.queued.remove(&id) {
            return self.queue.remove(&key).map(|c| (c.rec, true));
        }
        self.busy.remove(&id).map(|c| (c.rec, false))
    }
}

impl Behaviour for Responder {
    type Timer = Timer;

    fn timers(&mut self) -> &mut Timers<Timer> {
        &mut self.timers
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, _src: ActorId, payload: Payload) {
        if let Payload::Assign(rec) = payload {
            self.arrive(ctx, rec);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: Timer) {
        match timer {
            Timer::Done(id) => {
                // A case escalated by its deadline while in service is no longer here.
                if let Some(case) = self.busy.remove(&id) {
                    let rec = case.rec;
                    let p = self.context.params.incident(rec.kind);
                    let resolve = match self.level {
                        _ if rec.false_alarm => 1.0,
                        Level::Micro => p.micro_resolve,
                        Level::Street => p.street_resolve,
                        Level::District => 1.0,
                    };
                    if rng::chance(&mut self.rng, resolve) {
                        self.close(ctx, rec);
                    } else {
                        self.escalate(ctx, rec, EscalationReason::BeyondCapacity);
                    }
                }
                self.start_work(ctx);
            }
            Timer::Deadline(id) => {
                if let Some((rec, waiting)) = self.take(id) {
                    let reason = if waiting {
                        EscalationReason::Unanswered
                    } else {
                        EscalationReason::TimeLimit
                    };
                    self.escalate(ctx, rec, reason);
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

    fn responder(
        level: Level,
        me: ActorId,
        staffing: Staffing,
        capacity: Option<usize>,
        p: &Parameters,
    ) -> Responder {
        Responder::new(
            level,
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
}
