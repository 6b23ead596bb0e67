// Hostile servers (issue: no reconnect storms): every fault of the mock hub's `hostile` modes,
// on every transport, with and without stateful reconnect. A healthy connection is dropped
// while the fault stands; whatever the server then does, the client's connection attempts must
// follow its retry policy (here four retries, 0/50/100/150 ms) and end in onclose, counted from
// the hub's own log: every negotiate is a new attempt, every resumed WebSocket a resume attempt.

import { HttpTransportType, HubConnectionState } from "/pkg/index.js";
import { check, connect, control, sleep, until } from "./util.js";

const POLICY = [0, 50, 100, 150];
const RETRIES = POLICY.length;
// Short, so silent servers are given up on quickly (the handshake wait follows the server timeout).
const SERVER_TIMEOUT_MS = 400;
const KEEP_ALIVE_MS = 150;
// The healthy connection must count as established before the drop (so a stateful one is
// resumed at all): it lives longer than this and hears from the server after it.
const STABLE_MS = 200;

const MODES = [
  { hostile: "closeBeforeHandshake" },
  { hostile: "closeAfterHandshake" },
  { hostile: "neverAnswerHandshake" },
  { hostile: "handshakeError" },
  { hostile: "closeWithReconnectAfterHandshake" },
  { hostile: "oneFrameThenSilent" },
  { refuseAllConnects: true },
];

/** The attempts the hub saw since the log was cleared: new connections and resumes. */
async function attempts() {
  const log = await control("log");
  return {
    negotiates: log.filter((e) => e.kind === "negotiate").length,
    resumes: log.filter((e) => e.kind === "transportOpened" && e.resume).length,
  };
}

async function hostileRun(transport, stateful, fault) {
  const what = `${JSON.stringify(fault)} on ${transport}${stateful ? " with stateful reconnect" : ""}`;
  const connection = connect({ transport: HttpTransportType[transport] }, (b) => {
    const built = b
      .withAutomaticReconnect({ delays: POLICY, stableConnectionThresholdInMilliseconds: STABLE_MS })
      .withServerTimeout(SERVER_TIMEOUT_MS)
      .withKeepAliveInterval(KEEP_ALIVE_MS);
    return stateful ? built.withStatefulReconnect() : built;
  });
  const lifecycle = [];
  connection.onreconnecting(() => lifecycle.push("reconnecting"));
  connection.onreconnected(() => lifecycle.push("reconnected"));
  connection.onclose(() => lifecycle.push("closed"));
  await connection.start();
  await sleep(STABLE_MS + 50);
  // The server speaks after the threshold: the connection is established.
  await connection.invoke("Echo", "established");
  try {
    await control("faults", stateful ? { ...fault, closeResumes: true } : fault);
    await control("log", undefined, "DELETE");
    await control("drop", {});
    if (transport === "LongPolling" && fault.hostile === "oneFrameThenSilent") {
      // Long Polling has no server timeout (an open poll is the keep-alive, in the official
      // client too): a hub that answers the handshake and then holds every poll open is a
      // live connection. What must hold is that it costs one attempt, not a storm.
      await until(() => lifecycle.includes("reconnected"), `${what}: reconnected`, 3000);
      await sleep(1500);
      const seen = await attempts();
      check(seen.negotiates + seen.resumes === 1, `${what}: ${JSON.stringify(seen)} attempts, expected 1`);
      check(connection.state === HubConnectionState.Connected, `${what}: state ${connection.state}`);
      return;
    }
    // Each retry waits at most its delay plus one server timeout (a silent server) plus slack.
    const budgetMs = POLICY.reduce((a, b) => a + b, 0) + (RETRIES + 1) * (SERVER_TIMEOUT_MS + 600);
    await until(() => lifecycle.includes("closed"), `onclose after ${what} (lifecycle ${lifecycle})`, budgetMs);
    const seen = await attempts();
    // A resume counts as the policy's first retry.
    const total = seen.negotiates + seen.resumes;
    check(total >= 1, `${what}: the client made no attempt at all`);
    check(total <= RETRIES, `${what}: ${seen.negotiates} reconnects + ${seen.resumes} resumes, more than the policy's ${RETRIES} retries`);
    check(seen.resumes <= 1, `${what}: ${seen.resumes} resumes for one loss`);
    check(lifecycle[0] === "reconnecting", `${what}: the app heard ${lifecycle} (onreconnecting first)`);
    check(lifecycle.filter((l) => l === "closed").length === 1, `${what}: onclose ${lifecycle}`);
    check(connection.state === HubConnectionState.Disconnected, `${what}: state ${connection.state}`);
    // Nothing more after onclose: no late attempt.
    await sleep(300);
    const after = await attempts();
    check(after.negotiates + after.resumes === total, `${what}: attempts went on after onclose`);
  } finally {
    await control("faults", undefined, "DELETE");
    await connection.stop();
  }
}

function hostileChecks(transport, stateful) {
  return async () => {
    for (const fault of MODES) await hostileRun(transport, stateful, fault);
  };
}

export const checks = {};
for (const transport of ["WebSockets", "ServerSentEvents", "LongPolling"]) {
  for (const stateful of [false, true]) {
    const name = `hostile servers on ${transport}${stateful ? " with stateful reconnect" : ""}: attempts follow the policy, then onclose`;
    checks[name] = hostileChecks(transport, stateful);
  }
}

checks["a resume the hub accepts and closes at once falls back to one normal reconnect, with onreconnecting"] = async () => {
  const connection = connect({ transport: HttpTransportType.WebSockets }, (b) =>
    b.withAutomaticReconnect({ delays: POLICY, stableConnectionThresholdInMilliseconds: STABLE_MS }).withStatefulReconnect(),
  );
  const lifecycle = [];
  connection.onreconnecting(() => lifecycle.push("reconnecting"));
  connection.onreconnected(() => lifecycle.push("reconnected"));
  connection.onclose(() => lifecycle.push("closed"));
  try {
    await connection.start();
    await sleep(STABLE_MS + 50);
    await connection.invoke("Echo", "established");
    await control("faults", { closeResumes: true });
    await control("log", undefined, "DELETE");
    await control("drop", {});
    await until(() => lifecycle.includes("reconnected"), `reconnected (lifecycle ${lifecycle})`, 5000);
    await sleep(300);
    const seen = await attempts();
    check(seen.resumes === 1, `one resume attempt, saw ${seen.resumes}`);
    check(seen.negotiates === 1, `then one new connection, saw ${seen.negotiates} negotiates`);
    check(JSON.stringify(lifecycle) === JSON.stringify(["reconnecting", "reconnected"]), `the app heard ${lifecycle}`);
  } finally {
    await control("faults", undefined, "DELETE");
    await connection.stop();
  }
};
