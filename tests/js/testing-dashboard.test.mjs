// hubwire/testing as an app's developers use it (tests/fixtures/dashboard-testing-app): the
// packed tarball installed into a dashboard whose obligations tile (hubwire/live behind the
// dashboard_wave4_signalr_enabled flag, polling fallback, dedupe by userId/updatedAt) and status
// badge (hubwire/react) are tested in fake time with the in-process test hub only: Vitest under
// jsdom with the hub installed and through MSW handlers, React Testing Library with
// TestHubProvider, a narrower fake-timer set, and Jest under jsdom. No server, no socket.
//
// Run: node --test tests/js/testing-dashboard.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ROOT, copyFixture, installTarball, packPackage, run, workDir } from "./support/fixture-apps.mjs";

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
