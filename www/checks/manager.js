// Checks of the connection manager against the mock hub's faults: the retry schedule, first
// start retry, re-join failures, doubled events, telemetry.

import { HttpTransportType, HubConnectionState } from "/pkg/index.js";
import { check, connect, control, equal, sleep, until } from "./util.js";

const WS_ONLY = { transport: HttpTransportType.WebSockets };
const FAST = [0, 50, 100, 150];

async function refusedConnects() {
  return (await control("log")).filter((e) => e.kind === "refused" && e.request === "connect").length;
}

/** Each check: a name and an async function that throws on failure. */
export const checks = {
  async "the hub refuses 3 connects and the client gets in on the 4th attempt"() {
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect(FAST));
    const lifecycle = [];
    connection.onreconnected(() => lifecycle.push("reconnected"));
    connection.onclose(() => lifecycle.push("closed"));
    await connection.start();
    await control("log", undefined, "DELETE");
    await control("faults", { refuseConnects: 3 });
    await control("drop", {});
    await until(() => lifecycle.length > 0, "the reconnect outcome");
    equal(lifecycle, ["reconnected"], "outcome");
    equal(await refusedConnects(), 3, "connects refused");
    equal(connection.state, HubConnectionState.Connected, "state");
    await connection.stop();
  },

  async "the hub refuses 4 connects and onclose follows the last step"() {
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect(FAST));
    const lifecycle = [];
    connection.onreconnecting(() => lifecycle.push("reconnecting"));
    connection.onreconnected(() => lifecycle.push("reconnected"));
    connection.onclose((error) => lifecycle.push(`closed: ${error?.message}`));
    let lastReason = "";
    connection.onstatechange((change) => (lastReason = change.reason));
    await connection.start();
    await control("faults", { refuseConnects: 4 });
    await control("drop", {});
    await until(() => lifecycle.some((l) => l.startsWith("closed")), "onclose");
    equal(lifecycle.length, 2, `events: ${lifecycle}`);
    equal(lifecycle[0], "reconnecting", "first event");
    // Retries used up: onclose gets no error, as from the official client; the last attempt's
    // failure is in the state change's reason.
    equal(lifecycle[1], "closed: undefined", "onclose argument");
    check(lastReason.includes("WebSockets failed"), `last state change reason: ${lastReason}`);
    equal(connection.state, HubConnectionState.Disconnected, "state");
  },

  async "the first start is retried when asked"() {
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect({ delays: FAST, retryFirstStart: true }));
    // A clear log, so every negotiate counted below is this start's.
    await control("log", undefined, "DELETE");
    await control("faults", { refuseNegotiations: 2 });
    await connection.start();
    equal(connection.state, HubConnectionState.Connected, "state after start");
    const log = await control("log");
    const refused = log.filter((e) => e.kind === "refused" && e.request === "negotiate");
    equal(refused.length, 2, "negotiates refused");
    const answered = log.filter((e) => e.kind === "negotiate");
    equal(answered.map((e) => e.connectionId), [connection.connectionId], "the one negotiate answered: the third attempt's");
    await connection.stop();
  },

  async "a failing re-join is reported and the other groups are still re-joined"() {
    const telemetry = [];
    const connection = connect(WS_ONLY, (b) => b.withAutomaticReconnect(FAST).withTelemetry((r) => telemetry.push(r)));
    const reconnected = [];
    const failures = [];
    connection.onreconnected((id) => reconnected.push(id));
    connection.onrejoinfailed((failure) => failures.push(failure));
    await connection.start();
    await connection.joinGroup({ join: "JoinContractorGroup", leave: "LeaveContractorGroup", args: ["c-9"] });
    await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["europe"] });
    await control("faults", { failMethod: { method: "JoinContractorGroup", times: 1, error: "contractors offline" } });
    await control("drop", {});
    await until(() => reconnected.length === 1, "reconnected");
    const failed = telemetry.find((r) => r.type === "rejoinFailed");
    check(failed && failed.join === "JoinContractorGroup" && failed.error.includes("contractors offline"), `rejoinFailed: ${JSON.stringify(failed)}`);
    const mine = (await control("connections")).find((c) => c.connectionId === connection.connectionId);
    equal(mine.groups, ["dispatch:europe"], "groups on the hub");
    equal(failures.map((f) => [f.join, f.args, f.error instanceof Error]), [["JoinContractorGroup", ["c-9"], true]], "onrejoinfailed");
    const done = telemetry.find((r) => r.type === "reconnected");
    equal(done.groupsRejoined, 1, "groups re-joined");
    // The next reconnect tries the failed membership again.
    reconnected.length = 0;
    await control("drop", {});
    await until(() => reconnected.length === 1, "the second reconnect");
    const again = (await control("connections")).find((c) => c.connectionId === connection.connectionId);
    equal(again.groups, ["contractor:c-9", "dispatch:europe"], "groups after the second reconnect");
    await connection.stop();
  },

  async "an event the hub sends twice is delivered once"() {
    const connection = connect();
    const rows = [];
    connection.on("JobAssigned", (job) => rows.push(job.jobId), { dedupe: { key: (job) => job.jobId } });
    await connection.start();
    await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["asia-pacific"] });
    await control("faults", { duplicateNextEvents: 1 });
    const job = { jobId: "twice-1", region: "asia-pacific", contractorId: "c-5", assignedAt: new Date().toISOString() };
    await control("publish", { target: "JobAssigned", arguments: [job], group: "dispatch:asia-pacific" });
    await until(() => connection.health().duplicatesDropped === 1, "the duplicate to be dropped");
    await sleep(50);
    equal(rows, ["twice-1"], "rows");
    await connection.stop();
  },

  async "telemetry reaches the app's sink and the hub's endpoint without the token"() {
    const TOKEN = "secret-token-4f9c";
    const sink = [];
    await control("telemetry", undefined, "DELETE");
    const connection = connect({ ...WS_ONLY, accessTokenFactory: () => TOKEN }, (b) =>
      b.withAutomaticReconnect(FAST).withTelemetry({
        onEvent: (record) => sink.push(record),
        url: "/api/telemetry",
        batchSize: 2,
        flushIntervalMs: 100,
        latencyFields: { JobAssigned: "assignedAt" },
      }),
    );
    const reconnected = [];
    connection.onreconnected(() => reconnected.push(1));
    connection.on("JobAssigned", () => {});
    await connection.start();
    await control("drop", {});
    await until(() => reconnected.length === 1, "reconnected");
    await control("publish", { target: "JobAssigned", arguments: [{ jobId: "t-1", region: "r", contractorId: "c", assignedAt: new Date().toISOString() }] });
    await until(() => sink.some((r) => r.type === "messageLatency"), "a latency record");
    connection.flushTelemetry();
    const types = new Set(sink.map((r) => r.type));
    for (const type of ["connectionOpened", "connectionClosed", "reconnectAttempt", "reconnected", "messageLatency"]) {
      check(types.has(type), `sink has ${type}: ${[...types]}`);
    }
    await until(async () => (await control("telemetry")).length >= sink.length, "the POSTed records");
    const posted = await control("telemetry");
    check(posted.some((r) => r.type === "reconnected"), "the hub received a reconnected record");
    check(!JSON.stringify(sink).includes(TOKEN) && !JSON.stringify(posted).includes(TOKEN), "no token in telemetry");
    await connection.stop();
  },
};
