// The packed npm package in Node, as an app's tests and server use it (tests/fixtures/node-app):
// Vitest under jsdom and under happy-dom and Jest under jsdom run the same dashboard tests
// against the real mock hub (connect, reconnect through a drop, a doubled event shown once),
// with no hubwire-specific setup; the dashboard server-renders (renderToString and
// renderToPipeableStream) without touching the network or the wasm, and hydrates in Chromium,
// which then connects; a CommonJS script require()s every entry and talks to the hub; an ES
// module script imports every entry with no side effect and preloads the wasm from its file.
//
// Only the tarball is installed into the app (offline, from the file); react, vitest, jsdom,
// happy-dom, jest, ws and the rest come from the root node_modules (support/fixture-apps.mjs).
//
// Run: node --test tests/js/package-node.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { build as esbuild } from "esbuild";

import { launchChromium } from "./support/browser.mjs";
import { ROOT, VITE_BIN, copyFixture, installTarball, openPage, packPackage, run, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

const VITEST_BIN = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
const JEST_BIN = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");

let work;
let app;
let mock;
let installed = false;

before(async () => {
  work = await workDir("node");
  app = await copyFixture("node-app", work.path);
  mock = await startMock();
});

after(async () => {
  await mock?.stop();
  await work?.remove();
});

/** Runs a test runner in the app against the mock hub; resolves to its output (it must exit 0). */
async function runSuite(args) {
  assert.ok(installed, "the install step failed");
  const { stdout, stderr } = await run(process.execPath, args, { cwd: app, env: { HUBWIRE_HUB_URL: mock.url, CI: "1" }, timeoutMs: 180_000 });
  return `${stdout}\n${stderr}`;
}

test("the packed tarball installs into the app", async () => {
  const { tarball } = await packPackage(work.path);
  await installTarball(app, tarball);
  const manifest = JSON.parse(await readFile(path.join(app, "node_modules", "hubwire", "package.json"), "utf8"));
  assert.equal(manifest.name, "hubwire");
  installed = true;
});

for (const environment of ["jsdom", "happy-dom"]) {
  test(`Vitest under ${environment}: connect, reconnect, dedupe, fake-timer reconnect and transport tests pass against the hub`, async () => {
    const output = await runSuite([VITEST_BIN, "run", "--environment", environment]);
    assert.match(output, /Tests\s+7 passed \(7\)/, output);
  });
}

test("Jest under jsdom (CommonJS through Babel): the same dashboard tests and the transport tests pass against the hub", async () => {
  const output = await runSuite([JEST_BIN, "--ci"]);
  assert.match(output, /Tests:\s+6 passed, 6 total/, output);
});

/** The app's server entry compiled for Node as an SSR framework would (packages external). */
async function buildServerEntry() {
  await esbuild({
    entryPoints: [path.join(app, "src", "server-entry.js")],
    outfile: path.join(app, "dist-server", "app.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent",
  });
}

let serverHtml = null;

test("SSR: renderToString and renderToPipeableStream render Disconnected with no fetch, no wasm, no warning, and the process exits by itself", async () => {
  assert.ok(installed, "the install step failed");
  await buildServerEntry();
  // A timer or socket left open would keep the process alive past run()'s timeout.
  const { stdout, stderr } = await run(process.execPath, [path.join(app, "server", "ssr.mjs")], { cwd: app, timeoutMs: 15_000 });
  const report = JSON.parse(stdout);
  assert.match(report.string, /<span class="status" data-testid="status">Disconnected<\/span>/);
  assert.match(report.stream, /<span class="status" data-testid="status">Disconnected<\/span>/);
  assert.deepEqual({ complaints: report.complaints, fetches: report.fetches, instantiations: report.instantiations, stderr }, { complaints: [], fetches: 0, instantiations: 0, stderr: "" });
  serverHtml = report.string;
});

test("SSR: the server-rendered page hydrates in Chromium without a warning and then connects", async () => {
  assert.ok(serverHtml, "the SSR step failed");
  await run(process.execPath, [VITE_BIN, "build"], { cwd: app });
  const indexPath = path.join(app, "dist", "index.html");
  const page = await readFile(indexPath, "utf8");
  assert.ok(page.includes("<!--ssr-->"), "the built page has its SSR slot");
  await writeFile(indexPath, page.replace("<!--ssr-->", serverHtml));
  const site = await startMock(["--www", path.join(app, "dist")]);
  const browser = await launchChromium();
  try {
    const served = await (await fetch(site.url)).text();
    assert.ok(served.includes(serverHtml), "the page is served with the server-rendered dashboard in it");
    const { page: tab, errors } = await openPage(browser, site.url);
    await tab.waitForFunction(() => document.querySelector("[data-testid=status]")?.textContent === "Connected", null, { timeout: 15_000 });
    const connections = await site.control("/control/connections");
    // A hydration mismatch is reported on the console (React's recoverable errors): none here.
    assert.deepEqual({ errors, connections: connections.length }, { errors: [], connections: 1 });
  } finally {
    await browser.close();
    await site.stop();
  }
});

test("CommonJS: a script require()s every entry with no side effect, survives a refused WebSocket, then connects and echoes", async () => {
  assert.ok(installed, "the install step failed");
  const { stdout } = await run(process.execPath, [path.join(app, "server", "require-check.cjs"), mock.url], { cwd: app, timeoutMs: 30_000 });
  assert.deepEqual(JSON.parse(stdout), {
    entries: { hubwire: "function", react: "function", live: "function", ready: "function" },
    sideEffects: [],
    refusedStart: "rejected",
    before: "Disconnected",
    state: "Connected",
    echo: "hello from require",
    after: "Disconnected",
  });
});

test("ES modules: importing every entry has no side effect; ready() instantiates the wasm from the package's file, not by fetch", async () => {
  assert.ok(installed, "the install step failed");
  const { stdout } = await run(process.execPath, [path.join(app, "server", "import-check.mjs")], { cwd: app, timeoutMs: 30_000 });
  const report = JSON.parse(stdout);
  assert.ok(report.afterReady.includes("WebAssembly.instantiate"), `after ready(): ${report.afterReady}`);
  assert.ok(!report.afterReady.includes("fetch"), `after ready(): ${report.afterReady}`);
  assert.deepEqual({ ...report, afterReady: undefined }, {
    sideEffects: [],
    afterReady: undefined,
    wasmFilesRead: ["hubwire_full_bg.wasm"],
    exports: { ready: "function", react: "function", live: "function", liveReady: true },
  });
});
