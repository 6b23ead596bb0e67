// The benchmark page's measurements, the same code for every client. Each page
// (hubwire.html, official.html, floor.html) installs its client here; bench/run.mjs then calls
// the functions on `window.bench` one at a time, and reads heap sizes between them over the
// DevTools protocol (a page cannot force a garbage collection itself).
//
// A client (clients/*.js) is `createClient({ url, delays })` resolving to
// `{ name, version, start(), stop(), on(target, fn), invoke(method, ...args),
//    joinGroups(ids), onLost(fn), onConnected(fn), onRecovered(fn), wasmBytes() }`: after a
// drop, onLost's callback runs when the client notices it, onConnected's when the new
// connection is up (handshake done) and onRecovered's once every group is joined again too.
//
// Both real clients log nothing (LogLevel.None): a drop would otherwise cost each of them a
// console line per cycle. Every wait has a time limit, so a client that stalls fails its step
// instead of hanging the run. Nothing here asserts a timing: the functions return numbers.

const HUB_URL = "/hub";
const RECONNECT_DELAYS = [0, 100, 500, 1000, 2000, 5000];
// Each page's bursts go to a group of its own: all three pages are connected at once.
const THROUGHPUT_GROUP = `bench-throughput-${location.pathname.split("/").pop().replace(/\.html$/, "")}`;
const STEP_TIMEOUT_MS = 120_000;
const RECOVERY_TIMEOUT_MS = 30_000;

let client = null;
let received = 0; // JobAssigned calls so far
let sink = 0; // keeps the handler's read of the payload from being optimized away
let receiveWaiter = null;

async function control(path, body) {
  const response = await fetch(`/control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The p-th percentile (nearest rank) of sorted values. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  const total = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? null,
    max: sorted[sorted.length - 1] ?? null,
    mean: sorted.length ? total / sorted.length : null,
  };
}

/** The smallest step performance.now() takes on this page (5 µs when cross-origin isolated). */
function timerResolutionMs() {
  let smallest = Infinity;
  for (let i = 0; i < 200; i++) {
    const a = performance.now();
    let b = performance.now();
    while (b === a) b = performance.now();
    smallest = Math.min(smallest, b - a);
  }
  return smallest;
}

/**
 * One drop of every connection by the hub, timed until the client is back with its groups:
 * `{ ms, lostMs, connectedMs }`, the last two being when the client noticed the drop and when
 * the new connection was up.
 */
async function dropAndRecover() {
  let connectedAt = null;
  let lostAt = null;
  client.onConnected(() => {
    connectedAt ??= performance.now();
  });
  client.onLost(() => {
    lostAt ??= performance.now();
  });
  const back = new Promise((resolve) => client.onRecovered(resolve));
  const t0 = performance.now();
  await control("drop", {});
  await withTimeout(back, RECOVERY_TIMEOUT_MS, "reconnect and re-join after a drop");
  const ms = performance.now() - t0;
  const since = (at) => (at === null ? null : at - t0);
  // Untimed, the same for every client: the connection is used once, a moment after it is
  // back, before the next drop. A server that drops a connection before it said anything on
  // it is what hubwire's no-storm rule reads as flapping (clients/hubwire.js), not a recovery.
  await new Promise((resolve) => setTimeout(resolve, 5));
  await withTimeout(client.invoke("Echo", { after: "recovery" }), STEP_TIMEOUT_MS, "an Echo after the recovery");
  return { ms, lostMs: since(lostAt), connectedMs: since(connectedAt) };
}

const bench = {
  /** What kind of page this is. */
  info() {
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      timerResolutionMs: timerResolutionMs(),
      userAgent: navigator.userAgent,
    };
  },

  /** Creates the client, registers the JobAssigned handler and connects. */
  async connect(createClient) {
    client = await createClient({ url: HUB_URL, delays: RECONNECT_DELAYS });
    client.on("JobAssigned", (job) => {
      sink ^= job.jobId.length;
      received++;
      if (receiveWaiter) {
        if (receiveWaiter.first === null) receiveWaiter.first = performance.now();
        if (received >= receiveWaiter.target) receiveWaiter.done(performance.now());
      }
    });
    await withTimeout(client.start(), STEP_TIMEOUT_MS, "start");
    await withTimeout(client.invoke("JoinContractorGroup", THROUGHPUT_GROUP), STEP_TIMEOUT_MS, "join");
    return { name: client.name, version: client.version };
  },

  /**
   * Has the hub send `count` JobAssigned invocations to this page (POST /control/burst) and
   * times the handler calls: from the request to the last call, and from the first call to the
   * last (the hub's queueing left out).
   */
  async burst(count) {
    const base = received;
    let waiter;
    const done = new Promise((resolve) => {
      waiter = receiveWaiter = { target: base + count, first: null, done: resolve };
    });
    const t0 = performance.now();
    const answer = await control("burst", { target: "JobAssigned", count, group: `contractor:${THROUGHPUT_GROUP}` });
    const last = await withTimeout(done, STEP_TIMEOUT_MS, `${count} messages`);
    receiveWaiter = null;
    const first = waiter.first;
    const ms = last - t0;
    return {
      count,
      received: received - base,
      ms,
      perSec: (count / ms) * 1000,
      firstMs: first === null ? null : first - t0,
      hubQueueMs: answer.elapsedMs,
      sink,
    };
  },

  /**
   * `count` sequential Echo calls after `warmup` untimed ones: a summary of each call's time in
   * ms, with every sample when `withSamples` is set.
   */
  async latency(count, warmup, withSamples = false) {
    const payload = { jobId: "job-1", region: "north-america", contractorId: "contractor-1" };
    for (let i = 0; i < warmup; i++) await client.invoke("Echo", payload);
    const times = new Float64Array(count);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await client.invoke("Echo", payload);
      times[i] = performance.now() - t0;
    }
    const total = performance.now() - started;
    return {
      ...summary(times),
      totalMs: total,
      callsPerSec: (count / total) * 1000,
      ...(withSamples ? { samples: Array.from(times) } : {}),
    };
  },

  /** Joins `count` contractor groups, re-joined after every reconnect (the client's way). */
  async joinGroups(count) {
    const ids = Array.from({ length: count }, (_, i) => `bench-g${i + 1}`);
    await withTimeout(client.joinGroups(ids), STEP_TIMEOUT_MS, "joining groups");
    return ids.length;
  },

  /**
   * `drops` times: the hub drops the connection; the time until the client is connected again
   * with every group re-joined (and, as `lost` and `connected`, until the client noticed the
   * drop and until the new connection alone was up).
   * Each recovery is checked against the hub's own view.
   */
  async recovery(drops, groups) {
    const times = [];
    const connectedTimes = [];
    const lostTimes = [];
    let verified = 0;
    for (let i = 0; i < drops; i++) {
      const { ms, lostMs, connectedMs } = await dropAndRecover();
      times.push(ms);
      if (connectedMs !== null) connectedTimes.push(connectedMs);
      if (lostMs !== null) lostTimes.push(lostMs);
      const connections = await control("connections");
      const joined = connections.length === 1 ? connections[0].groups.filter((g) => g.startsWith("contractor:bench-g")).length : -1;
      if (joined === groups) verified++;
    }
    return { ...summary(times), lost: summary(lostTimes), connected: summary(connectedTimes), verified };
  },

  /** `count` connect-drop-reconnect cycles, each waiting for the groups to be back. */
  async cycles(count) {
    const started = performance.now();
    for (let i = 0; i < count; i++) await dropAndRecover();
    return { count, ms: performance.now() - started };
  },

  /** The wasm linear memory in bytes (hubwire), or null. */
  wasmBytes() {
    return client?.wasmBytes() ?? null;
  },

  /** How many JobAssigned calls arrived in all. */
  received() {
    return received;
  },

  async stop() {
    await withTimeout(client.stop(), STEP_TIMEOUT_MS, "stop");
  },

  /** Starts the stopped connection again (the throughput group is not joined again). */
  async restart() {
    await withTimeout(client.start(), STEP_TIMEOUT_MS, "restart");
  },
};

/** Puts the measurements on `window.bench`, bound to this page's client. */
export function install(createClient) {
  window.bench = { ...bench, connect: () => bench.connect(createClient) };
  window.benchReady = true;
}
