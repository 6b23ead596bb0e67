// hubwire/live in headless Chromium against the mock hub: runs www/live-harness.html (the live
// subscriptions harness) and reports each of its checks as one test here.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";

import { launchChromium } from "./support/browser.mjs";
import { startMock } from "./support/mock.mjs";

const EXPECTED_CHECKS = [
  "flag off: REST polls only, and no negotiate for the subscription",
  "flag on with a healthy hub: one catch-up poll, then pushes and no polls",
  "flag on with the hub down: polls, then push once it is up, and no polls after the catch-up",
  "a reconnect longer than fallbackAfterMs polls until reconnected",
  "a short reconnect makes one catch-up poll and no fallback",
  "the flag flipped at run time switches modes both ways without a reload",
  "updates are delivered once and never backwards across push, poll, push",
  "failed REST polls back off, are reported, and recover",
  "a poll slower than pollTimeoutMs is abandoned and retried",
  "unsubscribe stops polling, leaves the group and stops the connection it started",
  "plain WebSocket: the stats subscription gets the initial stats, changes, and the initial stats again after a drop",
  "plain WebSocket: a normal closure (1000) by the server does not reconnect; polling takes over",
  "plain WebSocket: an abnormal close code reconnects",
  "a poll function's errors back off exactly and never throw into the app",
  "refresh() polls now and reads the flag again",
  "a poll URL and a flags document can be any JSON URL",
  "subscriptions share a connection the app started and leave it running",
  "the async iterator yields the current value, then each update, and ends on unsubscribe",
];

let mock;
let browser;
let results = new Map();
const pageErrors = [];

before(async () => {
  mock = await startMock(["--www", "www", "--pkg", "pkg"]);
  browser = await launchChromium();
  const page = await browser.newPage();
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(`${mock.url}live-harness.html`);
  // The package instantiates its WebAssembly with top-level await, which the load event does not
  // wait for: wait for the harness to exist before reading it.
  await page.waitForFunction(() => window.hubwireLiveHarness, null, { timeout: 30_000 });
  const list = await page.evaluate(() => window.hubwireLiveHarness.done);
  results = new Map(list.map((r) => [r.name, r]));
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/live-harness.png", fullPage: true });
});

after(async () => {
  await browser?.close();
  await mock?.stop();
});

test("the live harness runs exactly the expected checks", () => {
  assert.deepEqual([...results.keys()].sort(), [...EXPECTED_CHECKS].sort());
});

for (const name of EXPECTED_CHECKS) {
  test(`browser: ${name}`, () => {
    const result = results.get(name);
    assert.ok(result, "the check ran");
    assert.ok(result.ok, result.error);
  });
}

test("the page raised no uncaught errors", () => {
  // The browser logs failed requests as console errors: the checks that make the hub refuse
  // negotiates (503) and fail polls (500) cause those on purpose.
  const unexpected = pageErrors.filter((e) => !e.includes("favicon") && !/status of (500|503)/.test(e));
  assert.deepEqual(unexpected, []);
});
