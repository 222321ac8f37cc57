//! `civitas run --live`'s operator prompt: a person plays the organisations from the
//! terminal, one command a line on stdin — list the open incidents, acknowledge, report,
//! dispatch, escalate, whistle, close — each sent to the engine as an action "now" by
//! the organisation holding the case, and answered on stdout with what was accepted or
//! why it was refused. The actors carry on from there; the actions go into the run's
//! `injects.jsonl`, so a replay reproduces them.

use civitas_actors::{
    Action, Address, EngineHandle, EscalationReason, Holdings, Inject, Organisation, When,
};
use civitas_twin::calendar::Calendar;
use civitas_twin::kinds::{Department, Handler, IncidentKind};
use civitas_twin::time::SimTime;
use std::io::BufRead;

/// The source name the prompt's actions carry in the inject log.
pub(super) const SOURCE: &str = "operator";

/// What the prompt understands, for `help` and for an unknown command.
pub(super) const HELP: &str = "commands: list | ack ID | report ID | close ID | dispatch ID committee|property_firm | escalate ID [REASON] | whistle ID [DEPARTMENT] [REASON] | stop | help
  ID: an incident's id, or the last digits of one that is open; REASON: severity, time_limit, unanswered, queue_full, beyond_capacity (default); DEPARTMENT: the incident kind's own by default";

/// One line from the operator, understood.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Command {
    /// Nothing (an empty line).
    Nothing,
    /// Print the help.
    Help,
    /// Print the open incidents.
    List,
    /// Act on an incident, as the organisation holding it.
    Act { incident: u64, action: Action },
    /// Stop the run (as Ctrl-C, without the checkpoint).
    Stop,
}

/// Reads one line against the open incidents; an error says what is wrong and what was
/// expected. `department_of` gives an incident kind's own department (whistle's default).
pub(super) fn parse(
    line: &str,
    holdings: &Holdings,
    department_of: &dyn Fn(IncidentKind) -> Department,
) -> Result<Command, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Ok(Command::Nothing);
    };
    let arity = |min: usize, max: usize, usage: &str| {
        if args.len() < min || args.len() > max {
            Err(format!("usage: {usage}"))
        } else {
            Ok(())
        }
    };
    let incident = || find(args[0], holdings);
    let reason = |i: usize| match args.get(i) {
        None => Ok(EscalationReason::BeyondCapacity),
        Some(r) => escalation_reason(r),
    };
    let act = |incident: u64, action: Action| Ok(Command::Act { incident, action });
    match verb {
        "help" | "?" => Ok(Command::Help),
        "list" | "ls" => arity(0, 0, "list").map(|()| Command::List),
        "stop" | "quit" => arity(0, 0, "stop").map(|()| Command::Stop),
        "ack" | "acknowledge" => {
            arity(1, 1, "ack ID")?;
            act(incident()?, Action::Acknowledge)
        }
        "report" => {
            arity(1, 1, "report ID")?;
            act(incident()?, Action::Report)
        }
        "close" => {
            arity(1, 1, "close ID")?;
            act(incident()?, Action::Close)
        }
        "dispatch" => {
            arity(2, 2, "dispatch ID committee|property_firm")?;
            let to = match args[1] {
                "committee" => Handler::Committee,
                "property_firm" => Handler::PropertyFirm,
                other => {
                    return Err(format!(
                        "no organisation `{other}` to dispatch to; expected committee or property_firm"
                    ));
                }
            };
            act(incident()?, Action::Dispatch { to })
        }
        "escalate" => {
            arity(1, 2, "escalate ID [REASON]")?;
            let reason = reason(1)?;
            act(incident()?, Action::Escalate { reason })
        }
        "whistle" => {
            arity(1, 3, "whistle ID [DEPARTMENT] [REASON]")?;
            let id = incident()?;
            // A second word is a department if it names one, else the reason.
            let named = args.get(1).and_then(|w| Department::parse(w));
            // (A closed incident's whistle is refused by the engine, whatever the department.)
            let own = holdings.open.get(&id).map(|h| department_of(h.kind));
            let department = named.or(own).unwrap_or(Department::ALL[0]);
            if named.is_none() && args.len() == 3 {
                return Err(format!(
                    "no department `{}`; expected one of: {}",
                    args[1],
                    names(Department::ALL.iter().map(|d| d.as_str()))
                ));
            }
            let reason = reason(if named.is_some() { 2 } else { 1 })?;
            act(id, Action::Whistle { department, reason })
        }
        other => Err(format!("unknown command `{other}`: `help` lists them")),
    }
}

/// Items joined by commas, for a message.
fn names<T: std::fmt::Display>(it: impl Iterator<Item = T>) -> String {
    it.map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

fn escalation_reason(word: &str) -> Result<EscalationReason, String> {
    const ALL: [EscalationReason; 5] = [
        EscalationReason::Severity,
        EscalationReason::TimeLimit,
        EscalationReason::Unanswered,
        EscalationReason::QueueFull,
        EscalationReason::BeyondCapacity,
    ];
    ALL.into_iter().find(|r| r.as_str() == word).ok_or_else(|| {
        format!(
            "no reason `{word}`; expected one of: {}",
            names(ALL.iter().map(|r| r.as_str()))
        )
    })
}

/// An open incident by its id or the last digits of its id (`#` allowed in front).
fn find(word: &str, holdings: &Holdings) -> Result<u64, String> {
    let digits = word.trim_start_matches('#');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{word}` is not an incident id (digits, as listed)"
        ));
    }
    if let Ok(id) = digits.parse::<u64>()
        && (holdings.open.contains_key(&id) || holdings.closed.contains_key(&id))
    {
        return Ok(id);
    }
    let matching: Vec<u64> = holdings
        .open
        .keys()
        .copied()
        .filter(|id| id.to_string().ends_with(digits))
        .collect();
    match matching.as_slice() {
        [id] => Ok(*id),
        [] => Err(format!(
            "no open incident's id ends in {digits} (`list` shows them)"
        )),
        many => Err(format!(
            "{} open incidents' ids end in {digits} ({}): type more digits",
            many.len(),
            names(many.iter())
        )),
    }
}

/// The open incidents, one a line: id, kind, building, who holds it since when, and
/// whether it was taken up.
pub(super) fn list(holdings: &Holdings, calendar: &Calendar) -> String {
    let time = |t: SimTime| calendar.datetime(t).strftime("%H:%M:%S").to_string();
    let mut out = format!("open incidents: {}", holdings.open.len());
    for (id, h) in &holdings.open {
        let holder = h
            .holder
            .map_or("not dispatched yet".to_string(), |o| o.to_string());
        let state = match h.taken {
            Some(t) => format!("taken up {}", time(t)),
            None if h.arrives > holdings.as_of => {
                format!("on its way, arrives {}", time(h.arrives))
            }
            None => "waiting".to_string(),
        };
        out.push_str(&format!(
            "\n  #{id:<15} {:<19} building {:<4} {holder}, since {} ({state})",
            h.kind.as_str(),
            h.building,
            time(h.since)
        ));
    }
    out
}

/// Reads commands from stdin until it closes or the run ends, acting through `handle`.
/// stdin is read on a thread of its own: a read blocked on a terminal must not keep the
/// run's runtime from shutting down when the run ends.
pub(super) fn spawn(
    handle: EngineHandle,
    calendar: Calendar,
    department_of: Box<dyn Fn(IncidentKind) -> Department + Send>,
) {
    let (tx, mut lines) = tokio::sync::mpsc::channel::<String>(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            let Ok(holdings) = handle.holdings().await else {
                break;
            };
            let answer = match parse(&line, &holdings, &*department_of) {
                Err(e) => e,
                Ok(Command::Nothing) => continue,
                Ok(Command::Help) => HELP.to_string(),
                Ok(Command::List) => list(&holdings, &calendar),
                Ok(Command::Stop) => {
                    let _ = handle.stop().await;
                    "stopping".to_string()
                }
                Ok(Command::Act { incident, action }) => {
                    act(&handle, &holdings, &calendar, incident, action).await
                }
            };
            println!("operator: {}", answer.replace('\n', "\noperator: "));
        }
    });
}

/// Sends one action as the organisation holding the case; says what became of it.
async fn act(
    handle: &EngineHandle,
    holdings: &Holdings,
    calendar: &Calendar,
    incident: u64,
    action: Action,
) -> String {
    // The holder acts; an unknown or closed incident goes to the committee of community
    // 0 only to be refused with its reason.
    let by = match holdings.open.get(&incident) {
        Some(h) => match h.holder {
            Some(holder) => holder,
            None => {
                return format!(
                    "incident #{incident} has not been dispatched yet (the platform routes it within a window): try again in a moment"
                );
            }
        },
        None => Organisation::Committee { community: 0 },
    };
    let to: Address = by.into();
    match handle
        .inject(SOURCE, When::Now, to, Inject::Act { incident, action })
        .await
    {
        Ok(at) => format!(
            "{} #{incident} by {by}, at {}",
            action.as_str(),
            calendar.datetime(at).strftime("%Y-%m-%d %H:%M:%S")
        ),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use civitas_twin::vocab::action::Holding;

    fn holdings() -> Holdings {
        let mut h = Holdings::default();
        for (id, holder) in [
            (
                13_194_139_533_313,
                Some(Organisation::Committee { community: 0 }),
            ),
            (7_696_581_394_433, None),
            (
                29_686_813_949_913,
                Some(Organisation::StreetOffice { street: 0 }),
            ),
        ] {
            h.open.insert(
                id,
                Holding {
                    kind: IncidentKind::GarbageOverflow,
                    community: 0,
                    building: 3,
                    detected: 60,
                    holder,
                    since: 120,
                    arrives: 180,
                    taken: None,
                },
            );
        }
        h.closed.insert(5, 600);
        h.as_of = 660;
        h
    }

    fn read(line: &str) -> Result<Command, String> {
        parse(line, &holdings(), &|_| Department::UrbanManagement)
    }

    #[test]
    fn commands_name_incidents_by_id_or_their_last_digits() {
        let act = |incident, action| Ok(Command::Act { incident, action });
        assert_eq!(read("  "), Ok(Command::Nothing));
        assert_eq!(read("ls"), Ok(Command::List));
        assert_eq!(
            read("ack 3313"),
            act(13_194_139_533_313, Action::Acknowledge)
        );
        assert_eq!(
            read("close #7696581394433"),
            act(7_696_581_394_433, Action::Close)
        );
        assert_eq!(
            read("report 5"),
            act(5, Action::Report),
            "a closed id, in full"
        );
        assert_eq!(
            read("escalate 3313"),
            act(
                13_194_139_533_313,
                Action::Escalate {
                    reason: EscalationReason::BeyondCapacity
                }
            )
        );
        assert_eq!(
            read("whistle 9913 fire_rescue severity"),
            act(
                29_686_813_949_913,
                Action::Whistle {
                    department: Department::FireRescue,
                    reason: EscalationReason::Severity
                }
            )
        );
        assert_eq!(
            read("whistle 9913 time_limit"),
            act(
                29_686_813_949_913,
                Action::Whistle {
                    department: Department::UrbanManagement,
                    reason: EscalationReason::TimeLimit
                }
            ),
            "the kind's own department by default"
        );
        assert_eq!(
            read("dispatch 3313 property_firm"),
            act(
                13_194_139_533_313,
                Action::Dispatch {
                    to: Handler::PropertyFirm
                }
            )
        );
    }

    #[test]
    fn a_line_the_prompt_cannot_read_says_what_it_expected() {
        for (line, error) in [
            ("ack", "usage: ack ID"),
            ("ack 1 2", "usage: ack ID"),
            ("ack abc", "`abc` is not an incident id (digits, as listed)"),
            (
                "ack 999",
                "no open incident's id ends in 999 (`list` shows them)",
            ),
            (
                "ack 13",
                "2 open incidents' ids end in 13 (13194139533313, 29686813949913): type more digits",
            ),
            (
                "dispatch 3313 street",
                "no organisation `street` to dispatch to; expected committee or property_firm",
            ),
            (
                "escalate 3313 bored",
                "no reason `bored`; expected one of: severity, time_limit, unanswered, queue_full, beyond_capacity",
            ),
            (
                "whistle 9913 army severity",
                "no department `army`; expected one of: public_security, fire_rescue, civil_affairs, urban_management, housing, health",
            ),
            ("list all", "usage: list"),
        ] {
            assert_eq!(read(line), Err(error.to_string()), "{line}");
        }
        assert_eq!(
            read("fly 1"),
            Err("unknown command `fly`: `help` lists them".into())
        );
    }

    #[test]
    fn the_list_says_who_holds_each_case_and_since_when() {
        let text = list(&holdings(), &Calendar::default());
        assert!(text.starts_with("open incidents: 3\n"), "{text}");
        assert!(
            text.contains(
                "#13194139533313  garbage_overflow    building 3    the residents committee of community 0, since 00:02:00 (waiting)"
            ),
            "{text}"
        );
        assert!(text.contains("not dispatched yet"), "{text}");
        let mut early = holdings();
        early.as_of = 150;
        let text = list(&early, &Calendar::default());
        assert!(
            text.contains("since 00:02:00 (on its way, arrives 00:03:00)"),
            "{text}"
        );
    }
}
