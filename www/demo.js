// The live demo: one hubwire connection to the mock hub, showing dispatch events for a chosen
// region, a chat panel and fault buttons. The mock hub's demo scenario publishes events every
// few seconds.

import { HubConnectionBuilder, LogLevel } from "/pkg/index.js";
import { PlainSocketConnection, subscribe } from "/pkg/live.js";

const $ = (id) => document.getElementById(id);
const connection = new HubConnectionBuilder()
  .withUrl("/hub")
  .withAutomaticReconnect({ delays: [0, 2000, 5000, 10000], keepTrying: true, retryFirstStart: true, jitter: 0.2 })
  .withTelemetry({
    onEvent: (record) => log(`telemetry ${record.type} ${JSON.stringify({ ...record, type: undefined, at: undefined })}`),
    url: "/api/telemetry",
    latencyFields: { RecommendationReady: "recommendedAt", JobAssigned: "assignedAt" },
  })
  .configureLogging(LogLevel.Warning)
  // Open the demo in two tabs: one holds the connection (leading), the other uses it (following).
  .withTabSharing()
  .build();
let region = $("region").value;
const dispatchGroup = (r) => ({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [r] });
let retryAt = null;
let liveSource = "idle"; // where the obligations tile's updates come from: push, polling, idle
let contractor = "";
const contractorGroup = (c) => ({ join: "JoinContractorGroup", leave: "LeaveContractorGroup", args: [c] });

function log(text, isError = false) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (isError) li.className = "error";
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function showState(change) {
  if (change) retryAt = change.nextRetryInMs === null ? null : Date.now() + change.nextRetryInMs;
  $("badge").dataset.state = connection.state;
  const health = connection.health();
  const parts = [connection.state];
  if (health.transport) parts.push(health.transport);
  if (connection.connectionId) parts.push(connection.connectionId.slice(0, 8));
  if (change?.attempt) parts.push(`attempt ${change.attempt}`);
  parts.push(liveSource);
  if (retryAt !== null && retryAt > Date.now()) parts.push(`retry in ${Math.ceil((retryAt - Date.now()) / 1000)} s`);
  $("badge-text").textContent = parts.join(" · ");
  const sharing = health.tabSharing;
  $("tab-role").dataset.role = sharing?.role ?? "alone";
  $("tab-role").textContent = sharing?.shared ? `${sharing.role}${sharing.failovers ? ` · ${sharing.failovers} failover${sharing.failovers > 1 ? "s" : ""}` : ""}` : "not shared";
  $("tab-role").title = sharing?.shared ? `this tab ${sharing.tabId.slice(0, 6)}, leader ${sharing.leaderTabId?.slice(0, 6) ?? "?"}` : (sharing?.reason ?? "");
}
setInterval(() => showState(), 500);

function addDispatchRow(kind, payload) {
  const tr = document.createElement("tr");
  if (payload.contractorId === contractor) tr.className = "mine";
  const detail = kind === "RecommendationReady" ? `score ${payload.score}` : "assigned";
  for (const text of [kind, payload.jobId, payload.contractorId, detail, new Date().toLocaleTimeString()]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  $("dispatch").prepend(tr);
  while ($("dispatch").children.length > 12) $("dispatch").lastChild.remove();
}

// Dedupe by job and event: a doubled delivery shows one row.
const onceByJob = { dedupe: { key: (payload) => `${payload.jobId}` } };
connection.on("RecommendationReady", (payload) => {
  addDispatchRow("RecommendationReady", payload);
  log(`RecommendationReady ${JSON.stringify(payload)}`);
}, onceByJob);
connection.on("JobAssigned", (payload) => {
  addDispatchRow("JobAssigned", payload);
  log(`JobAssigned ${JSON.stringify(payload)}`);
}, { dedupe: { key: (payload) => `${payload.jobId}` } });
connection.on("ReceiveMessage", (message) => {
  const li = document.createElement("li");
  li.textContent = `${message.connectionId.slice(0, 6)}: ${message.text}`;
  $("chat").append(li);
  log(`ReceiveMessage ${JSON.stringify(message)}`);
});
connection.onstatechange((change) => {
  showState(change);
  log(`state ${change.previous} → ${change.current}: ${change.reason}`);
});
connection.onreconnecting((error) => log(`reconnecting: ${error?.message ?? "restoring"}`, true));
connection.onreconnected((id) => log(`reconnected as ${id}; groups re-joined by hubwire`));
connection.onclose((error) => {
  showState();
  log(error ? `closed: ${error.message}` : "closed", Boolean(error));
});

async function start() {
  try {
    log("connecting…");
    const starting = connection.start();
    showState();
    await starting;
    showState();
    log(`connected as ${connection.connectionId}`);
    await connection.joinGroup(dispatchGroup(region));
    await connection.joinGroup({ join: "JoinWorkflow", leave: "LeaveWorkflow", args: ["wf-demo"] });
    log(`joined dispatch:${region} and workflow:wf-demo (kept across reconnects)`);
  } catch (error) {
    showState();
    log(`start failed: ${error.message}`, true);
  }
}

$("region").addEventListener("change", async (event) => {
  const previous = region;
  region = event.target.value;
  $("dispatch").replaceChildren();
  try {
    await connection.leaveGroup(dispatchGroup(previous));
    await connection.joinGroup(dispatchGroup(region));
    log(`moved from dispatch:${previous} to dispatch:${region}`);
  } catch (error) {
    log(`region change failed: ${error.message}`, true);
  }
});

$("contractor").addEventListener("change", async (event) => {
  const previous = contractor;
  contractor = event.target.value;
  try {
    if (previous) await connection.leaveGroup(contractorGroup(previous));
    if (contractor) await connection.joinGroup(contractorGroup(contractor));
    log(contractor ? `watching contractor:${contractor}` : "contractor view off");
  } catch (error) {
    log(`contractor change failed: ${error.message}`, true);
  }
});

$("chat-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("chat-text").value.trim();
  if (!text) return;
  $("chat-text").value = "";
  try {
    await connection.send("SendMessage", text);
  } catch (error) {
    log(`send failed: ${error.message}`, true);
  }
});

const post = (path, body = {}) =>
  fetch(`/control/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
// Each fault button: the mock hub control calls it makes, in order.
const faults = {
  drop: [["drop"]],
  "refuse-ws": [["faults", { refuseTransports: ["WebSockets"] }], ["drop"]],
  "allow-ws": [["faults", { refuseTransports: [] }], ["drop"]],
  "refuse-connects": [["faults", { refuseConnects: 3 }], ["drop"]],
  close: [["close", { error: "Closed by the demo's fault button." }]],
  "close-reconnect": [["close", { allowReconnect: true }]],
  twice: [["faults", { duplicateNextEvents: 1 }]],
  "fail-polls": [["faults", { failPolls: 3 }]],
  "drop-ws": [["ws/drop"]],
};
for (const button of document.querySelectorAll("[data-fault]")) {
  button.addEventListener("click", async () => {
    log(`fault: ${button.textContent}`);
    for (const [path, body] of faults[button.dataset.fault]) await post(path, body);
  });
}
$("reconnect").addEventListener("click", () => {
  if (connection.state === "Disconnected") start();
});

// ----- live tiles: push when it works, polling when it doesn't, one deduped stream -----

const USER = "u-42";
const FLAG = "dashboard_wave4_signalr_enabled";
const obligations = subscribe(connection, {
  event: "LongTermObligationsUpdated",
  group: { join: "JoinUserGroup", leave: "LeaveUserGroup", args: [USER] },
  filter: (summary) => summary.userId === USER,
  poll: { url: `/api/obligations/${USER}`, intervalMs: 3000 },
  key: "userId",
  version: "updatedAt",
  flag: { url: "/api/flags", name: FLAG, refreshMs: 2000 },
  fallbackAfterMs: 4000,
  onTelemetry: (record) => log(`live ${record.type} ${JSON.stringify({ ...record, type: undefined, at: undefined, subscription: undefined })}`),
});
obligations.onUpdate((summary, { source }) => {
  const set = (id, value) => ($(id).textContent = value);
  set("ob-open", summary.obligationsSummary.open);
  set("ob-overdue", summary.obligationsSummary.overdue);
  set("ob-week", summary.obligationsSummary.dueThisWeek);
  set("ob-next", summary.nextDueDate);
  set("ob-estimate", summary.totalEstimate.toLocaleString());
  set("ob-updated", `${new Date(summary.updatedAt).toLocaleTimeString()} by ${source}`);
  $("obligations-card").dataset.updatedAt = summary.updatedAt;
});
function showSource() {
  liveSource = obligations.source;
  $("obligations-source").dataset.source = obligations.source;
  $("obligations-source").textContent = obligations.source;
  $("flag-state").textContent = obligations.flag === undefined ? "…" : obligations.flag ? "on" : "off";
}
obligations.onSourceChange(({ previous, current }) => {
  showSource();
  log(`obligations source ${previous} → ${current}`);
});
setInterval(showSource, 500);
$("flag-toggle").addEventListener("click", async () => {
  const flags = await (await fetch("/api/flags")).json();
  await post("flags", { [FLAG]: !flags[FLAG] });
  log(`flag ${FLAG} set to ${!flags[FLAG]}`);
  await obligations.refresh();
  showSource();
});

const stats = new PlainSocketConnection(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`, {
  reconnect: { delays: [0, 1000, 3000], keepTrying: true },
});
for (const kind of ["tasks", "approvals", "conversations"]) {
  stats.on(`stats:${kind}`, (payload) => {
    let row = document.getElementById(`stat-${kind}`);
    if (!row) {
      row = document.createElement("div");
      row.id = `stat-${kind}`;
      row.innerHTML = "<dt></dt><dd></dd>";
      row.querySelector("dt").textContent = kind;
      $("stats").append(row);
    }
    const figures = Object.entries(payload).filter(([, v]) => typeof v === "number");
    row.querySelector("dd").textContent = figures.map(([k, v]) => `${v} ${k}`).join(" · ") || JSON.stringify(payload);
  });
}
stats.onstatechange((change) => {
  $("stats-state").dataset.source = change.current;
  $("stats-state").textContent = change.current;
  log(`stats socket ${change.previous} → ${change.current}: ${change.reason}`);
});
stats.start().catch((error) => log(`stats socket: ${error.message}`, true));

showState();
start();
