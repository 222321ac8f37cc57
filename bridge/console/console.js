// civitas live twin console: one page over the operator API (/api/v1/openapi.json),
// no build step. The state is re-read from the API whenever the live stream says a
// window was processed (one re-read at a time: windows that come meanwhile cause one
// more) and after every reconnection, so the page is never stale without saying so.
"use strict";

const state = { site: null, devices: [], incidents: [], commands: [], status: null, selected: null, result: null };
const LOOPS = [["unnoticed", "Not yet dispatched"], ["micro", "Community (micro-loop)"], ["street", "Street office"], ["district", "District departments"]];
const DEPARTMENTS = ["public_security", "fire_rescue", "civil_affairs", "urban_management", "housing", "health"];
const REASONS = ["beyond_capacity", "severity", "time_limit", "unanswered", "queue_full"];

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

function loopOf(holder) {
  if (!holder) return "unnoticed";
  const org = Object.keys(holder)[0];
  return org === "street_office" ? "street" : org === "department" ? "district" : "micro";
}

function orgName(holder) {
  if (!holder) return "nobody yet";
  const org = Object.keys(holder)[0];
  const v = holder[org];
  return `${org.replace("_", " ")} ${v.community ?? v.street ?? v.department ?? ""}`.trim();
}

function stageName(s) {
  return typeof s === "string" ? s : Object.keys(s)[0];
}

function duration(secs) {
  secs = Math.max(0, Math.round(secs));
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

function deviceState(d) {
  if (d.alarm !== null && d.alarm !== undefined) return "alarm";
  if (d.availability === "offline") return "offline";
  return d.reported === "failed" ? "failed" : d.reported === "offline" ? "offline" : "working";
}

let refreshing = false, again = false;
async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const [incidents, devices, commands, status] = await Promise.all([
      getJson("/api/v1/incidents"), getJson("/api/v1/devices?limit=10000"),
      getJson("/api/v1/commands?limit=20"), getJson("/api/v1/status"),
    ]);
    Object.assign(state, { incidents: incidents.items, devices: devices.items, commands, status });
    render();
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
  } catch (e) {
    document.body.dataset.error = String(e && e.stack || e);
    setConn(false, `API unreachable: ${e.message}`);
  } finally {
    refreshing = false;
    if (again) { again = false; refresh(); }
  }
}

// No timers: a hidden or headless page may have them throttled to once a minute.
function soon() {
  refresh();
}

function setConn(live, text) {
  const c = document.getElementById("conn");
  c.className = "conn " + (live ? "live" : "stale");
  c.textContent = text;
}

function connect() {
  const es = new EventSource("/api/v1/events");
  es.onopen = () => { setConn(true, "live"); refresh(); };
  es.onmessage = soon;
  es.addEventListener("dropped", () => {
    setConn(false, "fell behind: reconnecting");
    es.close();
    setTimeout(connect, 1000);
  });
  es.onerror = () => setConn(false, "disconnected: reconnecting (what you see may be stale)");
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function render() {
  renderFigures();
  renderIncidents();
  renderPlan();
  renderDetail();
  renderCommands();
}

function renderFigures() {
  const s = state.status;
  if (!s) return;
  const open = Object.values(s.open_incidents).reduce((a, b) => a + b, 0);
  const f = document.getElementById("figures");
  f.replaceChildren(
    el("span", {}, `devices online ${s.online}/${s.devices}`),
    el("span", { id: "open-count" }, `open incidents ${open}`),
    el("span", {}, `micro ${s.open_incidents.micro} · street ${s.open_incidents.street} · district ${s.open_incidents.district} · not dispatched ${s.open_incidents.unnoticed}`),
    el("span", {}, `commands open ${s.commands_open}`),
  );
}

function renderIncidents() {
  const colours = state.site ? state.site.holder_colours : {};
  const asOf = state.status ? state.status.as_of : 0;
  const box = document.getElementById("loops");
  box.replaceChildren(...LOOPS.map(([key, title]) => {
    const items = state.incidents.filter(i => loopOf(i.holding && i.holding.holder) === key);
    return el("div", { class: "loop", id: `loop-${key}` },
      el("h3", {}, el("span", { class: "swatch", style: `background:${colours[key] || "#888"}` }), `${title} (${items.length})`),
      ...items.map(i => {
        const since = i.holding ? i.holding.since : i.history[0].at;
        const due = i.deadline === undefined ? "" : i.deadline >= asOf
          ? ` · due in ${duration(i.deadline - asOf)}` : ` · overdue ${duration(asOf - i.deadline)}`;
        const row = el("button", {
          class: "incident-row" + (state.selected === i.id ? " selected" : ""),
          id: `incident-${i.id}`, "data-kind": i.kind, "data-building": i.building,
          onclick: () => { state.selected = i.id; state.result = null; render(); },
        }, `#${i.id} ${i.kind.replace("_", " ")} · b${i.building}`,
          el("span", { class: "timer" + (i.deadline !== undefined && i.deadline < asOf ? " overdue" : ""),
            title: "held for, and its time limit (simulated time)" }, duration(asOf - since) + due));
        return row;
      }));
  }));
}

function renderPlan() {
  const site = state.site;
  if (!site) return;
  const svg = document.getElementById("site");
  const ns = "http://www.w3.org/2000/svg";
  const parts = [];
  let offset = 0, maxX = 10, maxY = 10;
  const origin = new Map();
  for (const c of site.communities) {
    let w = 0, h = 0;
    for (const b of c.buildings) { w = Math.max(w, b.x_m + b.width_m); h = Math.max(h, b.y_m + b.depth_m); }
    origin.set(c.index, offset);
    maxX = Math.max(maxX, offset + w); maxY = Math.max(maxY, h);
    offset += w + 40;
  }
  const byBuilding = new Map();
  for (const d of state.devices) {
    const k = `${d.community}/${d.building}`;
    if (!byBuilding.has(k)) byBuilding.set(k, []);
    byBuilding.get(k).push(d);
  }
  const open = new Map(state.incidents.map(i => [`${i.community}/${i.building}`, i]));
  for (const c of site.communities) {
    const ox = origin.get(c.index);
    for (const b of c.buildings) {
      const r = document.createElementNS(ns, "rect");
      Object.entries({ x: ox + b.x_m, y: b.y_m, width: b.width_m, height: b.depth_m, class: "building" })
        .forEach(([k, v]) => r.setAttribute(k, v));
      const t = document.createElementNS(ns, "title");
      t.textContent = `community ${c.index} building ${b.id}, ${b.floors} floors`;
      r.append(t);
      parts.push(r);
      const devs = byBuilding.get(`${c.index}/${b.id}`) || [];
      devs.forEach((d, n) => {
        const per = Math.max(1, Math.floor(b.width_m / 2));
        const dot = document.createElementNS(ns, "circle");
        const st = deviceState(d);
        Object.entries({ cx: ox + b.x_m + 1 + (n % per) * 2, cy: b.y_m + b.depth_m + 1.5 + Math.floor(n / per) * 2, r: 0.8,
          fill: site.device_colours[st], "data-device": d.wire_id, "data-state": st })
          .forEach(([k, v]) => dot.setAttribute(k, v));
        const dt = document.createElementNS(ns, "title");
        dt.textContent = `${d.wire_id} (${d.kind}): ${st}`;
        dot.append(dt);
        parts.push(dot);
      });
      const i = open.get(`${c.index}/${b.id}`);
      if (i) {
        const m = document.createElementNS(ns, "circle");
        Object.entries({ cx: ox + b.x_m + b.width_m / 2, cy: b.y_m + b.depth_m / 2, r: 3,
          fill: site.holder_colours[loopOf(i.holding && i.holding.holder)], stroke: "#000", "data-incident": i.id })
          .forEach(([k, v]) => m.setAttribute(k, v));
        parts.push(m);
      }
    }
  }
  svg.setAttribute("viewBox", `-5 -5 ${maxX + 10} ${maxY + 20}`);
  svg.replaceChildren(...parts);
  const legend = document.getElementById("legend");
  legend.replaceChildren(
    ...Object.entries(site.device_colours).map(([k, v]) => el("span", {}, el("span", { class: "swatch", style: `background:${v}` }), ` ${k}`)),
  );
}

async function act(incident, by, action) {
  const r = await fetch(`/api/v1/incidents/${incident}/actions`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ by, action }),
  });
  const body = await r.json();
  state.result = r.ok
    ? { ok: true, text: `${typeof action === "string" ? action : Object.keys(action)[0]}: taken (effective at ${duration(body.at)})` }
    : { ok: false, text: `refused: ${body.error}` };
  await refresh();
}

function renderDetail() {
  const box = document.getElementById("incident");
  const i = state.incidents.find(x => x.id === state.selected);
  if (!i) {
    box.replaceChildren(el("p", { class: "hint" }, state.selected === null ? "Select an incident on the left." : `Incident #${state.selected} is closed.`));
    return;
  }
  const holder = i.holding && i.holding.holder;
  const loop = loopOf(holder);
  const history = el("ol", { class: "history" }, ...i.history.map(h => el("li", {}, `${duration(h.at)} ${stageName(h.stage).replace("_", " ")}`)));
  const buttons = el("div", { class: "actions" });
  if (holder) {
    const b = (label, action) => el("button", { "data-action": label, onclick: () => act(i.id, holder, action()) }, label);
    const reason = el("select", { id: "reason" }, ...REASONS.map(r => el("option", { value: r }, r.replace("_", " "))));
    if (loop === "micro") {
      const other = Object.keys(holder)[0] === "committee" ? "property_firm" : "committee";
      buttons.append(b("acknowledge", () => "acknowledge"), b(`dispatch`, () => ({ dispatch: { to: other } })),
        b("escalate", () => ({ escalate: { reason: reason.value } })), reason, b("close", () => "close"));
    } else if (loop === "street") {
      const dept = el("select", { id: "department" }, ...DEPARTMENTS.map(d => el("option", { value: d }, d.replace("_", " "))));
      buttons.append(b("acknowledge", () => "acknowledge"), b("whistle", () => ({ whistle: { department: dept.value, reason: reason.value } })),
        dept, reason, b("close", () => "close"));
    } else {
      buttons.append(b("report", () => "report"), b("close", () => "close"));
    }
  }
  const result = state.result ? el("p", { class: "result" + (state.result.ok ? "" : " refused"), id: "result" }, state.result.text) : "";
  box.replaceChildren(
    el("p", {}, el("strong", {}, `#${i.id} ${i.kind.replace("_", " ")}`), ` · community ${i.community}, building ${i.building}`),
    el("p", { id: "holder" }, `held by ${orgName(holder)}`),
    history, buttons, result);
}

function renderCommands() {
  const body = document.querySelector("#commands tbody");
  body.replaceChildren(...state.commands.map(c => el("tr", { "data-command": c.id },
    el("td", {}, c.id), el("td", {}, c.action), el("td", {}, c.device.wire_id),
    el("td", {}, c.origin.by === "operator" ? c.origin.seat : `incident ${c.origin.incident}`),
    el("td", { class: "state" }, c.state))));
}

(async function main() {
  state.site = await getJson("/api/v1/site");
  await refresh();
  connect();
  setInterval(() => { if (state.status) renderIncidents(); }, 1000);
})();
