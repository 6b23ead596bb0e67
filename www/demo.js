// The live demo: one hubwire connection to the mock hub, showing dispatch events for a chosen
// region, a chat panel and fault buttons. The mock hub's demo scenario publishes events every
// few seconds.

import { HubConnectionBuilder, LogLevel } from "/pkg/index.js";

const $ = (id) => document.getElementById(id);
const connection = new HubConnectionBuilder().withUrl("/hub").configureLogging(LogLevel.Warning).build();
let region = $("region").value;

function log(text, isError = false) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (isError) li.className = "error";
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function showState() {
  $("badge").dataset.state = connection.state;
  const id = connection.connectionId ? ` · ${connection.connectionId.slice(0, 8)}` : "";
  $("badge-text").textContent = `${connection.state}${id}`;
}

function addDispatchRow(kind, payload) {
  const tr = document.createElement("tr");
  const detail = kind === "RecommendationReady" ? `score ${payload.score}` : "assigned";
  for (const text of [kind, payload.jobId, payload.contractorId, detail, new Date().toLocaleTimeString()]) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  $("dispatch").prepend(tr);
  while ($("dispatch").children.length > 12) $("dispatch").lastChild.remove();
}

connection.on("RecommendationReady", (payload) => {
  addDispatchRow("RecommendationReady", payload);
  log(`RecommendationReady ${JSON.stringify(payload)}`);
});
connection.on("JobAssigned", (payload) => {
  addDispatchRow("JobAssigned", payload);
  log(`JobAssigned ${JSON.stringify(payload)}`);
});
connection.on("ReceiveMessage", (message) => {
  const li = document.createElement("li");
  li.textContent = `${message.connectionId.slice(0, 6)}: ${message.text}`;
  $("chat").append(li);
  log(`ReceiveMessage ${JSON.stringify(message)}`);
});
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
    await connection.invoke("JoinDispatchGroup", region);
    await connection.invoke("JoinWorkflow", "wf-demo");
    log(`joined dispatch:${region} and workflow:wf-demo`);
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
    await connection.invoke("LeaveDispatchGroup", previous);
    await connection.invoke("JoinDispatchGroup", region);
    log(`moved from dispatch:${previous} to dispatch:${region}`);
  } catch (error) {
    log(`region change failed: ${error.message}`, true);
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

const faults = {
  drop: () => ({ path: "drop", body: {} }),
  close: () => ({ path: "close", body: { error: "Closed by the demo's fault button." } }),
  "close-reconnect": () => ({ path: "close", body: { allowReconnect: true } }),
};
for (const button of document.querySelectorAll("[data-fault]")) {
  button.addEventListener("click", async () => {
    const { path, body } = faults[button.dataset.fault]();
    log(`fault: ${button.textContent}`);
    await fetch(`/control/${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  });
}
$("reconnect").addEventListener("click", () => {
  if (connection.state === "Disconnected") start();
});

showState();
start();
