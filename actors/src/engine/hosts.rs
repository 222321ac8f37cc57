//! The hosts: one ractor actor per behaviour, stepped by the engine one window at a time,
//! and the supervisor that reports a host that stops outside a window, so the engine
//! never waits for a reply that will not come.

use crate::agents::{Agent, Final};
use crate::message::ActorId;
use crate::protocol::{ReplySink, StepFailure, StepReply, StepRequest};
use civitas_twin::time::SimTime;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

pub(crate) enum HostMsg {
    Step(StepRequest),
    Finish {
        now: SimTime,
        reply: RpcReplyPort<Final>,
    },
    Snapshot {
        reply: RpcReplyPort<Result<Vec<u8>, String>>,
    },
}

#[cfg(feature = "cluster")]
impl ractor::Message for HostMsg {}

pub(super) struct Host;

pub(super) struct HostState {
    pub(super) id: ActorId,
    pub(super) agent: Agent,
    pub(super) seq: u64,
    pub(super) replies: Arc<dyn ReplySink>,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

impl Actor for Host {
    type Msg = HostMsg;
    type State = HostState;
    type Arguments = HostState;

    async fn pre_start(
        &self,
        _me: ActorRef<HostMsg>,
        args: HostState,
    ) -> Result<HostState, ActorProcessingErr> {
        Ok(args)
    }

    async fn handle(
        &self,
        _me: ActorRef<HostMsg>,
        msg: HostMsg,
        st: &mut HostState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            HostMsg::Step(req) => {
                let (id, agent, seq) = (st.id, &mut st.agent, &mut st.seq);
                let StepRequest { start, end, inbox } = req;
                // A panic in a behaviour is a bug; report it instead of hanging the run.
                let result =
                    std::panic::catch_unwind(AssertUnwindSafe(|| agent.step(id, seq, end, inbox)))
                        .map_err(|p| StepFailure::Panicked(panic_message(p)));
                // The engine may have gone (run aborted); nothing to do then.
                st.replies.send(StepReply {
                    actor: id,
                    start,
                    result,
                });
            }
            HostMsg::Finish { now, reply } => {
                let _ = reply.send(st.agent.finish(now));
            }
            HostMsg::Snapshot { reply } => {
                let bytes = postcard::to_stdvec(&(st.seq, &st.agent)).map_err(|e| e.to_string());
                let _ = reply.send(bytes);
            }
        }
        Ok(())
    }
}

/// Watches the hosts: a host that stops outside a window's handling (or dies in a way
/// the host itself could not catch) is reported to the engine as a failed reply, so the
/// engine never waits for an answer that will not come.
pub(super) struct Supervisor;

pub(super) struct SupervisorState {
    ids: HashMap<ractor::ActorId, ActorId>,
    replies: Arc<dyn ReplySink>,
}

pub(super) enum SupervisorMsg {
    Watch(ractor::ActorId, ActorId),
}

#[cfg(feature = "cluster")]
impl ractor::Message for SupervisorMsg {}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = Arc<dyn ReplySink>;

    async fn pre_start(
        &self,
        _me: ActorRef<SupervisorMsg>,
        replies: Arc<dyn ReplySink>,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        Ok(SupervisorState {
            ids: HashMap::new(),
            replies,
        })
    }

    async fn handle(
        &self,
        _me: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        st: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisorMsg::Watch(cell, id) = msg;
        st.ids.insert(cell, id);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _me: ActorRef<SupervisorMsg>,
        evt: SupervisionEvent,
        st: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, why) = match evt {
            SupervisionEvent::ActorFailed(cell, e) => (cell, e.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, reason.unwrap_or_else(|| "stopped".into()))
            }
            _ => return Ok(()),
        };
        if let Some(id) = st.ids.remove(&cell.get_id()) {
            st.replies.send(StepReply {
                actor: id,
                start: SimTime::MAX,
                result: Err(StepFailure::Gone(why)),
            });
        }
        Ok(())
    }
}
