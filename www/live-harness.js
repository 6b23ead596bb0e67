// The live-subscriptions harness: scenario checks of hubwire/live (subscribe, PlainSocketConnection)
// against the mock hub, shown as a table for people and exposed as `window.hubwireLiveHarness`
// for tests/js/live-subscriptions.test.mjs.
//
// Each check counts what matters instead of timing it: polls made (the poll functions below count
// their calls, the subscription's telemetry names each poll's kind), hub requests (the mock's
// /control/log, filtered by the check's own access token), and deliveries. Waits are conditions
// with a deadline; the few "nothing more happens" checks wait several poll intervals, which can
// only make a bug harder to catch on a slow machine, never make a good run fail.
//
// Checks that need mock endpoints this mock does not serve (the obligations REST endpoint, the
// flags document, the plain /ws endpoint) report themselves skipped with what is missing.

import { HubConnectionBuilder, LogLevel } from "/pkg/index.js";
import { connectPlain, subscribe } from "/pkg/live.js";

const WAIT_MS = 10_000;
/** The poll interval of the checks: short, so schedules play out in well under a second. */
const INTERVAL_MS = 150;
/** The mock endpoints the mock-backed checks use. */
const MOCK = {
  obligations: (userId) => `/api/obligations/${userId}`,
  flags: "/api/flags",
  flagName: "dashboard_wave4_signalr_enabled",
  plainSocket: "/ws",
  userGroup: (userId) => ({ join: "JoinUserGroup", leave: "LeaveUserGroup", args: [userId] }),
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function control(path, body, method) {
  const response = await fetch(`/control/${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status}`);
  return response.json();
}

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

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

/** Marks a check as skipped (it needs something the mock does not serve). */
class Skip extends Error {}

let tagCount = 0;

/** A tag unique to one check: its connections' access token and its dispatch region. */
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

/** The mock's log entries of `kind` made with this check's token. */
async function hubRequests(tag, kind) {
  const log = await control("log");
  return log.filter((entry) => entry.kind === kind && entry.accessToken === tag);
}

const updatedAt = (version) => new Date(Date.UTC(2026, 10, 23, 10, version)).toISOString();

/** The poll side of an obligations endpoint, in the page: the test moves its version and breaks it. */
class ObligationsEndpoint {
  version = 1;
  failing = false;
  calls = 0;

  constructor(userId = "u-1") {
    this.userId = userId;
  }

  doc(version = this.version) {
    return {
      userId: this.userId,
      obligationsSummary: `${version} obligations due`,
      nextDueDate: "2026-12-01",
      totalEstimate: 100 + version,
      updatedAt: updatedAt(version),
    };
  }

  /** The poll function: answers `{ data: doc }` (so `map` has work to do), or fails. */
  poll = async () => {
    this.calls += 1;
    if (this.failing) throw new Error("HTTP 500 Internal Server Error");
    return { data: this.doc() };
  };
}

/** The obligations subscription of the checks, over the dispatch group `region`. */
function obligationsSpec(endpoint, region, extra = {}) {
  return {
    event: "LongTermObligationsUpdated",
    group: { join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [region] },
    poll: endpoint.poll,
    intervalMs: INTERVAL_MS,
    map: (answer) => answer.data,
    key: "userId",
    version: "updatedAt",
    fallbackAfterMs: 300,
    ...extra,
  };
}

/** Pushes version `version` of the endpoint's document to the region's group. */
function publish(endpoint, region, version = endpoint.version) {
  return control("publish", { target: "LongTermObligationsUpdated", arguments: [endpoint.doc(version)], group: `dispatch:${region}` });
}

/** Records a subscription's deliveries (as "minute@source"), sources and telemetry. */
function recorder() {
  const record = { updates: [], sources: [], telemetry: [] };
  record.onTelemetry = (entry) => record.telemetry.push(entry);
  record.watch = (subscription) => {
    subscription.onUpdate((value, info) => record.updates.push(`${new Date(value.updatedAt).getUTCMinutes()}@${info.source}`));
    subscription.onSourceChange((change) => record.sources.push(change.current));
  };
  /** Kinds of the polls made since the source last switched to push. */
  record.pollsSincePush = () => {
    const from = record.telemetry.findLastIndex((t) => t.type === "sourceSwitched" && t.to === "push");
    return record.telemetry.slice(from + 1).filter((t) => t.type === "pollMade").map((t) => t.kind);
  };
  return record;
}

/** Fails unless GET `url` answers (the mock serves it). */
async function requireEndpoint(url, what) {
  const response = await fetch(url).catch(() => null);
  if (!response || response.status === 404) throw new Skip(`the mock does not serve ${what} (${url})`);
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

const checks = {
  async "flag off: polls only, and no negotiate for the subscription"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: false }));
    try {
      await until(() => endpoint.calls >= 3, "three polls");
      equal(subscription.source, "polling", "source");
      equal(connection.state, "Disconnected", "the connection was never started");
      equal(subscription.current?.updatedAt, updatedAt(1), "the value comes from the poll (mapped)");
      equal((await hubRequests(tag, "negotiate")).length, 0, "negotiates");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "flag on with a healthy hub: one catch-up poll, then push and no polls"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const record = recorder();
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: true, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && subscription.current, "push and the first value");
      endpoint.version = 2;
      await publish(endpoint, tag);
      await until(() => record.updates.length === 2, "the pushed update");
      await sleep(INTERVAL_MS * 5);
      equal(endpoint.calls, 1, "polls (the catch-up only)");
      equal(record.pollsSincePush(), ["catchUp"], "polls since push came up");
      equal(record.updates, ["1@poll", "2@push"], "deliveries");
      equal((await hubRequests(tag, "negotiate")).length, 1, "negotiates");
      const mine = (await control("connections")).find((c) => c.accessToken === tag);
      check(mine?.groups.includes(`dispatch:${tag}`), `the group was joined: ${JSON.stringify(mine)}`);
    } finally {
      subscription.unsubscribe();
    }
  },

  async "flag on with the hub down: polls, then push once it is up, then no polls after the catch-up"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const record = recorder();
    await control("faults", { refuseNegotiations: 1000 });
    const connection = hubConnection(tag, { delays: [100], keepTrying: true, retryFirstStart: true });
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: true, fallbackAfterMs: 200, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      try {
        await until(() => subscription.source === "polling" && endpoint.calls >= 2, "polling while the hub refuses");
        equal(connection.state, "Connecting", "the connection keeps retrying its first start");
      } finally {
        await control("faults", undefined, "DELETE");
      }
      await until(() => subscription.source === "push", "push once the hub is up");
      await sleep(INTERVAL_MS * 5);
      equal(record.pollsSincePush(), ["catchUp"], "polls since push came up");
      equal(record.sources, ["polling", "push"], "sources");
      const started = record.telemetry.filter((t) => t.type === "fallbackStarted").map((t) => t.reason);
      const stopped = record.telemetry.filter((t) => t.type === "fallbackStopped").map((t) => t.reason);
      equal([started, stopped], [["connectingTooLong"], ["pushUp"]], "fallback reasons");
    } finally {
      subscription.unsubscribe();
      await control("faults", undefined, "DELETE");
    }
  },

  async "a reconnect longer than fallbackAfterMs polls until reconnected"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const record = recorder();
    const connection = hubConnection(tag, { delays: [0, 100], keepTrying: true });
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: true, fallbackAfterMs: 300, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      await control("faults", { refuseNegotiations: 1000 });
      try {
        await control("drop", {});
        await until(() => subscription.source === "polling" && endpoint.calls >= 3, "polling while reconnecting");
        equal(connection.state, "Reconnecting", "connection state");
      } finally {
        await control("faults", undefined, "DELETE");
      }
      await until(() => subscription.source === "push", "push after the reconnect");
      await sleep(INTERVAL_MS * 5);
      equal(record.pollsSincePush(), ["catchUp"], "polls since push came back");
      equal(record.sources, ["push", "idle", "polling", "push"], "sources");
      const reasons = record.telemetry.filter((t) => t.type === "fallbackStarted").map((t) => t.reason);
      equal(reasons, ["reconnectingTooLong"], "fallback reason");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "a short reconnect makes one catch-up poll and no fallback"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const record = recorder();
    const connection = hubConnection(tag, { delays: [0], keepTrying: true });
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: true, fallbackAfterMs: 5_000, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      await control("drop", {});
      await until(() => record.sources.length === 3, "push lost and back");
      await sleep(INTERVAL_MS * 3);
      equal(record.sources, ["push", "idle", "push"], "sources");
      equal(endpoint.calls, 2, "polls: the first catch-up and the one after the reconnect");
      equal(record.telemetry.filter((t) => t.type === "fallbackStarted").length, 0, "fallbacks");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "the flag flipped at run time switches modes both ways without a reload"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const connection = hubConnection(tag);
    let flagOn = false;
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: () => flagOn, flagRefreshMs: 100 }));
    try {
      await until(() => subscription.source === "polling", "polling with the flag off");
      equal(connection.state, "Disconnected", "no connection with the flag off");
      flagOn = true;
      await until(() => subscription.source === "push" && connection.state === "Connected", "push with the flag on");
      flagOn = false;
      await until(() => subscription.source === "polling" && connection.state === "Disconnected", "polling again, connection stopped");
      const pollsBefore = endpoint.calls;
      await until(() => endpoint.calls >= pollsBefore + 2, "polls after the flag went off");
      equal((await hubRequests(tag, "negotiate")).length, 1, "negotiates: only while the flag was on");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "updates are delivered once and never backwards across push, poll, push"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const record = recorder();
    const connection = hubConnection(tag, { delays: [0, 100], keepTrying: true });
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: true, fallbackAfterMs: 200, onTelemetry: record.onTelemetry }));
    record.watch(subscription);
    try {
      await until(() => subscription.source === "push" && record.updates.length === 1, "push and v1 from the catch-up poll");
      endpoint.version = 2;
      await publish(endpoint, tag);
      await until(() => record.updates.length === 2, "v2 pushed");
      // push → polling: the polls return v2 again, which is dropped.
      await control("faults", { refuseNegotiations: 1000 });
      try {
        await control("drop", {});
        await until(() => subscription.source === "polling", "polling");
        const polls = endpoint.calls;
        await until(() => endpoint.calls >= polls + 2, "repeated polls of v2");
        endpoint.version = 3;
        await until(() => record.updates.length === 3, "v3 polled");
      } finally {
        await control("faults", undefined, "DELETE");
      }
      // polling → push: the catch-up poll returns v3 again; a doubled and a stale push follow.
      await until(() => subscription.source === "push", "push again");
      await publish(endpoint, tag, 3);
      await control("faults", { duplicateNextEvents: 1 });
      endpoint.version = 4;
      await publish(endpoint, tag);
      await publish(endpoint, tag, 2);
      await until(() => record.updates.length === 4 && subscription.stats().duplicatesDropped >= 5, "v4 and the drops");
      await sleep(INTERVAL_MS * 2);
      equal(record.updates, ["1@poll", "2@push", "3@poll", "4@push"], "deliveries");
      equal(subscription.current.updatedAt, updatedAt(4), "current");
      const drops = record.telemetry.filter((t) => t.type === "duplicateDropped");
      check(drops.some((t) => t.source === "poll") && drops.some((t) => t.source === "push"), "drops from both sources are reported");
    } finally {
      subscription.unsubscribe();
      await control("faults", undefined, "DELETE");
    }
  },

  async "refresh() polls now and reads the flag again"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    let flagReads = 0;
    const connection = hubConnection(tag);
    const flag = () => {
      flagReads += 1;
      return Promise.resolve(true);
    };
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag, flagRefreshMs: 0 }));
    try {
      await until(() => subscription.source === "push" && subscription.current, "push");
      const [polls, reads] = [endpoint.calls, flagReads];
      endpoint.version = 5;
      await subscription.refresh();
      equal(endpoint.calls, polls + 1, "polls after refresh()");
      equal(subscription.current.updatedAt, updatedAt(5), "the refreshed value");
      await until(() => flagReads === reads + 1, "the flag read again");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "poll errors back off, are reported, and never throw into the app"() {
    const endpoint = new ObligationsEndpoint();
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
      const failures = () => record.telemetry.filter((t) => t.type === "pollFailed");
      await until(() => failures().length >= 4, "four failed polls");
      equal(failures().slice(0, 4).map((t) => t.retryInMs), [100, 200, 400, 400], "backoff");
      check(failures()[0].error.includes("HTTP 500"), `the error is reported: ${failures()[0].error}`);
      equal(subscription.source, "polling", "still polling");
      endpoint.failing = false;
      await until(() => record.updates.length === 1, "a value once the endpoint recovers");
      equal(subscription.stats().pollsFailed, failures().length, "counted failures");
      equal(unhandled, [], "unhandled rejections");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "a poll URL and a flags document are fetched as JSON"() {
    const doc = new ObligationsEndpoint().doc(9);
    const subscription = subscribe(hubConnection(newTag()), {
      event: "LongTermObligationsUpdated",
      poll: `data:application/json,${encodeURIComponent(JSON.stringify({ data: doc }))}`,
      map: (answer) => answer.data,
      intervalMs: INTERVAL_MS,
      flag: { url: `data:application/json,${encodeURIComponent(JSON.stringify({ [MOCK.flagName]: false }))}`, name: MOCK.flagName },
    });
    try {
      await until(() => subscription.current, "the polled value");
      equal(subscription.current, doc, "value");
      equal(subscription.flag, false, "flag from the document");
      equal(subscription.source, "polling", "source");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "unsubscribe stops polling and stops the connection it started"() {
    const tag = newTag();
    const endpoint = new ObligationsEndpoint();
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, obligationsSpec(endpoint, tag, { flag: true }));
    await until(() => subscription.source === "push" && subscription.current, "push");
    subscription.unsubscribe();
    await until(() => connection.state === "Disconnected", "the connection stopped");
    equal(subscription.source, "idle", "source");
    const polls = endpoint.calls;
    await sleep(INTERVAL_MS * 4);
    equal(endpoint.calls, polls, "no polls after unsubscribe");
    equal(subscription.current?.updatedAt, updatedAt(1), "the last value stays readable");
    equal(subscription.stats().pollsMade, polls, "the counters stay readable");
    const listed = await control("connections");
    check(!listed.some((c) => c.accessToken === tag), "the hub no longer lists the connection");
  },

  async "subscriptions share a connection the app started and leave it running"() {
    const tag = newTag();
    const [first, second] = [new ObligationsEndpoint("u-1"), new ObligationsEndpoint("u-2")];
    const connection = hubConnection(tag);
    await connection.start();
    const subscriptionA = subscribe(connection, obligationsSpec(first, `${tag}-a`, { flag: true, filter: (s) => s.userId === "u-1" }));
    const subscriptionB = subscribe(connection, obligationsSpec(second, `${tag}-b`, { flag: true, filter: (s) => s.userId === "u-2" }));
    try {
      await until(() => subscriptionA.source === "push" && subscriptionB.source === "push", "both on push");
      subscriptionA.unsubscribe();
      await until(async () => {
        const mine = (await control("connections")).find((c) => c.accessToken === tag);
        return mine && !mine.groups.includes(`dispatch:${tag}-a`);
      }, "the first group left");
      equal(connection.state, "Connected", "the app's connection keeps running");
      second.version = 2;
      await publish(second, `${tag}-b`);
      await until(() => subscriptionB.current?.updatedAt === updatedAt(2), "the second subscription still gets pushes");
      const mine = (await control("connections")).find((c) => c.accessToken === tag);
      equal(mine.groups, [`dispatch:${tag}-b`], "groups on the hub");
    } finally {
      subscriptionA.unsubscribe();
      subscriptionB.unsubscribe();
      await connection.stop();
    }
  },

  async "the async iterator yields the current value, then each update, and ends on unsubscribe"() {
    const endpoint = new ObligationsEndpoint();
    const subscription = subscribe(null, { poll: endpoint.poll, map: (a) => a.data, intervalMs: 50, key: "userId", version: "updatedAt" });
    await until(() => subscription.current, "the first value");
    const iterator = subscription[Symbol.asyncIterator]();
    const first = await nextOf(iterator, "the current value");
    endpoint.version = 2;
    const second = await nextOf(iterator, "the next update");
    subscription.unsubscribe();
    const end = await nextOf(iterator, "the end");
    equal([first.value.updatedAt, second.value.updatedAt, end.done], [updatedAt(1), updatedAt(2), true], "iteration");
  },

  // ----- checks that need the mock's scenario endpoints ------------------------------------------

  async "mock: obligations over JoinUserGroup with the REST endpoint and the flags document"() {
    await requireEndpoint(MOCK.obligations("u-1"), "the obligations endpoint");
    await requireEndpoint(MOCK.flags, "the flags document");
    const tag = newTag();
    const record = recorder();
    const connection = hubConnection(tag);
    const subscription = subscribe(connection, {
      event: "LongTermObligationsUpdated",
      group: MOCK.userGroup("u-1"),
      poll: MOCK.obligations("u-1"),
      intervalMs: INTERVAL_MS,
      key: "userId",
      version: "updatedAt",
      flag: { url: MOCK.flags, name: MOCK.flagName },
      onTelemetry: record.onTelemetry,
    });
    try {
      await until(() => subscription.source === "push" && subscription.current, "push and the first value");
      const rest = await (await fetch(MOCK.obligations("u-1"))).json();
      equal(subscription.current, rest, "the first value is the REST document");
      const newer = { ...rest, updatedAt: new Date(Date.parse(rest.updatedAt) + 60_000).toISOString() };
      await control("publish", { target: "LongTermObligationsUpdated", arguments: [newer], group: "user:u-1" });
      await until(() => subscription.current?.updatedAt === newer.updatedAt, "the pushed update");
      await sleep(INTERVAL_MS * 4);
      equal(record.pollsSincePush(), ["catchUp"], "no polls while push is healthy");
    } finally {
      subscription.unsubscribe();
    }
  },

  async "mock: a plain WebSocket stats subscription gets the initial stats again after a drop"() {
    await requirePlainSocket();
    const connection = connectPlain(MOCK.plainSocket, { reconnect: { delays: [0, 100], keepTrying: true } });
    const received = [];
    const subscription = subscribe(connection, { type: "stats:tasks", onUpdate: (stats) => received.push(stats) });
    try {
      await until(() => subscription.source === "push" && received.length >= 1, "the initial stats");
      const before = received.length;
      await control("drop", {});
      await until(() => connection.reconnectCount === 1 && received.length > before, "the initial stats again after the reconnect");
      equal(subscription.source, "push", "source");
    } finally {
      subscription.unsubscribe();
      await connection.stop();
    }
  },

  async "mock: a plain WebSocket closed normally (1000) by the server does not reconnect"() {
    await requirePlainSocket();
    const connection = connectPlain(MOCK.plainSocket, { reconnect: { delays: [0, 100], keepTrying: true } });
    const closed = [];
    connection.onclose((error) => closed.push(error?.message ?? "clean"));
    try {
      await until(() => connection.state === "Connected", "connected");
      await control("close", {}); // assumed to close plain sockets with code 1000
      await until(() => closed.length === 1, "closed");
      await sleep(300);
      equal([connection.state, connection.reconnectCount, closed], ["Disconnected", 0, ["clean"]], "after the close");
    } finally {
      await connection.stop();
    }
  },
};

async function requirePlainSocket() {
  // A WebSocket route answers a plain GET with an upgrade error (4xx other than 404).
  await requireEndpoint(MOCK.plainSocket, "the plain WebSocket endpoint");
}

function row(name) {
  const tr = document.createElement("tr");
  tr.innerHTML = `<td></td><td class="running">running</td><td></td>`;
  tr.children[0].textContent = name;
  document.getElementById("results").append(tr);
  return tr;
}

async function runAll() {
  const only = new URLSearchParams(location.search).get("only");
  const results = [];
  for (const [name, run] of Object.entries(checks)) {
    if (only && only !== name) continue;
    const tr = row(name);
    const started = performance.now();
    try {
      await run();
      results.push({ name, ok: true });
      tr.children[1].className = "pass";
      tr.children[1].textContent = "pass";
    } catch (error) {
      const skipped = error instanceof Skip;
      results.push({ name, ok: skipped, skipped, error: String(error?.message ?? error) });
      tr.children[1].className = skipped ? "skip" : "fail";
      tr.children[1].textContent = skipped ? "skipped" : "fail";
      tr.children[2].textContent = String(error?.message ?? error);
    }
    tr.children[2].textContent ||= `${Math.round(performance.now() - started)} ms`;
  }
  const failed = results.filter((r) => !r.ok).length;
  const skipped = results.filter((r) => r.skipped).length;
  document.getElementById("summary").textContent = `${results.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped`;
  return results;
}

window.hubwireLiveHarness = { names: Object.keys(checks), done: runAll() };
