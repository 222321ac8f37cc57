//! The operator API: HTTP (axum) served by the live twin on a loopback address — the
//! devices as mirrored, the incidents with their whole lifecycle and who holds them,
//! actions on incidents (each an inject through the engine's handle: the same path as the
//! simulated responders), commands to devices (through the twin's [`Forwarder`], the same
//! path as `civitas twin command`), a live stream of the engine's windows (server-sent
//! events), Prometheus metrics, and its OpenAPI document ([`OPENAPI`], checked in at
//! `bridge/api/openapi.json` and tested against [`ROUTES`]).
//!
//! **Loopback only.** Every request has full rights (roles and areas on the API come with
//! tokens, next); [`serve`] refuses any address that is not loopback, saying why.

use crate::commands::{Command, Rejected};
use crate::forward::Forwarder;
use crate::policy::Seat;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use civitas_actors::{Address, EngineHandle, Inject, InjectError, When};
use civitas_twin::kinds::{CommandAction, DeviceKind, IncidentKind};
use civitas_twin::mirror::{Availability, Millis, Mirror, Refusal};
use civitas_twin::time::SimTime;
use civitas_twin::vocab::action::{Action, Holding, Holdings, Organisation};
use civitas_twin::vocab::events::{DeviceState, Event, Stage, Window};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::broadcast;

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("../api/openapi.json");

/// Every route: method and path as the OpenAPI document writes it.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/status"),
    ("get", "/api/v1/devices"),
    ("get", "/api/v1/devices/{wire_id}"),
    ("get", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("post", "/api/v1/incidents/{id}/actions"),
    ("get", "/api/v1/site"),
    ("get", "/api/v1/commands"),
    ("post", "/api/v1/commands"),
    ("get", "/api/v1/commands/{id}"),
    ("get", "/api/v1/events"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/metrics"),
];

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 16 * 1024;

/// Incidents closed that the log keeps (the oldest forgotten first).
const KEEP_CLOSED: usize = 10_000;

/// The inject source name of operators' actions through the API.
pub const SOURCE: &str = "api";

/// One incident as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentView {
    /// Its id.
    pub id: u64,
    /// Its kind.
    pub kind: IncidentKind,
    /// Community.
    pub community: u32,
    /// Building.
    pub building: u32,
    /// Still open.
    pub open: bool,
    /// Who holds it, and since when (open and known incidents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holding: Option<Holding>,
    /// The simulated time by which its holder must act before the case goes up a loop
    /// (a micro-loop or street time limit by its severity, counted from its arrival), or
    /// by which a department must report; none when nothing is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<SimTime>,
    /// Every stage so far, with its simulated time.
    pub history: Vec<StageAt>,
}

/// A stage and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageAt {
    /// Simulated seconds since the twin started.
    pub at: SimTime,
    /// What happened.
    pub stage: Stage,
}

/// The incidents folded from the stream, with who holds each.
#[derive(Debug, Default)]
pub struct IncidentLog {
    /// Each kind's time limits (s): micro-loop, street office, a department's report.
    limits: BTreeMap<IncidentKind, [SimTime; 3]>,
    incidents: BTreeMap<u64, IncidentView>,
    holdings: Holdings,
    closed: std::collections::VecDeque<u64>,
    /// The end of the last window folded.
    pub as_of: SimTime,
}

impl IncidentLog {
    /// An empty log that knows the time limits of `params` (MODEL §1: by severity).
    pub fn with_limits(params: &civitas_twin::Parameters) -> IncidentLog {
        let secs = |h: f64| (h * 3_600.0).round() as SimTime;
        IncidentLog {
            limits: (IncidentKind::ALL.iter())
                .map(|k| {
                    let s = params.severity(params.incident(*k).severity);
                    (
                        *k,
                        [
                            secs(s.micro_limit_hours),
                            secs(s.street_limit_hours),
                            secs(s.department_report_hours),
                        ],
                    )
                })
                .collect(),
            ..IncidentLog::default()
        }
    }

    /// When `h`'s holder must act, if anything is due.
    fn deadline(&self, h: &Holding) -> Option<SimTime> {
        let [micro, street, report] = *self.limits.get(&h.kind)?;
        match h.holder.map(Organisation::level)? {
            civitas_twin::kinds::Level::Micro => Some(h.arrives + micro),
            civitas_twin::kinds::Level::Street => Some(h.arrives + street),
            civitas_twin::kinds::Level::District => h.taken.is_none().then_some(h.arrives + report),
        }
    }

    /// Folds one window.
    pub fn window(&mut self, w: &Window) {
        for e in &w.events {
            self.holdings.apply(e);
            let Event::Incident {
                at,
                id,
                kind,
                community,
                building,
                stage,
            } = e
            else {
                continue;
            };
            let v = self.incidents.entry(*id).or_insert_with(|| IncidentView {
                id: *id,
                kind: *kind,
                community: *community,
                building: *building,
                open: true,
                holding: None,
                deadline: None,
                history: Vec::new(),
            });
            v.history.push(StageAt {
                at: *at,
                stage: stage.clone(),
            });
            if matches!(stage, Stage::Closed { .. }) {
                v.open = false;
                self.closed.push_back(*id);
                while self.closed.len() > KEEP_CLOSED {
                    if let Some(old) = self.closed.pop_front() {
                        self.incidents.remove(&old);
                    }
                }
            }
        }
        self.holdings.closed.clear();
        self.as_of = self.as_of.max(w.end);
    }

    /// One incident, with who holds it.
    pub fn get(&self, id: u64) -> Option<IncidentView> {
        self.incidents.get(&id).map(|v| {
            let holding = self.holdings.open.get(&id).copied();
            IncidentView {
                deadline: holding.as_ref().and_then(|h| self.deadline(h)),
                holding,
                ..v.clone()
            }
        })
    }

    /// Incidents (open only, or all kept), newest first, at most `limit` after `offset`.
    pub fn list(&self, open_only: bool, community: Option<u32>) -> Vec<IncidentView> {
        (self.incidents.values().rev())
            .filter(|v| !open_only || v.open)
            .filter(|v| community.is_none_or(|c| v.community == c))
            .filter_map(|v| self.get(v.id))
            .collect()
    }

    /// Open incidents by the loop holding them (`unnoticed`: known, not yet dispatched).
    pub fn open_by_loop(&self) -> BTreeMap<&'static str, u64> {
        let mut by = BTreeMap::from([
            ("micro", 0),
            ("street", 0),
            ("district", 0),
            ("unnoticed", 0),
        ]);
        for h in self.holdings.open.values() {
            let key = match h.holder.map(Organisation::level) {
                Some(l) => l.as_str(),
                None => "unnoticed",
            };
            *by.entry(key).or_insert(0) += 1;
        }
        by
    }
}

/// What the API serves from.
#[derive(Clone)]
pub struct ApiState {
    /// The mirror.
    pub mirror: Arc<Mutex<Mirror>>,
    /// The engine.
    pub engine: EngineHandle,
    /// Commands.
    pub commands: Forwarder,
    /// Incidents folded from the stream.
    pub incidents: Arc<RwLock<IncidentLog>>,
    /// The stream, re-broadcast to API subscribers as JSON.
    pub windows: broadcast::Sender<Arc<str>>,
    /// Counts for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Ingest's count of messages handled.
    pub handled: Arc<AtomicU64>,
    /// The site plan.
    pub site: Arc<SiteView>,
}

/// The site plan of the twin's communities, and the colours to draw it in (the 3D
/// viewer's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteView {
    /// Each community.
    pub communities: Vec<CommunitySite>,
    /// Device colours by state (`#rrggbb`).
    pub device_colours: BTreeMap<&'static str, String>,
    /// Incident colours by who holds them: `unnoticed`, `micro`, `street`, `district`.
    pub holder_colours: BTreeMap<&'static str, String>,
}

/// One community's plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommunitySite {
    /// Index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Its street office.
    pub street_office: u32,
    /// Buildings' footprints (m, the plan's corner and size).
    pub buildings: Vec<BuildingSite>,
}

/// One building's footprint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildingSite {
    /// Id within the community.
    pub id: u32,
    /// Corner x (m).
    pub x_m: f32,
    /// Corner y (m).
    pub y_m: f32,
    /// Width (m).
    pub width_m: f32,
    /// Depth (m).
    pub depth_m: f32,
    /// Floors.
    pub floors: u32,
}

impl SiteView {
    /// The plan of `district`.
    pub fn of(district: &civitas_twin::model::District) -> SiteView {
        use civitas_twin::palette;
        use civitas_twin::view::Holder;
        let holder = |h: Holder| match h {
            Holder::Unnoticed => "unnoticed",
            Holder::Community => "micro",
            Holder::Street => "street",
            Holder::District => "district",
        };
        SiteView {
            communities: (district.communities.iter())
                .map(|c| CommunitySite {
                    index: c.index,
                    name: c.name.clone(),
                    street_office: c.street_office,
                    buildings: (c.buildings.iter())
                        .map(|b| BuildingSite {
                            id: b.id,
                            x_m: b.x_m,
                            y_m: b.y_m,
                            width_m: b.width_m,
                            depth_m: b.depth_m,
                            floors: b.floors,
                        })
                        .collect(),
                })
                .collect(),
            device_colours: (palette::DEVICE_STATES.iter())
                .map(|s| {
                    let name = match s {
                        DeviceState::Working => "working",
                        DeviceState::Failed => "failed",
                        DeviceState::Offline => "offline",
                        DeviceState::Alarm => "alarm",
                    };
                    (name, palette::hex(palette::device(*s)))
                })
                .collect(),
            holder_colours: (palette::HOLDERS.iter())
                .map(|h| (holder(*h), palette::hex(palette::incident(*h))))
                .collect(),
        }
    }
}

/// Counts the API keeps for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Stream subscribers dropped for falling behind.
    pub subscribers_dropped: AtomicU64,
    /// Stream subscribers now.
    pub subscribers: AtomicU64,
    /// Requests answered with a client error.
    pub bad_requests: AtomicU64,
}

/// Why the API could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Not a loopback address.
    #[error(
        "the console listens on loopback only ({0} is not): it has no authentication yet, and every request has full rights; reach it through an SSH tunnel or a reverse proxy that authenticates"
    )]
    NotLoopback(SocketAddr),
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Starts folding `windows` into the state's incident log and re-broadcasting them.
pub fn follow(state: &ApiState, mut windows: civitas_actors::Subscription) {
    let (log, tx) = (state.incidents.clone(), state.windows.clone());
    tokio::spawn(async move {
        while let Some(w) = windows.recv().await {
            if let Ok(mut l) = log.write() {
                l.window(&w);
            }
            if tx.receiver_count() > 0
                && let Ok(json) = serde_json::to_string(&*w)
            {
                let _ = tx.send(json.into());
            }
        }
    });
}

/// Binds `addr` (loopback only) and serves the API on the current runtime; returns the
/// address bound (a port 0 chosen now).
pub async fn serve(addr: SocketAddr, state: ApiState) -> Result<SocketAddr, ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback(addr));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let app = router(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(bound)
}

/// The routes ([`ROUTES`]).
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/devices", get(devices))
        .route("/api/v1/devices/:wire_id", get(device))
        .route("/api/v1/incidents", get(incidents))
        .route("/api/v1/incidents/:id", get(incident))
        .route("/api/v1/incidents/:id/actions", post(act))
        .route("/api/v1/site", get(site))
        .route("/api/v1/commands", post(command).get(commands_recent))
        .route("/api/v1/commands/:id", get(command_record))
        .route("/api/v1/events", get(events))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/", get(console_page))
        .route("/console.js", get(console_js))
        .route("/console.css", get(console_css))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// An error answer: a status and a reason.
#[derive(Debug, Serialize)]
struct Problem {
    error: String,
}

fn problem(status: StatusCode, error: impl Into<String>) -> Response {
    (
        status,
        Json(Problem {
            error: error.into(),
        }),
    )
        .into_response()
}

async fn not_found() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "no such route; GET /api/v1/openapi.json lists them",
    )
}

#[derive(Serialize)]
struct Status {
    devices: usize,
    heard: usize,
    online: usize,
    messages: u64,
    refused: BTreeMap<&'static str, u64>,
    open_incidents: BTreeMap<&'static str, u64>,
    commands_open: usize,
    as_of: SimTime,
}

async fn status(State(s): State<ApiState>) -> Response {
    let (devices, heard, online, refused) = match s.mirror.lock() {
        Ok(m) => (
            m.devices().len(),
            m.devices().iter().filter(|d| d.last_seen.is_some()).count(),
            (m.devices().iter())
                .filter(|d| d.availability == Availability::Online)
                .count(),
            (m.refused().iter())
                .map(|(r, n)| (r.as_str(), *n))
                .collect(),
        ),
        Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "the mirror failed"),
    };
    let (open_incidents, as_of) = match s.incidents.read() {
        Ok(l) => (l.open_by_loop(), l.as_of),
        Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "the incident log failed"),
    };
    Json(Status {
        devices,
        heard,
        online,
        messages: s.handled.load(Ordering::Relaxed),
        refused,
        open_incidents,
        commands_open: s.commands.open().await,
        as_of,
    })
    .into_response()
}

/// A device as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceView {
    /// Wire id.
    pub wire_id: String,
    /// Community.
    pub community: u32,
    /// Building.
    pub building: u32,
    /// Device id within the community.
    pub device: u32,
    /// Kind.
    pub kind: DeviceKind,
    /// Its state as last reported.
    pub reported: DeviceState,
    /// Values the twin wants it to report.
    pub desired: BTreeMap<String, f64>,
    /// Its last measurements.
    pub values: BTreeMap<String, f64>,
    /// An alarm raised and not cleared (its kind, if it said).
    pub alarm: Option<Option<IncidentKind>>,
    /// Online, offline or unknown.
    pub availability: Availability,
    /// When last heard (ms since the Unix epoch).
    pub last_seen_ms: Option<Millis>,
}

fn view(d: &civitas_twin::mirror::DeviceMirror) -> DeviceView {
    DeviceView {
        wire_id: d.placement.wire_id.clone(),
        community: d.placement.community,
        building: d.placement.building,
        device: d.placement.device,
        kind: d.placement.kind,
        reported: d.reported,
        desired: d.desired.clone(),
        values: d.values.clone(),
        alarm: d.alarm,
        availability: d.availability,
        last_seen_ms: d.last_seen,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceQuery {
    community: Option<u32>,
    building: Option<u32>,
    kind: Option<String>,
    availability: Option<String>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

/// Most items one list answer holds.
pub const MAX_LIMIT: usize = 10_000;

#[derive(Serialize)]
struct Page<T> {
    total: usize,
    offset: usize,
    items: Vec<T>,
}

fn page<T>(all: Vec<T>, offset: usize, limit: Option<usize>) -> Result<Page<T>, Response> {
    let limit = limit.unwrap_or(1_000);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            format!("limit must be from 1 to {MAX_LIMIT}, found {limit}"),
        ));
    }
    let total = all.len();
    let items = all.into_iter().skip(offset).take(limit).collect();
    Ok(Page {
        total,
        offset,
        items,
    })
}

async fn devices(
    State(s): State<ApiState>,
    q: Result<Query<DeviceQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => {
            bad(&s);
            return problem(
                StatusCode::BAD_REQUEST,
                format!("bad query ({}); see /api/v1/openapi.json", e.body_text()),
            );
        }
    };
    let kind = match q.kind.as_deref().map(|k| DeviceKind::parse(k).ok_or(k)) {
        Some(Err(k)) => {
            bad(&s);
            return problem(
                StatusCode::BAD_REQUEST,
                format!("unknown device kind {k:?}"),
            );
        }
        Some(Ok(k)) => Some(k),
        None => None,
    };
    let availability = match q.availability.as_deref() {
        None => None,
        Some("online") => Some(Availability::Online),
        Some("offline") => Some(Availability::Offline),
        Some("unknown") => Some(Availability::Unknown),
        Some(a) => {
            bad(&s);
            return problem(
                StatusCode::BAD_REQUEST,
                format!("availability is online, offline or unknown, found {a:?}"),
            );
        }
    };
    let all: Vec<DeviceView> = match s.mirror.lock() {
        Ok(m) => (m.devices().iter())
            .filter(|d| q.community.is_none_or(|c| d.placement.community == c))
            .filter(|d| q.building.is_none_or(|b| d.placement.building == b))
            .filter(|d| kind.is_none_or(|k| d.placement.kind == k))
            .filter(|d| availability.is_none_or(|a| d.availability == a))
            .map(view)
            .collect(),
        Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "the mirror failed"),
    };
    match page(all, q.offset, q.limit) {
        Ok(p) => Json(p).into_response(),
        Err(r) => r,
    }
}

/// Counts a request answered with a client error.
fn bad(s: &ApiState) {
    s.metrics.bad_requests.fetch_add(1, Ordering::Relaxed);
}

async fn device(State(s): State<ApiState>, Path(wire_id): Path<String>) -> Response {
    let found = s.mirror.lock().ok().and_then(|m| m.get(&wire_id).map(view));
    match found {
        Some(d) => Json(d).into_response(),
        None => {
            bad(&s);
            problem(
                StatusCode::NOT_FOUND,
                format!("no device {wire_id:?} in the registry"),
            )
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentQuery {
    #[serde(default)]
    all: bool,
    community: Option<u32>,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

async fn incidents(
    State(s): State<ApiState>,
    q: Result<Query<IncidentQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => {
            bad(&s);
            return problem(StatusCode::BAD_REQUEST, e.body_text());
        }
    };
    let all = match s.incidents.read() {
        Ok(l) => l.list(!q.all, q.community),
        Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "the incident log failed"),
    };
    match page(all, q.offset, q.limit) {
        Ok(p) => Json(p).into_response(),
        Err(r) => r,
    }
}

fn incident_id(s: &ApiState, id: &str) -> Result<u64, Response> {
    id.parse().map_err(|_| {
        bad(s);
        problem(
            StatusCode::BAD_REQUEST,
            format!("an incident id is a whole number, found {id:?}"),
        )
    })
}

async fn incident(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    let id = match incident_id(&s, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match s.incidents.read().ok().and_then(|l| l.get(id)) {
        Some(v) => Json(v).into_response(),
        None => {
            bad(&s);
            problem(
                StatusCode::NOT_FOUND,
                format!("no incident {id} known to the twin"),
            )
        }
    }
}

/// An action on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    /// The organisation acting (it must hold the case).
    pub by: Organisation,
    /// What it does.
    pub action: Action,
}

/// An action taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActAnswer {
    /// The incident.
    pub incident: u64,
    /// The simulated time it takes effect.
    pub at: SimTime,
}

async fn act(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: Result<Json<ActRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let id = match incident_id(&s, &id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => {
            bad(&s);
            return problem(e.status(), e.body_text());
        }
    };
    let inject = Inject::Act {
        incident: id,
        action: req.action,
    };
    match (s.engine)
        .inject(SOURCE, When::Now, Address::from(req.by), inject)
        .await
    {
        Ok(at) => (StatusCode::ACCEPTED, Json(ActAnswer { incident: id, at })).into_response(),
        Err(InjectError::Refused(why)) => {
            bad(&s);
            problem(StatusCode::CONFLICT, why.to_string())
        }
        Err(e @ (InjectError::IntakeFull { .. } | InjectError::EngineGone)) => {
            problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        Err(e) => {
            bad(&s);
            problem(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        }
    }
}

/// A command asked for through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// The device's wire id.
    pub device: String,
    /// The action.
    pub action: String,
    /// Where the operator acts from (`property_firm@community:0`).
    pub seat: String,
}

/// A command taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandTaken {
    /// Its id (`GET /api/v1/commands/{id}` follows it).
    pub command: String,
}

async fn command(
    State(s): State<ApiState>,
    body: Result<Json<CommandRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let req = match body {
        Ok(Json(r)) => r,
        Err(e) => {
            bad(&s);
            return problem(e.status(), e.body_text());
        }
    };
    let Some(action) = CommandAction::parse(&req.action) else {
        bad(&s);
        let names: Vec<&str> = CommandAction::ALL.iter().map(|a| a.as_str()).collect();
        return problem(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown action {:?}; actions: {}",
                req.action,
                names.join(", ")
            ),
        );
    };
    let seat: Seat = match req.seat.parse() {
        Ok(seat) => seat,
        Err(e) => {
            bad(&s);
            return problem(StatusCode::BAD_REQUEST, e);
        }
    };
    match s.commands.submit(&req.device, action, seat).await {
        Ok(id) => (StatusCode::ACCEPTED, Json(CommandTaken { command: id })).into_response(),
        Err(why) => {
            let status = match why {
                Rejected::UnknownDevice(_) => StatusCode::NOT_FOUND,
                Rejected::WrongKind { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                Rejected::Denied(_) => StatusCode::FORBIDDEN,
                Rejected::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            };
            bad(&s);
            problem(status, why.to_string())
        }
    }
}

async fn command_record(State(s): State<ApiState>, Path(id): Path<String>) -> Response {
    match s.commands.get(&id).await {
        Some(c) => Json::<Command>(c).into_response(),
        None => {
            bad(&s);
            problem(
                StatusCode::NOT_FOUND,
                format!("no command {id:?} (unknown, or ended long ago)"),
            )
        }
    }
}

async fn events(State(s): State<ApiState>) -> Response {
    let rx = s.windows.subscribe();
    let metrics = s.metrics.clone();
    metrics.subscribers.fetch_add(1, Ordering::Relaxed);
    let stream =
        futures_util::stream::unfold((rx, Some(Gone(metrics))), |(mut rx, gone)| async move {
            let gone = gone?;
            match rx.recv().await {
                Ok(json) => Some((
                    Ok::<_, std::convert::Infallible>(SseEvent::default().data(&*json)),
                    (rx, Some(gone)),
                )),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // Fallen behind: dropped, counted, told why (it may reconnect and
                    // re-read the state from the API).
                    gone.0.subscribers_dropped.fetch_add(1, Ordering::Relaxed);
                    let why = format!("{{\"dropped\":\"fell {n} windows behind\"}}");
                    Some((
                        Ok(SseEvent::default().event("dropped").data(why)),
                        (rx, None),
                    ))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Counts a stream subscriber gone when dropped.
struct Gone(Arc<Metrics>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn site(State(s): State<ApiState>) -> Response {
    Json(&*s.site).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecentQuery {
    limit: Option<usize>,
}

async fn commands_recent(
    State(s): State<ApiState>,
    q: Result<Query<RecentQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let limit = match q {
        Ok(Query(q)) => q.limit.unwrap_or(100),
        Err(e) => {
            bad(&s);
            return problem(StatusCode::BAD_REQUEST, e.body_text());
        }
    };
    if limit == 0 || limit > MAX_LIMIT {
        bad(&s);
        return problem(
            StatusCode::BAD_REQUEST,
            format!("limit must be from 1 to {MAX_LIMIT}, found {limit}"),
        );
    }
    Json(s.commands.recent(limit).await).into_response()
}

/// The web console: a page, its script and its style, with no build step.
const CONSOLE_HTML: &str = include_str!("../console/index.html");
const CONSOLE_JS: &str = include_str!("../console/console.js");
const CONSOLE_CSS: &str = include_str!("../console/console.css");

async fn console_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        CONSOLE_HTML,
    )
        .into_response()
}

async fn console_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        CONSOLE_JS,
    )
        .into_response()
}

async fn console_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        CONSOLE_CSS,
    )
        .into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn metrics(State(s): State<ApiState>) -> Response {
    use std::fmt::Write;
    let mut o = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, lines: Vec<(String, u64)>| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in lines {
            let _ = writeln!(o, "{name}{labels} {v}");
        }
    };
    let (devices, online, refused) = match s.mirror.lock() {
        Ok(m) => (
            m.devices().len() as u64,
            (m.devices().iter())
                .filter(|d| d.availability == Availability::Online)
                .count() as u64,
            Refusal::ALL
                .iter()
                .map(|r| {
                    (
                        format!("{{reason=\"{}\"}}", r.as_str()),
                        m.refused().get(r).copied().unwrap_or(0),
                    )
                })
                .collect(),
        ),
        Err(_) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "the mirror failed"),
    };
    metric(
        "civitas_messages_total",
        "counter",
        "MQTT messages handled by ingest, applied or refused.",
        vec![(String::new(), s.handled.load(Ordering::Relaxed))],
    );
    metric(
        "civitas_messages_refused_total",
        "counter",
        "Messages refused, by reason.",
        refused,
    );
    metric(
        "civitas_mirror_devices",
        "gauge",
        "Devices in the mirror.",
        vec![(String::new(), devices)],
    );
    metric(
        "civitas_mirror_devices_online",
        "gauge",
        "Devices whose availability says online.",
        vec![(String::new(), online)],
    );
    let open = s
        .incidents
        .read()
        .map(|l| l.open_by_loop())
        .unwrap_or_default();
    metric(
        "civitas_incidents_open",
        "gauge",
        "Open incidents by the loop holding them (unnoticed: not yet dispatched).",
        open.iter()
            .map(|(l, n)| (format!("{{loop=\"{l}\"}}"), *n))
            .collect(),
    );
    let tally = s.commands.tally().await.unwrap_or_default();
    metric(
        "civitas_commands_total",
        "counter",
        "Commands to devices taken.",
        vec![(String::new(), tally.submitted)],
    );
    metric(
        "civitas_commands_ended_total",
        "counter",
        "Commands ended, by state.",
        crate::commands::State::ALL
            .iter()
            .filter(|st| st.terminal())
            .map(|st| {
                (
                    format!("{{state=\"{}\"}}", st.as_str()),
                    tally.ended.get(st).copied().unwrap_or(0),
                )
            })
            .collect(),
    );
    metric(
        "civitas_command_retries_total",
        "counter",
        "Command attempts after the first.",
        vec![(String::new(), tally.retries)],
    );
    metric(
        "civitas_stream_subscribers",
        "gauge",
        "Clients of /api/v1/events now.",
        vec![(String::new(), s.metrics.subscribers.load(Ordering::Relaxed))],
    );
    metric(
        "civitas_stream_subscribers_dropped_total",
        "counter",
        "Stream clients dropped for falling behind.",
        vec![(
            String::new(),
            s.metrics.subscribers_dropped.load(Ordering::Relaxed),
        )],
    );
    metric(
        "civitas_api_client_errors_total",
        "counter",
        "API requests answered with a client error.",
        vec![(
            String::new(),
            s.metrics.bad_requests.load(Ordering::Relaxed),
        )],
    );
    metric(
        "civitas_engine_injects_refused_total",
        "counter",
        "Injects refused because the engine's intake was full.",
        vec![(String::new(), s.engine.refused())],
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], o).into_response()
}
