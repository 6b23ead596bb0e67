// Checks of the basic client: start, invoke, send, handlers, stop, tokens, server close, and
// the connection manager: reconnect, group rejoin, dedupe, state changes.

import { HttpTransportType, HubConnectionState, Subject } from "/pkg/index.js";
import { check, connect, control, equal, nextCall, rejection, sleep, until, within } from "./util.js";

/** Each check: a name and an async function that throws on failure. */
export const checks = {
  async "start connects and reports a connection id"() {
    const connection = connect();
    equal(connection.state, HubConnectionState.Disconnected, "state before start");
    await connection.start();
    equal(connection.state, HubConnectionState.Connected, "state after start");
    check(typeof connection.connectionId === "string" && connection.connectionId.length > 0, "connectionId is set");
    const listed = await control("connections");
    check(listed.some((c) => c.connectionId === connection.connectionId), "the hub lists the connection");
    await connection.stop();
  },

  async "invoke Echo returns a string"() {
    const connection = connect();
    await connection.start();
    equal(await connection.invoke("Echo", "hello ☃"), "hello ☃", "Echo result");
    await connection.stop();
  },

  async "invoke Echo returns an object"() {
    const connection = connect();
    await connection.start();
    const value = { jobId: 42, tags: ["a", "b"], nested: { ok: true, none: null } };
    equal(await connection.invoke("Echo", value), value, "Echo result");
    await connection.stop();
  },

  async "a joined dispatch group receives RecommendationReady and no other region's"() {
    const connection = connect();
    const received = [];
    connection.on("RecommendationReady", (payload) => received.push(payload));
    await connection.start();
    const joined = await connection.invoke("JoinDispatchGroup", "north-america");
    check(joined === undefined || joined === null, `a void method resolves with nothing, got ${joined}`);
    const arrived = nextCall((cb) => connection.on("recommendationready", cb), "RecommendationReady");
    const europe = { jobId: "job-eu", region: "europe", contractorId: "c-9", score: 0.5, recommendedAt: new Date().toISOString() };
    const america = { jobId: "job-na", region: "north-america", contractorId: "c-1", score: 0.93, recommendedAt: new Date().toISOString() };
    await control("publish", { target: "RecommendationReady", arguments: [europe], group: "dispatch:europe" });
    await control("publish", { target: "RecommendationReady", arguments: [america], group: "dispatch:north-america" });
    const [payload] = await arrived;
    equal(payload, america, "payload");
    await sleep(100);
    equal(received.map((p) => p.jobId), ["job-na"], "deliveries");
    await connection.stop();
  },

  async "a server error rejects invoke with the server's message"() {
    const connection = connect();
    await connection.start();
    const error = await rejection(connection.invoke("Fail", "boom"));
    check(error instanceof Error, "rejects with an Error");
    check(error.message.includes("HubException: boom"), `message was: ${error.message}`);
    equal(connection.state, HubConnectionState.Connected, "state after the error");
    await connection.stop();
  },

  async "an unknown hub method rejects invoke"() {
    const connection = connect();
    await connection.start();
    const error = await rejection(connection.invoke("NoSuchMethod"));
    check(error.message.includes("NoSuchMethod"), `message was: ${error.message}`);
    await connection.stop();
  },

  async "send delivers a chat message to the workflow group"() {
    const connection = connect();
    await connection.start();
    await connection.invoke("JoinWorkflow", "wf-7");
    const arrived = nextCall((cb) => connection.on("ReceiveMessage", cb), "ReceiveMessage");
    equal(await connection.send("SendMessage", "hi team"), undefined, "send result");
    const [message] = await arrived;
    equal([message.workflowId, message.text], ["wf-7", "hi team"], "message");
    await connection.stop();
  },

  async "off removes a handler"() {
    const connection = connect();
    let calls = 0;
    const handler = () => calls++;
    connection.on("JobAssigned", handler);
    connection.off("jobassigned", handler);
    const other = nextCall((cb) => connection.on("JobAssigned", cb), "JobAssigned");
    await connection.start();
    await control("publish", { target: "JobAssigned", arguments: [{ jobId: "j1", region: "r", contractorId: "c", assignedAt: "2026-01-01T00:00:00Z" }] });
    await other;
    equal(calls, 0, "calls of the removed handler");
    await connection.stop();
  },

  async "invoke before start rejects with a clear error"() {
    const connection = connect();
    const error = await rejection(connection.invoke("Echo", 1));
    check(error.message.includes("'Connected' State"), `message was: ${error.message}`);
  },

  async "stop disconnects and calls onclose without an error"() {
    const connection = connect();
    const closed = nextCall((cb) => connection.onclose(cb), "onclose");
    await connection.start();
    await connection.stop();
    equal(connection.state, HubConnectionState.Disconnected, "state after stop");
    const [error] = await closed;
    equal(error, undefined, "onclose argument");
    equal(connection.connectionId, null, "connectionId after stop");
  },

  async "accessTokenFactory's token reaches the hub"() {
    let calls = 0;
    const connection = connect({ accessTokenFactory: async () => `token-${++calls}` });
    await connection.start();
    const mine = (await control("connections")).find((c) => c.connectionId === connection.connectionId);
    check(mine, "the hub lists the connection");
    check(String(mine.accessToken).startsWith("token-"), `hub saw token ${mine.accessToken}`);
    equal(calls, 2, "factory calls (negotiate and connect)");
    await connection.stop();
  },

  async "a server Close with an error reaches onclose and rejects pending calls"() {
    const connection = connect();
    await connection.start();
    // Two calls the hub cannot finish before it closes: an upload whose stream never completes,
    // and a server stream of 1000 items 50 ms apart.
    const upload = new Subject();
    const pendingInvoke = rejection(connection.invoke("UploadSum", upload));
    upload.next(1);
    const pendingStream = new Promise((resolve) => {
      connection.stream("Count", 1000, 50).subscribe({ next: () => {}, error: resolve, complete: () => resolve("completed") });
    });
    await until(async () => (await control("log")).some((e) => e.kind === "streamInvocation" && e.connectionId === connection.connectionId), "the hub to start the stream");
    const closed = nextCall((cb) => connection.onclose(cb), "onclose");
    await control("close", { error: "maintenance window" });
    const [error] = await closed;
    check(error instanceof Error && error.message.includes("maintenance window"), `onclose got ${error}`);
    equal(connection.state, HubConnectionState.Disconnected, "state after close");
    const invokeError = await within(pendingInvoke, "the pending invoke to reject");
    check(invokeError instanceof Error, `the pending invoke rejected with ${invokeError}`);
    const streamError = await within(pendingStream, "the pending stream to end");
    check(streamError instanceof Error, `the pending stream ended with ${streamError} (not an error)`);
  },

  async "an abrupt drop closes the connection with an error"() {
    const connection = connect();
    await connection.start();
    const closed = nextCall((cb) => connection.onclose(cb), "onclose");
    await control("drop", {});
    const [error] = await closed;
    check(error instanceof Error, `onclose got ${error}`);
    equal(connection.state, HubConnectionState.Disconnected, "state after drop");
  },

  async "a dropped connection reconnects with a new id and its groups get events again"() {
    const connection = connect({}, (b) => b.withAutomaticReconnect([0, 100, 200]));
    const lifecycle = [];
    const received = [];
    connection.onreconnecting((error) => lifecycle.push(`reconnecting: ${error?.message ?? "-"}`));
    connection.onreconnected((id) => lifecycle.push(`reconnected ${id}`));
    connection.onclose(() => lifecycle.push("closed"));
    connection.on("JobAssigned", (job) => received.push(job.jobId));
    await connection.start();
    await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["north-america"] });
    await connection.joinGroup({ join: "JoinContractorGroup", leave: "LeaveContractorGroup", args: ["c-42"] });
    const firstId = connection.connectionId;
    await control("drop", {});
    await until(() => lifecycle.some((l) => l.startsWith("reconnected")), "reconnected");
    equal(connection.state, HubConnectionState.Connected, "state");
    check(connection.connectionId !== firstId, "a new connection id");
    check(lifecycle[0].startsWith("reconnecting"), `first event: ${lifecycle[0]}`);
    equal(lifecycle[1], `reconnected ${connection.connectionId}`, "reconnected with the new id");
    const mine = (await control("connections")).find((c) => c.connectionId === connection.connectionId);
    equal(mine.groups, ["contractor:c-42", "dispatch:north-america"], "groups re-joined on the hub");
    const job = { jobId: "after-drop", region: "north-america", contractorId: "c-1", assignedAt: new Date().toISOString() };
    await control("publish", { target: "JobAssigned", arguments: [job], group: "dispatch:north-america" });
    await until(() => received.includes("after-drop"), "the event after the reconnect");
    equal(connection.health().reconnectCount, 1, "reconnect count");
    await connection.stop();
  },

  async "a repeated event is delivered once and a stale one not at all"() {
    const connection = connect();
    const delivered = [];
    const telemetry = [];
    connection.on("LongTermObligationsUpdated", (summary) => delivered.push(`${summary.userId}@${summary.updatedAt}`), {
      dedupe: { key: (s) => s.userId, version: (s) => s.updatedAt },
    });
    await connection.start();
    const update = (updatedAt) => ({ userId: "u-1", obligationsSummary: "3 due", nextDueDate: "2026-12-01", totalEstimate: 120, updatedAt });
    for (const updatedAt of ["2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z", "2026-11-23T09:00:00Z", "2026-11-23T11:00:00Z"]) {
      await control("publish", { target: "LongTermObligationsUpdated", arguments: [update(updatedAt)] });
    }
    await until(() => delivered.length >= 2 && connection.health().duplicatesDropped >= 2, "the updates");
    await sleep(100);
    equal(delivered, ["u-1@2026-11-23T10:00:00Z", "u-1@2026-11-23T11:00:00Z"], "delivered");
    equal(connection.health().duplicatesDropped, 2, "duplicates dropped");
    await connection.stop();
  },

  async "state changes are reported with attempt and next retry"() {
    // One refused connect makes a schedule with two retries: attempt 1 at once (refused), then
    // attempt 2 after the policy's 100 ms.
    // WebSockets only: with every transport allowed, the refused connect would be answered by
    // falling back to the next transport within attempt 1.
    const connection = connect({ transport: HttpTransportType.WebSockets }, (b) => b.withAutomaticReconnect([0, 100, 1000]));
    const changes = [];
    connection.onstatechange((change) => changes.push(change));
    await connection.start();
    await control("faults", { refuseConnects: 1 });
    await control("drop", {});
    await until(() => connection.state === HubConnectionState.Connected && changes.some((c) => c.current === "Reconnecting"), "the reconnect");
    const shown = JSON.stringify(changes.map(({ previous, current, attempt, nextRetryInMs }) => ({ previous, current, attempt, nextRetryInMs })));
    const states = changes.map((c) => c.current);
    check(states.includes("Connecting") && states.includes("Connected") && states.includes("Reconnecting"), `states: ${states}`);
    const retries = changes.filter((c) => c.nextRetryInMs !== null);
    equal(retries.map((c) => [c.attempt, c.nextRetryInMs]), [[0, 0], [1, 100]], `scheduled retries as [attempt made, next retry in ms] in ${shown}`);
    // Each attempt is announced as it starts (attempt 1, attempt 2), and each wait before one
    // carries the count so far with its delay.
    const attempts = changes.filter((c) => c.current === "Reconnecting").map((c) => c.attempt);
    equal(attempts, [0, 0, 1, 1, 2], `the Reconnecting changes' attempt counts in ${shown}`);
    const last = changes.at(-1);
    equal([last.previous, last.current, last.transport], ["Reconnecting", "Connected", "WebSockets"], "last change");
    // Connected ends the episode: its count starts again at 0.
    equal(last.attempt, 0, "attempt in the Connected change");
    equal(last.connectionId, connection.connectionId, "connection id in the change");
    await connection.stop();
  },
};
