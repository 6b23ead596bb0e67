// The benchmark driver behind `./run.sh bench` (scripts/bench.sh builds everything first).
//
// Runs, in one go and on this machine only (127.0.0.1):
//   - size: hubwire's shipped bytes (its two wasm modules with their glue, the entries' JS) next
//     to the official client's signalr.min.js, raw / gzip -9 / brotli -q 11; and what small
//     Vite apps download with each entry and with the official client (bench/size/apps.mjs);
//   - in headless Chromium (Debian's /usr/bin/chromium through playwright-core), for hubwire,
//     the official @microsoft/signalr client and a raw-WebSocket floor, each on a fresh page of
//     bench/www against a release build of the mock hub: receive throughput, invoke latency,
//     recovery with 20 groups, memory after 100,000 messages and after 1,000 connect-drop-
//     reconnect cycles;
//   - the mock hub's capacity, measured by the Rust load generator (bench/loadgen);
// then prints a table led by ratios and writes the results as JSON (and the table as Markdown).
//
// Usage: node bench/run.mjs --mock BIN --loadgen BIN --site DIR --pkg DIR --out FILE.json
//                           [--markdown FILE.md] [--size-steps FILE.json] [--record FILE.md]
//                           [--quick]
//   --record FILE.md  rewrite the "latest run" section of FILE.md (BENCHMARKS.md), between
//                     its <!-- latest-run:begin --> and <!-- latest-run:end --> lines
//   --quick           small counts (a smoke run of the tooling, numbers not worth recording)
//
//        node bench/run.mjs --render RESULTS.json --record FILE.md
//   rewrites FILE.md's sections from an earlier run's results without running anything
//
// Nothing here asserts a timing. Every step has a time limit; a step that fails is reported
// as failed in the results and the run goes on.

import { spawn, execFileSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { launchChromium } from "../tests/js/support/browser.mjs";
import { appSizes, compressed, sum } from "./size/apps.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

// ------------------------------------------------------------------------------------------
// Settings
// ------------------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
const QUICK = args.quick === true;
let COUNTS = QUICK
  ? { warmup: 1_000, messages: 5_000, rounds: 2, echoWarmup: 50, echoes: 500, latencyChunks: 2, drops: 3, groups: 20, cycles: 40, cycleCheckpoints: 4 }
  : { warmup: 10_000, messages: 100_000, rounds: 3, echoWarmup: 500, echoes: 10_000, latencyChunks: 5, drops: 20, groups: 20, cycles: 1_000, cycleCheckpoints: 4 };
const LOADGEN_ARGS = QUICK
  ? ["--clients", "100", "--hold", "200", "--hold-secs", "1", "--burst", "20", "--rounds", "2", "--fanout-samples", "5", "--time-limit-secs", "60"]
  : ["--clients", "1000", "--hold", "5000", "--hold-secs", "5", "--burst", "200", "--rounds", "3", "--fanout-samples", "20", "--time-limit-secs", "180"];
const CLIENTS = ["hubwire", "official", "floor"];
const CHROMIUM_EXTRA_ARGS = [
  // Keep timers and the renderer at full speed although nobody looks at the page.
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
  // The page documents are fulfilled by Playwright (to add the COOP/COEP headers below), so
  // Chromium does not know they came from 127.0.0.1 and would block their WebSockets to it as
  // "local network access" from a public page.
  "--disable-features=LocalNetworkAccessChecks",
];
const STEP_LIMIT_MS = 300_000; // any one page call
const OFFICIAL_MIN_JS = path.join(ROOT, "node_modules/@microsoft/signalr/dist/browser/signalr.min.js");

function parseArgs(list) {
  const out = {};
  for (let i = 0; i < list.length; i++) {
    const name = list[i].replace(/^--/, "");
    if (name === "quick") out.quick = true;
    else out[name] = list[++i];
  }
  for (const required of out.render ? ["record"] : ["mock", "loadgen", "site", "pkg", "out"]) {
    if (!out[required]) {
      console.error(`usage: node bench/run.mjs --mock BIN --loadgen BIN --site DIR --pkg DIR --out FILE.json [--markdown FILE.md] [--size-steps FILE.json] [--quick] (missing --${required})`);
      process.exit(2);
    }
  }
  return out;
}

const log = (message) => console.error(`[bench] ${message}`);

// ------------------------------------------------------------------------------------------
// The mock hub (release build) and the load generator
// ------------------------------------------------------------------------------------------

/** Starts a mock hub on a free 127.0.0.1 port; resolves to { url, stop() }. */
async function startHub(extraArgs = []) {
  const child = spawn(args.mock, ["--port", "0", "--exit-on-stdin-close", "--max-lifetime-secs", "1800", ...extraArgs], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error("the mock hub printed no URL within 30 s")), 30_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    child.once("exit", (code) => reject(new Error(`the mock hub exited (code ${code}) before printing its URL`)));
  });
  if (!url.startsWith("http://127.0.0.1:")) throw new Error(`unexpected hub URL ${url}`);
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      child.stdin.end();
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the load generator against a fresh hub; its JSON report. */
async function runLoadgen() {
  const hub = await startHub();
  try {
    log(`load generator against ${hub.url}: ${LOADGEN_ARGS.join(" ")}`);
    const child = spawn(args.loadgen, ["--url", hub.url, ...LOADGEN_ARGS], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    const [code] = await once(child, "exit");
    clearTimeout(timer);
    if (code !== 0) throw new Error(`hubwire-loadgen exited with ${code}`);
    return JSON.parse(stdout.trim().split("\n").pop());
  } finally {
    await hub.stop();
  }
}

// ------------------------------------------------------------------------------------------
// Size
// ------------------------------------------------------------------------------------------

/** Raw, gzip -9 and brotli -q 11 sizes of a file (bench/size/apps.mjs measures the same way). */
function compressedSizes(file) {
  return compressed(readFileSync(file));
}



/**
 * The package's own JS an app's bundler ships for `entry` besides a module's glue: bundled,
 * minified and code-split (esbuild, from devDependencies), the chunks the entry loads
 * statically (the glue files are chunks of their own, loaded with import()).
 */
async function minifiedSize(entry) {
  try {
    const esbuild = await import("esbuild");
    const outdir = path.join(os.tmpdir(), `hubwire-bench-${process.pid}-entries`);
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      splitting: true,
      format: "esm",
      target: "es2022",
      outdir,
      metafile: true,
      external: ["*.wasm", "react", "react-dom"],
      logLevel: "silent",
    });
    const outputs = result.metafile.outputs;
    const loaded = new Set();
    const visit = (out) => {
      if (loaded.has(out)) return;
      loaded.add(out);
      for (const dependency of outputs[out].imports) if (dependency.kind === "import-statement") visit(dependency.path);
    };
    visit(Object.keys(outputs).find((out) => outputs[out].entryPoint));
    return sum([...loaded].map((out) => compressedSizes(path.resolve(out))));
  } catch (error) {
    return { error: String(error.message ?? error) };
  }
}

async function measureSize() {
  const pkg = path.resolve(ROOT, args.pkg);
  const file = (name) => compressedSizes(path.join(pkg, name));
  // The package's two wasm modules (pkg-template/wasm.js): an app downloads one with its glue.
  const wasm = file("hubwire_bg.wasm");
  const glue = file("hubwire.js");
  const fullWasm = file("hubwire_full_bg.wasm");
  const fullGlue = file("hubwire_full.js");
  let apps;
  try {
    apps = await appSizes({ pkg });
  } catch (error) {
    apps = { error: String(error.message ?? error) };
    log(`app sizes FAILED: ${apps.error}`);
  }
  return {
    hubwire: {
      wasm,
      glue,
      module: sum([wasm, glue]),
      fullWasm,
      fullGlue,
      fullModule: sum([fullWasm, fullGlue]),
      entriesMinified: await minifiedSize(path.join(pkg, "index.js")),
    },
    official: { minJs: compressedSizes(OFFICIAL_MIN_JS) },
    apps,
  };
}

// ------------------------------------------------------------------------------------------
// Browser runs
// ------------------------------------------------------------------------------------------

async function withLimit(promise, what, ms = STEP_LIMIT_MS) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens one client's page in a fresh browser context and connects it; returns the handles the
 * steps use: `{ name, result, call(fn, ...args), memory(), cpuSeconds(), step(label, body),
 * close() }`. A page that cannot connect has `result.error` set.
 */
async function openClient(browser, hubUrl, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  // Cross-origin isolation gives performance.now() 5 µs steps instead of 100 µs: the page
  // document gets COOP/COEP headers on its way in (the hub's static server sends none).
  await page.route(`${hubUrl}bench/*.html`, async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: { ...response.headers(), "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" },
    });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const result = { client: name, steps: {}, errors };

  const call = (fn, ...fnArgs) => withLimit(page.evaluate(fn, fnArgs), `${name}: ${fn.toString().slice(0, 60)}`);
  async function memory() {
    // Twice: objects with finalizers or weak references need a second pass to go.
    await cdp.send("HeapProfiler.collectGarbage");
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = await cdp.send("Runtime.getHeapUsage");
    const wasm = await call(() => window.bench.wasmBytes());
    return { jsHeap: heap.usedSize, wasm, total: heap.usedSize + (wasm ?? 0) };
  }
  async function cpuSeconds() {
    const { metrics } = await cdp.send("Performance.getMetrics");
    const value = (key) => metrics.find((m) => m.name === key)?.value ?? null;
    return { task: value("TaskDuration"), script: value("ScriptDuration") };
  }
  async function step(label, body) {
    const started = Date.now();
    try {
      result.steps[label] = await body();
      log(`${name}: ${label} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      result.steps[label] = { error: String(error.message ?? error) };
      log(`${name}: ${label} FAILED: ${error.message ?? error}`);
    }
  }
  try {
    await page.goto(`${hubUrl}bench/${name}.html`);
    await withLimit(page.waitForFunction(() => window.benchReady === true), `${name}: page load`, 30_000);
    result.page = await call(() => window.bench.info());
    result.connected = await call(() => window.bench.connect());
    result.steps.memoryConnected = await memory();
  } catch (error) {
    result.error = String(error.message ?? error);
    log(`${name}: FAILED: ${result.error}`);
  }
  return { name, result, call, memory, cpuSeconds, step, close: () => context.close() };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null;
};

/** `list` rotated by `by`, so each round starts with another client. */
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);

/**
 * Every browser measurement, for all clients. Throughput and latency run with all three pages
 * connected, in rounds that take the clients in turn (a slow minute on a shared machine then
 * hits all of them, not one); recovery and cycles drop every connection on the hub, so they
 * run one client at a time with the others stopped.
 */
async function runClients(browser, hubUrl) {
  const clients = [];
  for (const name of CLIENTS) clients.push(await openClient(browser, hubUrl, name));
  const live = clients.filter((c) => !c.result.error);

  // Receive throughput: a warm-up burst each, then rounds of COUNTS.messages.
  const throughput = new Map(live.map((c) => [c, { rounds: [] }]));
  const fail = (c, error) => {
    throughput.get(c).error ??= String(error.message ?? error);
    log(`${c.name}: throughput FAILED: ${error.message ?? error}`);
  };
  for (const c of live) {
    try {
      throughput.get(c).warmupPerSec = (await c.call(([n]) => window.bench.burst(n), COUNTS.warmup)).perSec;
    } catch (error) {
      fail(c, error);
    }
  }
  for (let round = 0; round < COUNTS.rounds; round++) {
    for (const c of rotate(live, round)) {
      const t = throughput.get(c);
      if (t.error) continue;
      try {
        const cpu0 = await c.cpuSeconds();
        const timed = await c.call(([n]) => window.bench.burst(n), COUNTS.messages);
        const cpu1 = await c.cpuSeconds();
        t.rounds.push({
          ...timed,
          cpuMsPer1000: cpu0.task === null ? null : ((cpu1.task - cpu0.task) * 1e6) / COUNTS.messages,
          scriptMsPer1000: cpu0.script === null ? null : ((cpu1.script - cpu0.script) * 1e6) / COUNTS.messages,
        });
        // After the first round: memory after COUNTS.messages (plus the warm-up).
        if (round === 0) t.memoryAfterMessages = await c.memory();
        log(`${c.name}: throughput round ${round + 1}: ${Math.round(timed.perSec)} calls/s`);
      } catch (error) {
        fail(c, error);
      }
    }
  }
  for (const c of live) {
    const t = throughput.get(c);
    if (t.error) {
      c.result.steps.throughput = { error: t.error };
      continue;
    }
    // After every round: the rounds after the first must not have grown it.
    t.memoryAfterAll = await c.memory();
    c.result.steps.throughput = {
      count: COUNTS.messages,
      perSec: median(t.rounds.map((r) => r.perSec)),
      cpuMsPer1000: median(t.rounds.map((r) => r.cpuMsPer1000)),
      scriptMsPer1000: median(t.rounds.map((r) => r.scriptMsPer1000)),
      ...t,
    };
  }

  // Invoke latency: a warm-up each, then chunks in turn; percentiles over all samples.
  const samples = new Map(live.map((c) => [c, []]));
  const latencyErrors = new Map();
  for (const c of live) {
    await c.call(([n]) => window.bench.latency(n, 0), COUNTS.echoWarmup).catch((error) => latencyErrors.set(c, error));
  }
  const chunk = Math.ceil(COUNTS.echoes / COUNTS.latencyChunks);
  for (let round = 0; round < COUNTS.latencyChunks; round++) {
    for (const c of rotate(live, round)) {
      if (latencyErrors.has(c)) continue;
      const n = Math.min(chunk, COUNTS.echoes - samples.get(c).length);
      if (n <= 0) continue;
      try {
        samples.get(c).push(...(await c.call(([k]) => window.bench.latency(k, 0, true), n)).samples);
      } catch (error) {
        latencyErrors.set(c, error);
      }
    }
  }
  for (const c of live) {
    if (latencyErrors.has(c)) {
      c.result.steps.latency = { error: String(latencyErrors.get(c).message ?? latencyErrors.get(c)) };
      continue;
    }
    const sorted = samples.get(c).sort((a, b) => a - b);
    const at = (p) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
    c.result.steps.latency = {
      samples: sorted.length,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      min: sorted[0],
      max: sorted.at(-1),
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    };
    log(`${c.name}: latency p50 ${c.result.steps.latency.p50.toFixed(3)} ms, p99 ${c.result.steps.latency.p99.toFixed(3)} ms`);
  }

  // Recovery and cycles: one client connected at a time.
  for (const c of live) await c.call(() => window.bench.stop()).catch((error) => c.result.errors.push(`stop: ${error.message}`));
  for (const c of live) {
    try {
      await c.call(() => window.bench.restart());
    } catch (error) {
      c.result.steps.recovery = { error: `restart: ${error.message ?? error}` };
      continue;
    }
    await c.step("recovery", async () => {
      await c.call(([n]) => window.bench.joinGroups(n), COUNTS.groups);
      return { groups: COUNTS.groups, ...(await c.call(([d, g]) => window.bench.recovery(d, g), COUNTS.drops, COUNTS.groups)) };
    });
    await c.step("cycles", async () => {
      const checkpoints = [{ cycles: 0, ...(await c.memory()) }];
      const per = Math.ceil(COUNTS.cycles / COUNTS.cycleCheckpoints);
      let done = 0;
      let ms = 0;
      while (done < COUNTS.cycles) {
        const n = Math.min(per, COUNTS.cycles - done);
        const run = await c.call(([k]) => window.bench.cycles(k), n);
        done += n;
        ms += run.ms;
        checkpoints.push({ cycles: done, ...(await c.memory()) });
      }
      return { cycles: done, msPerCycle: ms / done, checkpoints };
    });
    await c.call(() => window.bench.stop()).catch((error) => c.result.errors.push(`stop: ${error.message}`));
  }
  for (const c of clients) await c.close();
  return clients.map((c) => c.result);
}

// ------------------------------------------------------------------------------------------
// Machine and versions
// ------------------------------------------------------------------------------------------

function commandOutput(command, commandArgs) {
  try {
    return execFileSync(command, commandArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

function environment(browserVersion) {
  const osRelease = existsSync("/etc/os-release")
    ? (readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? null)
    : null;
  const signalrPackage = JSON.parse(readFileSync(path.join(ROOT, "node_modules/@microsoft/signalr/package.json"), "utf8"));
  const playwrightPackage = JSON.parse(readFileSync(path.join(ROOT, "node_modules/playwright-core/package.json"), "utf8"));
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    machine: {
      os: osRelease ?? `${os.type()} ${os.release()}`,
      kernel: os.release(),
      cpu: cpus[0]?.model ?? "unknown",
      cores: cpus.length,
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      // Other work on the machine skews absolute numbers (the ratios less so).
      loadAverageAtStart: LOAD_AT_START,
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    versions: {
      hubwire: JSON.parse(readFileSync(path.join(path.resolve(ROOT, args.pkg), "package.json"), "utf8")).version,
      "@microsoft/signalr": signalrPackage.version,
      chromium: browserVersion,
      "playwright-core": playwrightPackage.version,
      node: process.version,
      rustc: commandOutput(process.env.HUBWIRE_RUSTC || "/usr/bin/rustc", ["--version"]) ?? commandOutput("rustc", ["--version"]),
      "wasm-bindgen": commandOutput("wasm-bindgen", ["--version"]),
      "wasm-opt": commandOutput("wasm-opt", ["--version"]),
      git: commandOutput("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]),
      gitDirty: (commandOutput("git", ["-C", ROOT, "status", "--porcelain"]) ?? "") !== "",
    },
    buildFlags: {
      wasmRoute: process.env.HUBWIRE_WASM_ROUTE ?? null,
      wasmRustflags: process.env.HUBWIRE_WASM_RUSTFLAGS ?? null,
      wasmStdFeatures: process.env.HUBWIRE_WASM_STD_FEATURES ?? null,
    },
    counts: COUNTS,
    quick: QUICK,
  };
}

// ------------------------------------------------------------------------------------------
// The table
// ------------------------------------------------------------------------------------------

const num = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value)
    ? "—"
    : Number(value).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kb = (bytes) => (bytes === null || bytes === undefined ? "—" : `${num(bytes / 1024, 1)} KB`);
const mb = (bytes) => (bytes === null || bytes === undefined ? "—" : `${num(bytes / 2 ** 20, 2)} MB`);
const ratio = (a, b) => (a === null || a === undefined || b === null || b === undefined || b === 0 ? "—" : `${num(a / b, 2)}×`);
const get = (object, ...keys) => keys.reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), object);

/** Rows of [metric, better, hubwire ÷ official, hubwire ÷ floor, hubwire, official, floor]. */
function tableRows(results) {
  const [h, o, f] = CLIENTS.map((c) => results.clients.find((r) => r.client === c));
  const size = results.size;
  const rows = [];
  const row = (metric, better, pick, format) => {
    const [hv, ov, fv] = [h, o, f].map((r) => (r ? pick(r) : undefined));
    rows.push([metric, better, ratio(hv, ov), ratio(hv, fv), format(hv), format(ov), format(fv)]);
  };
  // The size an app's user downloads: the growth of a Vite production build (bench/size/apps.mjs).
  const growth = (name, kind) => size.apps?.[name]?.growth?.[kind];
  for (const [label, mine, theirs] of [
    ["size, gzip -9: a Vite app's download grows by (hubwire vs @microsoft/signalr)", "hubwire", "@microsoft/signalr"],
    ["size, brotli: the same", "hubwire", "@microsoft/signalr"],
    ["size, gzip -9: with MessagePack (hubwire/msgpack vs the official protocol package)", "hubwire + hubwire/msgpack", "@microsoft/signalr + its msgpack protocol"],
  ]) {
    const kind = label.includes("brotli") ? "brotli" : "gzip";
    rows.push([label, "lower", ratio(growth(mine, kind), growth(theirs, kind)), "—", kb(growth(mine, kind)), kb(growth(theirs, kind)), "—"]);
  }
  row(`receive throughput, handler calls/s (median of ${COUNTS.rounds} rounds)`, "higher", (r) => get(r, "steps", "throughput", "perSec"), (v) => num(v));
  row("main-thread CPU per 1,000 messages, ms", "lower", (r) => get(r, "steps", "throughput", "cpuMsPer1000"), (v) => num(v, 1));
  row("invoke latency p50, ms", "lower", (r) => get(r, "steps", "latency", "p50"), (v) => num(v, 3));
  row("invoke latency p99, ms", "lower", (r) => get(r, "steps", "latency", "p99"), (v) => num(v, 3));
  row(`recovery, median of ${COUNTS.drops} drops (${COUNTS.groups} groups), ms`, "lower", (r) => get(r, "steps", "recovery", "p50"), (v) => num(v, 1));
  row("↳ until the client noticed the drop, ms", "lower", (r) => get(r, "steps", "recovery", "lost", "p50"), (v) => num(v, 1));
  row("↳ until connected again, before the re-joins, ms", "lower", (r) => get(r, "steps", "recovery", "connected", "p50"), (v) => num(v, 1));
  row(`memory after ${num(COUNTS.messages)} messages (JS heap + wasm)`, "lower", (r) => get(r, "steps", "throughput", "memoryAfterMessages", "total"), mb);
  row(`↳ growth over ${num(COUNTS.messages * (COUNTS.rounds - 1))} more`, "lower", (r) => {
    const t = get(r, "steps", "throughput");
    return t?.memoryAfterAll && t?.memoryAfterMessages ? t.memoryAfterAll.total - t.memoryAfterMessages.total : undefined;
  }, kb);
  const last = (r) => get(r, "steps", "cycles", "checkpoints")?.at(-1);
  const mid = (r) => {
    const c = get(r, "steps", "cycles", "checkpoints");
    return c ? c[Math.floor((c.length - 1) / 2)] : undefined;
  };
  row(`memory after ${num(COUNTS.cycles)} drop-reconnect cycles (JS heap + wasm)`, "lower", (r) => last(r)?.total, mb);
  row(`↳ growth over the last ${num(COUNTS.cycles - (mid(h ?? {})?.cycles ?? 0))} cycles`, "lower", (r) => (last(r) && mid(r) ? last(r).total - mid(r).total : undefined), kb);
  row("↳ of which wasm memory", "lower", (r) => last(r)?.wasm, mb);
  return rows;
}

function hubRows(results) {
  const l = results.loadgen;
  if (!l || l.error) return [["mock hub capacity", `failed: ${l?.error ?? "not run"}`]];
  return [
    [`connections held (of ${num(l.hold?.target)} opened, ${num(l.hold?.heldForSecs, 0)} s)`, `${num(l.hold?.held)} (hub reports ${num(l.hold?.hubReported)})`],
    [`connect + handshake p50 / p99, ${num(l.clients)} clients`, `${num(l.connect?.p50Ms, 2)} / ${num(l.connect?.p99Ms, 2)} ms`],
    [`broadcast to ${num(l.broadcast?.audience)} WebSocket clients, deliveries/s (median of ${l.broadcast?.rounds?.length ?? 0})`, num(l.broadcast?.medianDeliveriesPerSec)],
    [`↳ = broadcast messages/s, each to all ${num(l.broadcast?.audience)}`, num(l.broadcast?.medianBroadcastsPerSec)],
    [`fan-out latency of one publish to all ${num(l.broadcast?.audience)}, p50 / p99`, `${num(l.fanout?.p50Ms, 1)} / ${num(l.fanout?.p99Ms, 1)} ms`],
  ];
}

function sizeRows(results) {
  const s = results.size;
  const line = (label, v) => [label, num(v?.raw), num(v?.gzip), num(v?.brotli)];
  const apps = s.apps && !s.apps.error ? Object.entries(s.apps).filter(([name]) => !name.includes("baseline")) : [];
  return [
    line("hubwire_bg.wasm (core module)", s.hubwire.wasm),
    line("hubwire.js (its glue, minified)", s.hubwire.glue),
    line("= core module", s.hubwire.module),
    line("hubwire_full_bg.wasm + hubwire_full.js (full module: + MessagePack, live)", s.hubwire.fullModule),
    line("index.js and what it imports statically, bundled + minified (esbuild)", s.hubwire.entriesMinified),
    line("@microsoft/signalr signalr.min.js", s.official.minJs),
    ...apps.map(([name, app]) => line(`Vite app growth: ${name} (vs ${app.baseline})`, app.growth)),
  ];
}

/** The size ladder (bench/size/steps.sh): each step's wasm and glue, and what it changed. */
function sizeStepRows(steps) {
  const rows = [];
  let base = null; // the settings kept so far: what the next step is compared with
  for (const step of steps) {
    const total = step.wasm.gzip + step.glue.gzip;
    const baseTotal = base ? base.wasm.gzip + base.glue.gzip : null;
    rows.push([
      step.step,
      step.adds,
      step.kept,
      num(step.wasm.raw),
      num(step.wasm.gzip),
      num(step.wasm.brotli),
      num(step.glue.gzip),
      baseTotal === null ? "—" : `${total - baseTotal >= 0 ? "+" : ""}${num(((total - baseTotal) / baseTotal) * 100, 1)}%`,
    ]);
    if (step.kept === "yes" || step.kept === "baseline") base = step;
  }
  return rows;
}

const SIZE_STEP_HEADER = ["step", "adds", "kept", "wasm raw", "wasm gzip", "wasm brotli", "glue gzip", "Δ gzip vs kept so far"];

function textTable(header, rows) {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => String(r[i]).length)));
  const fmt = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt)].join("\n");
}

function markdownTable(header, rows) {
  const esc = (c) => String(c).replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    // Columns of numbers are right-aligned, columns of words left-aligned.
    `| ${header.map((_, i) => (i > 0 && rows.every((r) => /^[-+—0-9.,%× ]*( ?[KM]B| ms| s)?$/.test(String(r[i]))) ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

const MAIN_HEADER = ["metric", "better", "hubwire ÷ official", "hubwire ÷ floor", "hubwire", "official", "floor"];

function render(results, asMarkdown) {
  const table = asMarkdown ? markdownTable : textTable;
  return [
    table(MAIN_HEADER, tableRows(results)),
    "",
    table(["shipped bytes", "raw", "gzip -9", "brotli -q 11"], sizeRows(results)),
    "",
    table(["mock hub (hubwire-loadgen, Rust)", "result"], hubRows(results)),
  ].join("\n");
}

/** Rewrites the latest-run section of a Markdown file (BENCHMARKS.md) with this run. */
function record(file, results) {
  const begin = "<!-- latest-run:begin -->";
  const end = "<!-- latest-run:end -->";
  const text = readFileSync(file, "utf8");
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    log(`not recorded: ${file} has no ${begin} ... ${end} section`);
    return;
  }
  const env = results.environment;
  const v = env.versions;
  const section = [
    begin,
    "<!-- Written by `./run.sh bench` (bench/run.mjs); edit the text outside these markers. -->",
    "",
    `- **Date**: ${env.date}`,
    `- **Machine**: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB; ${env.machine.os} (kernel ${env.machine.kernel}); load average ${env.machine.loadAverageAtStart?.[0]} at the start, ${env.machine.loadAverageAtEnd?.[0]} at the end`,
    `- **Versions**: hubwire ${v.hubwire} (git ${v.git}${v.gitDirty ? ", uncommitted changes" : ""}), @microsoft/signalr ${v["@microsoft/signalr"]}, Chromium ${v.chromium} (headless, playwright-core ${v["playwright-core"]}), Node ${v.node}, ${v.rustc}, wasm-bindgen ${v["wasm-bindgen"]?.replace(/^wasm-bindgen /, "")}, ${v["wasm-opt"]}`,
    `- **wasm build**: route ${env.buildFlags.wasmRoute ?? "?"}, RUSTFLAGS \`${env.buildFlags.wasmRustflags || "(none)"}\`, std features \`${env.buildFlags.wasmStdFeatures || "(none)"}\``,
    `- **Counts**: ${env.counts.rounds} rounds of ${num(env.counts.messages)} messages per client (after ${num(env.counts.warmup)} warm-up), ${num(env.counts.echoes)} Echo calls (after ${num(env.counts.echoWarmup)}) in ${env.counts.latencyChunks} chunks, the clients taking turns; ${env.counts.drops} drops with ${env.counts.groups} groups and ${num(env.counts.cycles)} cycles, one client at a time; the run took ${results.elapsedSecs} s`,
    "",
    render(results, true),
    "",
    end,
  ].join("\n");
  let updated = text.slice(0, from) + section + text.slice(to + end.length);
  const stepsBegin = "<!-- size-steps:begin -->";
  const stepsEnd = "<!-- size-steps:end -->";
  const a = updated.indexOf(stepsBegin);
  const b = updated.indexOf(stepsEnd);
  if (results.sizeSteps && a >= 0 && b > a) {
    const stepsSection = [
      stepsBegin,
      `<!-- Written by \`./run.sh bench --size-steps\` (bench/size/steps.sh) on ${env.date.slice(0, 10)}. -->`,
      "",
      markdownTable(SIZE_STEP_HEADER, sizeStepRows(results.sizeSteps)),
      "",
      stepsEnd,
    ].join("\n");
    updated = updated.slice(0, a) + stepsSection + updated.slice(b + stepsEnd.length);
  }
  const appsBegin = "<!-- app-sizes:begin -->";
  const appsEnd = "<!-- app-sizes:end -->";
  const c = updated.indexOf(appsBegin);
  const d = updated.indexOf(appsEnd);
  if (results.size.apps && !results.size.apps.error && c >= 0 && d > c) {
    const rows = Object.entries(results.size.apps)
      .filter(([name]) => !name.includes("baseline"))
      .map(([name, app]) => [name, num(app.growth.raw), num(app.growth.gzip), num(app.growth.brotli), app.fetched.filter((f) => f !== "index.html").map((f) => f.replace(/^assets\//, "")).join(", ")]);
    const appsSection = [
      appsBegin,
      `<!-- Written by \`./run.sh bench\` (bench/run.mjs, bench/size/apps.mjs) on ${env.date.slice(0, 10)}. -->`,
      "",
      markdownTable(["app imports", "raw", "gzip -9", "brotli -q 11", "files fetched"], rows),
      "",
      appsEnd,
    ].join("\n");
    updated = updated.slice(0, c) + appsSection + updated.slice(d + appsEnd.length);
  }
  writeFileSync(file, updated);
  log(`recorded in ${path.relative(process.cwd(), file)}`);
}

// ------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------

if (args.render) {
  const earlier = JSON.parse(readFileSync(args.render, "utf8"));
  COUNTS = earlier.environment.counts;
  record(args.record, earlier);
  process.exit(0);
}

const started = Date.now();
const LOAD_AT_START = os.loadavg().map((l) => Math.round(l * 100) / 100);
log(QUICK ? "quick run (small counts: a smoke run, not numbers to record)" : "full run");
const results = { environment: null, size: await measureSize(), clients: [], loadgen: null };

const hub = await startHub(["--www", path.resolve(ROOT, args.site), "--pkg", path.resolve(ROOT, args.pkg)]);
let browser;
let browserVersion = null;
try {
  browser = await launchChromium({ args: CHROMIUM_EXTRA_ARGS });
  browserVersion = browser.version();
  log(`hub ${hub.url}; Chromium ${browserVersion}`);
  results.clients = await runClients(browser, hub.url);
} finally {
  await browser?.close();
  await hub.stop();
}

try {
  results.loadgen = await runLoadgen();
} catch (error) {
  results.loadgen = { error: String(error.message ?? error) };
  log(`load generator FAILED: ${results.loadgen.error}`);
}
if (args["size-steps"] && existsSync(args["size-steps"])) {
  results.sizeSteps = JSON.parse(readFileSync(args["size-steps"], "utf8"));
}
results.elapsedSecs = Math.round((Date.now() - started) / 1000);
results.environment = environment(browserVersion);

mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
writeFileSync(args.out, JSON.stringify(results, null, 2) + "\n");
if (args.markdown) writeFileSync(args.markdown, render(results, true) + "\n");

const env = results.environment;
console.log(`\nhubwire benchmarks, ${env.date} — ${env.machine.cpu} (${env.machine.cores} cores), ${env.machine.os}`);
console.log(`hubwire ${env.versions.hubwire}, @microsoft/signalr ${env.versions["@microsoft/signalr"]}, Chromium ${env.versions.chromium}${QUICK ? " — QUICK RUN" : ""}`);
console.log("Ratios first: hubwire ÷ official and hubwire ÷ floor (the bare-WebSocket page); 'better' says which way is good.\n");
console.log(render(results, false));
if (results.sizeSteps) console.log(`\n${textTable(SIZE_STEP_HEADER, sizeStepRows(results.sizeSteps))}`);
const failures = [
  ...results.clients.flatMap((c) => [
    ...(c.error ? [`${c.client}: ${c.error}`] : []),
    ...Object.entries(c.steps).filter(([, s]) => s?.error).map(([k, s]) => `${c.client} ${k}: ${s.error}`),
  ]),
  ...(results.loadgen?.error ? [`loadgen: ${results.loadgen.error}`] : []),
];
if (failures.length) console.log(`\nsteps that failed:\n  ${failures.join("\n  ")}`);
// A run with failed steps is not recorded: BENCHMARKS.md keeps the last complete one.
if (args.record && failures.length === 0) record(args.record, results);
else if (args.record) log(`not recorded in ${args.record}: some steps failed`);
console.log(`\nresults: ${path.relative(process.cwd(), path.resolve(args.out))} (${results.elapsedSecs} s)`);
process.exitCode = failures.length ? 1 : 0;
