// hubwire/testing as an app's developers use it (tests/fixtures/dashboard-testing-app): the
// packed tarball installed into a dashboard whose obligations tile (hubwire/live behind the
// dashboard_wave4_signalr_enabled flag, polling fallback, dedupe by userId/updatedAt) and status
// badge (hubwire/react) are tested in fake time with the in-process test hub only: Vitest under
// jsdom with the hub installed and through MSW handlers, React Testing Library with
// TestHubProvider, a narrower fake-timer set, and Jest under jsdom. No server, no socket. And
// the markers the bundler tests look for (support/testing-kit.mjs) are in a bundle that imports
// the kit and not in one of the dashboard, which does not.
//
// Run: node --test tests/js/testing-dashboard.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { build as esbuild } from "esbuild";

import { ROOT, copyFixture, installTarball, packPackage, run, workDir } from "./support/fixture-apps.mjs";
import { TESTING_KIT_MARKERS, testingKitMarkersIn } from "./support/testing-kit.mjs";

const VITEST_BIN = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
const JEST_BIN = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");

let work;
let app;
let installed = false;

before(async () => {
  work = await workDir("testing");
  app = await copyFixture("dashboard-testing-app", work.path);
});

after(async () => {
  await work?.remove();
});

/** Runs a test runner in the app; resolves to its output (it must exit 0). */
async function runSuite(args) {
  assert.ok(installed, "the install step failed");
  const { stdout, stderr } = await run(process.execPath, args, { cwd: app, env: { CI: "1" }, timeoutMs: 180_000 });
  return `${stdout}\n${stderr}`;
}

test("the packed tarball installs into the dashboard app", async () => {
  const { tarball, files } = await packPackage(work.path);
  for (const file of ["testing.js", "testing.cjs", "testing.d.ts", "testing-msw.js", "testing-react.js"]) assert.ok(files.includes(file), `${file} is packed`);
  await installTarball(app, tarball);
  installed = true;
});

test("Vitest under jsdom: fallback, reconnection and dedupe with the installed hub and with MSW, the Testing Library badge, and setTimeout-only fake timers", async () => {
  const output = await runSuite([VITEST_BIN, "run"]);
  assert.match(output, /Test Files\s+4 passed \(4\)/, output);
  assert.match(output, /Tests\s+10 passed \(10\)/, output);
});

test("Jest under jsdom (CommonJS through Babel): fallback, reconnection and dedupe with the installed hub", async () => {
  const output = await runSuite([JEST_BIN, "--ci"]);
  assert.match(output, /Tests:\s+4 passed, 4 total/, output);
});

/** Bundles `source` (a module in the app) for browsers, minified; resolves to the output folder. */
async function bundle(name, source) {
  const dir = path.join(app, "bundles", name);
  await mkdir(dir, { recursive: true });
  const entry = path.join(app, "src", `${name}-entry.js`);
  await writeFile(entry, source);
  await esbuild({ entryPoints: [entry], outdir: dir, bundle: true, minify: true, format: "esm", platform: "browser", jsx: "automatic", logLevel: "silent", loader: { ".wasm": "file" } });
  return dir;
}

test("a minified bundle that imports hubwire/testing holds every marker; the dashboard's bundle none", async () => {
  assert.ok(installed, "the install step failed");
  const withKit = await bundle("with-kit", 'import { createTestHub } from "hubwire/testing";\nimport { TestHubProvider } from "hubwire/testing/react";\nglobalThis.kit = { createTestHub, TestHubProvider };\n');
  const dashboard = await bundle("dashboard", 'import { Dashboard } from "./Dashboard.js";\nglobalThis.app = Dashboard;\n');
  assert.deepEqual(await testingKitMarkersIn(withKit), [...TESTING_KIT_MARKERS].sort());
  assert.deepEqual(await testingKitMarkersIn(dashboard), []);
});
