// The live-subscriptions harness: scenario checks of hubwire/live (subscribe, PlainSocketConnection)
// against the mock hub, shown as a table for people and exposed as `window.hubwireLiveHarness`
// for tests/js/live-subscriptions.test.mjs.
//
// The first group plays the scenarios against the mock's dashboard scenario: obligations
// polled at /api/obligations/<userId> and pushed to the hub group user:<userId>, the flags
// document at /api/flags, stats on the plain /ws WebSocket. Each check uses its own user id and
// access token, so the mock's /control/log tells exactly which polls, negotiates and sockets were
// its own. The second group checks SDK behaviours that need no server state (poll functions,
// backoff values, the async iterator, shared connections) with in-page poll functions.
//
// Waits are conditions with a deadline. The few "nothing more happens" checks wait several poll
// intervals, which can only make a bug harder to catch on a slow machine, never fail a good run.

import { HubConnectionBuilder, LogLevel } from "/pkg/index.js";
import { connectPlain, subscribe } from "/pkg/live.js";
import { runChecks } from "./checks/runner.js";

const WAIT_MS = 10_000;
/** The poll interval of the checks: short, so schedules play out in well under a second. */
const INTERVAL_MS = 150;
const FLAG = "dashboard_wave4_signalr_enabled";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function control(path, body, method) {
  const response = await fetch(`/control/${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

const clearFaults = () => control("faults", undefined, "DELETE");
const setFlag = (enabled) => control("flags", { [FLAG]: enabled });

/** Resolves when `predicate()` holds, polling; fails after `waitMs`. */
async function until(predicate, what, waitMs = WAIT_MS) {
  const deadline = performance.now() + waitMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** JSON text with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

function equal(actual, expected, what) {
  const a = canonical(actual);
  const e = canonical(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

let tagCount = 0;

/** A tag unique to one check: its connections' access token, user id and group names. */
function newTag() {
  tagCount += 1;
  return `live-${Date.now().toString(36)}-${tagCount}`;
}

/** A hub connection that identifies itself with `tag` in the mock's log. */
function hubConnection(tag, reconnect = { delays: [0, 100], keepTrying: true }) {
  return new HubConnectionBuilder()
    .withUrl("/hub", { accessTokenFactory: () => tag })
    .withAutomaticReconnect(reconnect)
    .configureLogging(LogLevel.Error)
    .build();
}

async function log() {
  return control("log");
}

/** The mock's negotiates made with this token. */
async function negotiates(tag) {
  return (await log()).filter((entry) => entry.kind === "negotiate" && entry.accessToken === tag);
}

/** The mock's answered polls of `path`, oldest first. */
async function polls(path) {
  return (await log()).filter((entry) => entry.kind === "poll" && entry.path === path);
}

const obligationsPath = (userId) => `/api/obligations/${userId}`;

/** The obligations subscription of the dashboard, for `userId`, over the mock's endpoints. */
function obligationsSpec(userId, extra = {}) {
  return {
    event: "LongTermObligationsUpdated",
    group: { join: "JoinUserGroup", leave: "LeaveUserGroup", args: [userId] },
    poll: obligationsPath(userId),
    intervalMs: INTERVAL_MS,
    key: "userId",
    version: "updatedAt",
    flag: { url: "/api/flags", name: FLAG },
    flagRefreshMs: 100,
    fallbackAfterMs: 300,
    ...extra,
  };
}

/** Changes the user's summary on the mock; `push: false` is a lost event. Answers the summary. */
async function changeObligations(userId, push = true) {
  return (await control(`obligations/${userId}`, { push })).summary;
}

/** Records a subscription's deliveries, sources and telemetry. */
function recorder() {
  const record = { values: [], origins: [], sources: [], telemetry: [] };
  record.onTelemetry = (entry) => record.telemetry.push(entry);
  record.watch = (subscription) => {
    subscription.onUpdate((value, info) => {
      record.values.push(value);
      record.origins.push(info.source);
    });
    subscription.onSourceChange((change) => record.sources.push(change.current));
  };
  /** Kinds of the polls made since the source last switched to push. */
  record.pollsSincePush = () => {
    const from = record.telemetry.findLastIndex((t) => t.type === "sourceSwitched" && t.to === "push");
    return record.telemetry.slice(from + 1).filter((t) => t.type === "pollMade").map((t) => t.kind);
  };
  record.of = (type) => record.telemetry.filter((t) => t.type === type);
  return record;
}

/** Resolves with the next value of an async iterator, failing after WAIT_MS. */
function nextOf(iterator, what) {
  return Promise.race([
    iterator.next(),
    sleep(WAIT_MS).then(() => {
      throw new Error(`timed out waiting for ${what}`);
    }),
  ]);
}

const unhandled = [];
window.addEventListener("unhandledrejection", (event) => unhandled.push(String(event.reason?.message ?? event.reason)));

/** The poll side of an obligations endpoint, in the page: the check moves its version and breaks it. */
class PagePollEndpoint {
  version = 1;
  failing = false;
  calls = 0;

  constructor(userId = "u-1") {
    this.userId = userId;
  }

  doc(version = this.version) {
    return { userId: this.userId, totalEstimate: 100 + version, updatedAt: new Date(Date.UTC(2026, 0, 1, 0, version)).toISOString() };
  }

  /** The poll function: answers `{ data: doc }` (so `map` has work to do), or fails. */
  poll = async () => {
    this.calls += 1;
    if (this.failing) throw new Error("HTTP 500 Internal Server Error");
    return { data: this.doc() };
  };
}

const checks = {
  // ----- the dashboard scenarios, against the mock's endpoints ------------------------------------

  async "flag off: REST polls only, and no negotiate for the subscription"() {
    const tag = newTag();
    await setFlag(false);
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(tag));
    try {
      await until(async () => (await polls(obligationsPath(tag))).length >= 3, "three polls");
      equal([subscription.flag, subscription.source], [false, "polling"], "flag and source");
      equal(connection.state, "Disconnected", "the connection was never started");
      equal((await negotiates(tag)).length, 0, "negotiates");
      const rest = await (await fetch(obligationsPath(tag))).json();
      equal(subscription.current, rest, "the value is the REST document");
    } finally {
      subscription.unsubscribe();
      await setFlag(true);
    }
  },

  async "flag on with a healthy hub: one catch-up poll, then pushes and no polls"() {
    const tag = newTag();
    const record = recorder();
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(tag, { onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && record.values.length === 1, "push and the first value");
      const pushed = await changeObligations(tag);
      await until(() => record.values.length === 2, "the pushed change");
      await sleep(INTERVAL_MS * 5);
      equal((await polls(obligationsPath(tag))).length, 1, "REST polls (the catch-up only)");
      equal(record.pollsSincePush(), ["catchUp"], "polls since push came up");
      equal(record.origins, ["poll", "push"], "where the updates came from");
      equal(subscription.current, pushed, "current");
      equal((await negotiates(tag)).length, 1, "negotiates");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "flag on with the hub down: polls, then push once it is up, and no polls after the catch-up"() {
    const tag = newTag();
    const record = recorder();
    await control("faults", { refuseNegotiations: 1000 });
    const connection = hubConnection(tag, { delays: [100], keepTrying: true, retryFirstStart: true });
    const subscription = subscribe(connection, obligationsSpec(tag, { fallbackAfterMs: 200, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      try {
        await until(async () => subscription.source === "polling" && (await polls(obligationsPath(tag))).length >= 2, "polling while the hub refuses");
        equal(connection.state, "Connecting", "the connection keeps retrying its first start");
      } finally {
        await clearFaults();
      }
      await until(() => subscription.source === "push", "push once the hub is up");
      const atPush = (await polls(obligationsPath(tag))).length;
      await sleep(INTERVAL_MS * 5);
      check((await polls(obligationsPath(tag))).length <= atPush + 1, "at most the catch-up poll after push came up");
      equal(record.pollsSincePush(), ["catchUp"], "polls since push came up");
      equal(record.sources, ["polling", "push"], "sources");
      equal([record.of("fallbackStarted").map((t) => t.reason), record.of("fallbackStopped").map((t) => t.reason)], [["connectingTooLong"], ["pushUp"]], "fallback reasons");
    } finally {
      subscription.unsubscribe();
      await clearFaults();
    }
  },

  async "a reconnect longer than fallbackAfterMs polls until reconnected"() {
    const tag = newTag();
    const record = recorder();
    const connection = hubConnection(tag, { delays: [0, 100], keepTrying: true });
    const subscription = subscribe(connection, obligationsSpec(tag, { onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      // What this check is about starts here. On a busy machine (three engines side by side)
      // the first start can take longer than fallbackAfterMs (300 ms), and the subscription
      // then polls before its first push: that start is counted out of what follows.
      const from = record.sources.lastIndexOf("push");
      const fallbacksBefore = record.of("fallbackStarted").length;
      await control("faults", { refuseNegotiations: 1000 });
      try {
        await control("drop", {});
        await until(async () => subscription.source === "polling" && (await polls(obligationsPath(tag))).length >= 3, "polling while reconnecting");
        equal(connection.state, "Reconnecting", "connection state");
      } finally {
        await clearFaults();
      }
      await until(() => subscription.source === "push", "push after the reconnect");
      await sleep(INTERVAL_MS * 5);
      equal(record.pollsSincePush(), ["catchUp"], "polls since push came back");
      equal(record.sources.slice(from), ["push", "idle", "polling", "push"], "sources");
      equal(record.of("fallbackStarted").slice(fallbacksBefore).map((t) => t.reason), ["reconnectingTooLong"], "fallback reason");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "a short reconnect makes one catch-up poll and no fallback"() {
    const tag = newTag();
    const record = recorder();
    const connection = hubConnection(tag, { delays: [0], keepTrying: true });
    const subscription = subscribe(connection, obligationsSpec(tag, { fallbackAfterMs: 5_000, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      await control("drop", {});
      await until(() => record.sources.length === 3, "push lost and back");
      await sleep(INTERVAL_MS * 3);
      equal(record.sources, ["push", "idle", "push"], "sources");
      equal((await polls(obligationsPath(tag))).length, 2, "polls: the first catch-up and the one after the reconnect");
      equal(record.of("fallbackStarted").length, 0, "fallbacks");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "the flag flipped at run time switches modes both ways without a reload"() {
    const tag = newTag();
    await setFlag(false);
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(tag));
    try {
      await until(() => subscription.source === "polling", "polling with the flag off");
      equal(connection.state, "Disconnected", "no connection with the flag off");
      await setFlag(true);
      await until(() => subscription.source === "push" && connection.state === "Connected", "push with the flag on");
      const pushed = await changeObligations(tag);
      await until(() => subscription.current?.updatedAt === pushed.updatedAt, "a pushed change");
      await setFlag(false);
      await until(() => subscription.source === "polling" && connection.state === "Disconnected", "polling again, connection stopped");
      const before = (await polls(obligationsPath(tag))).length;
      await until(async () => (await polls(obligationsPath(tag))).length >= before + 2, "polls after the flag went off");
      equal((await negotiates(tag)).length, 1, "negotiates: only while the flag was on");
    } finally {
      subscription.unsubscribe();
      await setFlag(true);
    }
  },

  async "updates are delivered once and never backwards across push, poll, push"() {
    const tag = newTag();
    const record = recorder();
    const connection = hubConnection(tag, { delays: [0, 100], keepTrying: true });
    const subscription = subscribe(connection, obligationsSpec(tag, { fallbackAfterMs: 200, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    const changes = [];
    try {
      await until(() => subscription.source === "push" && record.values.length === 1, "push and the first value");
      changes.push(await changeObligations(tag));
      await until(() => record.values.length === 2, "the first push");
      // push → polling: the polls return the pushed state again (dropped), then a change whose
      // push is lost arrives by poll.
      await control("faults", { refuseNegotiations: 1000 });
      try {
        await control("drop", {});
        await until(() => subscription.source === "polling", "polling");
        const seen = (await polls(obligationsPath(tag))).length;
        await until(async () => (await polls(obligationsPath(tag))).length >= seen + 2, "repeated polls of the same state");
        changes.push(await changeObligations(tag, false));
        await until(() => record.values.length === 3, "the lost change, by poll");
      } finally {
        await clearFaults();
      }
      // polling → push: the catch-up poll returns the same state again (dropped); the next
      // change is pushed twice (a doubled event, dropped once).
      await until(() => subscription.source === "push", "push again");
      await control("faults", { duplicateNextEvents: 1 });
      changes.push(await changeObligations(tag));
      await until(() => record.values.length === 4 && subscription.stats().duplicatesDropped >= 4, "the last change and the drops");
      await sleep(INTERVAL_MS * 2);
      equal(record.values.slice(1).map((v) => v.updatedAt), changes.map((c) => c.updatedAt), "each change delivered once, in order");
      equal(record.origins, ["poll", "push", "poll", "push"], "where they came from");
      const stamps = record.values.map((v) => Date.parse(v.updatedAt));
      check(stamps.every((stamp, i) => i === 0 || stamp > stamps[i - 1]), `never backwards: ${stamps}`);
      const drops = record.of("duplicateDropped");
      check(drops.some((t) => t.source === "poll") && drops.some((t) => t.source === "push"), "drops from both sources are reported");
    } finally {
      subscription.unsubscribe();
      await clearFaults();
    }
  },

  async "failed REST polls back off, are reported, and recover"() {
    const tag = newTag();
    const record = recorder();
    await setFlag(false);
    await control("faults", { failPolls: 3 });
    const subscription = subscribe(hubConnection(tag), obligationsSpec(tag, { intervalMs: 50, maxBackoffMs: 400, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => record.values.length === 1, "a value after the failures");
      equal(record.of("pollFailed").map((t) => t.retryInMs), [100, 200, 400], "backoff after each failure");
      check(record.of("pollFailed")[0].error.includes("HTTP 500"), `the error is reported: ${record.of("pollFailed")[0].error}`);
      equal((await polls(obligationsPath(tag))).map((p) => p.status).slice(0, 4), [500, 500, 500, 200], "statuses the mock answered");
      equal(subscription.stats().pollsFailed, 3, "counted failures");
      equal(unhandled, [], "unhandled rejections");
    } finally {
      subscription.unsubscribe();
      await clearFaults();
      await setFlag(true);
    }
  },

  async "a poll slower than pollTimeoutMs is abandoned and retried"() {
    const tag = newTag();
    const record = recorder();
    await setFlag(false);
    await control("faults", { pollDelayMs: 600 });
    const subscription = subscribe(hubConnection(tag), obligationsSpec(tag, { intervalMs: 50, pollTimeoutMs: 150, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => record.of("pollFailed").length >= 1, "a timed-out poll");
      check(record.of("pollFailed")[0].error.includes("150 ms"), `timeout reported: ${record.of("pollFailed")[0].error}`);
      await control("faults", { pollDelayMs: 0 });
      await until(() => record.values.length === 1, "a value once polls are fast again");
    } finally {
      subscription.unsubscribe();
      await clearFaults();
      await setFlag(true);
    }
  },

  async "unsubscribe stops polling, leaves the group and stops the connection it started"() {
    const tag = newTag();
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(tag));
    await until(() => subscription.source === "push" && subscription.current, "push");
    const mine = (await control("connections")).find((c) => c.accessToken === tag);
    equal(mine?.groups, [`user:${tag}`], "the user's group joined");
    const last = subscription.current;
    subscription.unsubscribe();
    await until(() => connection.state === "Disconnected", "the connection stopped");
    equal(subscription.source, "idle", "source");
    const count = (await polls(obligationsPath(tag))).length;
    await sleep(INTERVAL_MS * 4);
    equal((await polls(obligationsPath(tag))).length, count, "no polls after unsubscribe");
    equal(subscription.current, last, "the last value stays readable");
    check(!(await control("connections")).some((c) => c.accessToken === tag), "the hub no longer lists the connection");
  },

  // ----- plain JSON WebSocket (/ws) ----------------------------------------------------------------

  async "plain WebSocket: the stats subscription gets the initial stats, changes, and the initial stats again after a drop"() {
    const tag = newTag();
    const connection = connectPlain("/ws", { accessTokenFactory: () => tag, reconnect: { delays: [0, 100], keepTrying: true } });
    const received = [];
    const subscription = subscribe(connection, { type: "stats:tasks", onUpdate: (stats) => received.push(stats) });
    try {
      await until(() => subscription.source === "push" && received.length === 1, "the initial stats");
      const initial = (await (await fetch("/api/stats/tasks")).json()).payload;
      equal(received[0], initial, "the initial stats are the current ones");
      const changed = (await control("stats/tasks", {})).message.payload;
      await until(() => received.length === 2, "a change");
      equal(received[1], changed, "the change");
      await control("ws/drop", {});
      await until(() => connection.reconnectCount === 1 && received.length === 3, "the initial stats again after the reconnect");
      equal(received[2], changed, "the stats on reconnect are the current ones");
      const opened = (await log()).filter((e) => e.kind === "statsConnect" && e.accessToken === tag);
      equal(opened.length, 2, "sockets opened (with the token in the query)");
      equal(subscription.source, "push", "source");
    } finally {
      subscription.unsubscribe();
      await connection.stop();
    }
  },

  async "plain WebSocket: a normal closure (1000) by the server does not reconnect; polling takes over"() {
    const tag = newTag();
    const record = recorder();
    const connection = connectPlain("/ws", { accessTokenFactory: () => tag, reconnect: { delays: [0, 100], keepTrying: true } });
    const closed = [];
    connection.onclose((error) => closed.push(error?.message ?? "clean"));
    const subscription = subscribe(connection, {
      type: "stats:tasks",
      poll: "/api/stats/tasks",
      map: (message) => message.payload,
      version: "updatedAt",
      intervalMs: INTERVAL_MS,
      onTelemetry: record.onTelemetry,
    });
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      await control("ws/close", {});
      await until(() => closed.length === 1 && subscription.source === "polling", "closed, then polling");
      await sleep(300);
      equal([connection.state, connection.reconnectCount, closed], ["Disconnected", 0, ["clean"]], "after the close");
      const opened = (await log()).filter((e) => e.kind === "statsConnect" && e.accessToken === tag);
      equal(opened.length, 1, "sockets opened: no reconnect");
      const changed = (await control("stats/tasks", {})).message.payload;
      await until(() => subscription.current?.updatedAt === changed.updatedAt, "the change, by poll");
      equal(record.of("fallbackStarted").map((t) => t.reason), ["pushFailed"], "fallback reason");
    } finally {
      subscription.unsubscribe();
      await connection.stop();
    }
  },

  async "plain WebSocket: an abnormal close code reconnects"() {
    const tag = newTag();
    const connection = connectPlain("/ws", { accessTokenFactory: () => tag, reconnect: { delays: [0, 100], keepTrying: true } });
    const lifecycle = [];
    connection.onreconnecting(() => lifecycle.push("reconnecting"));
    connection.onreconnected(() => lifecycle.push("reconnected"));
    try {
      await until(() => connection.state === "Connected", "connected");
      await control("ws/close", { code: 1011, reason: "restarting" });
      await until(() => lifecycle.length === 2, "reconnected");
      equal(lifecycle, ["reconnecting", "reconnected"], "lifecycle");
      equal(connection.state, "Connected", "state");
    } finally {
      await connection.stop();
    }
  },

  // ----- SDK behaviours with in-page poll functions --------------------------------------------------

  async "a poll function's errors back off exactly and never throw into the app"() {
    const endpoint = new PagePollEndpoint();
    const record = recorder();
    endpoint.failing = true;
    const subscription = subscribe(null, {
      poll: endpoint.poll,
      map: (answer) => answer.data,
      intervalMs: 50,
      maxBackoffMs: 400,
      key: "userId",
      version: "updatedAt",
      onTelemetry: record.onTelemetry,
    });
    record.watch(subscription);
    try {
      await until(() => record.of("pollFailed").length >= 4, "four failed polls");
      equal(record.of("pollFailed").slice(0, 4).map((t) => t.retryInMs), [100, 200, 400, 400], "backoff, capped");
      equal(subscription.source, "polling", "still polling");
      endpoint.failing = false;
      await until(() => record.values.length === 1, "a value once the function recovers");
      equal(unhandled, [], "unhandled rejections");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "refresh() polls now and reads the flag again"() {
    const tag = newTag();
    let flagReads = 0;
    const flag = () => {
      flagReads += 1;
      return Promise.resolve(true);
    };
    const subscription = subscribe(hubConnection(tag), obligationsSpec(tag, { flag, flagRefreshMs: 0 }));
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      const [before, reads] = [(await polls(obligationsPath(tag))).length, flagReads];
      const changed = await changeObligations(tag, false);
      await subscription.refresh();
      equal((await polls(obligationsPath(tag))).length, before + 1, "polls after refresh()");
      equal(subscription.current, changed, "the refreshed value");
      await until(() => flagReads === reads + 1, "the flag read again");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "a poll URL and a flags document can be any JSON URL"() {
    const doc = new PagePollEndpoint().doc(9);
    const subscription = subscribe(hubConnection(newTag()), {
      event: "LongTermObligationsUpdated",
      poll: `data:application/json,${encodeURIComponent(JSON.stringify({ data: doc }))}`,
      map: (answer) => answer.data,
      intervalMs: INTERVAL_MS,
      flag: { url: `data:application/json,${encodeURIComponent(JSON.stringify({ [FLAG]: false }))}`, name: FLAG },
    });
    try {
      await until(() => subscription.current, "the polled value");
      equal([subscription.current, subscription.flag, subscription.source], [doc, false, "polling"], "value, flag, source");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "subscriptions share a connection the app started and leave it running"() {
    const tag = newTag();
    const [userA, userB] = [`${tag}-a`, `${tag}-b`];
    const connection = hubConnection(tag);
    await connection.start();
    const mineOnly = (userId) => ({ filter: (summary) => summary.userId === userId });
    const subscriptionA = subscribe(connection, obligationsSpec(userA, mineOnly(userA)));
    const subscriptionB = subscribe(connection, obligationsSpec(userB, mineOnly(userB)));
    try {
      await until(() => subscriptionA.source === "push" && subscriptionB.source === "push", "both on push");
      subscriptionA.unsubscribe();
      await until(async () => {
        const mine = (await control("connections")).find((c) => c.accessToken === tag);
        return mine && !mine.groups.includes(`user:${userA}`);
      }, "the first user's group left");
      equal(connection.state, "Connected", "the app's connection keeps running");
      const changed = await changeObligations(userB);
      await until(() => subscriptionB.current?.updatedAt === changed.updatedAt, "the second subscription still gets pushes");
      const mine = (await control("connections")).find((c) => c.accessToken === tag);
      equal(mine.groups, [`user:${userB}`], "groups on the hub");
    } finally {
      subscriptionA.unsubscribe();
      subscriptionB.unsubscribe();
      await connection.stop();
    }
  },

  async "the async iterator yields the current value, then each update, and ends on unsubscribe"() {
    const endpoint = new PagePollEndpoint();
    const subscription = subscribe(null, { poll: endpoint.poll, map: (a) => a.data, intervalMs: 50, key: "userId", version: "updatedAt" });
    await until(() => subscription.current, "the first value");
    const iterator = subscription[Symbol.asyncIterator]();
    const first = await nextOf(iterator, "the current value");
    endpoint.version = 2;
    const second = await nextOf(iterator, "the next update");
    subscription.unsubscribe();
    const end = await nextOf(iterator, "the end");
    equal([first.value.updatedAt, second.value.updatedAt, end.done], [endpoint.doc(1).updatedAt, endpoint.doc(2).updatedAt, true], "iteration");
  },
};

window.hubwireLiveHarness = runChecks(checks);
