// hubwire/live in every browser engine against the mock hub: runs www/live-harness.html (the
// live subscriptions harness) in each engine of ENGINES (tests/js/support/engines.mjs;
// HUBWIRE_ENGINES narrows it) and reports each of its checks as one test here, named with the
// engine.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ENGINES, keepScreenshot, launch, unexpectedEvents } from "./support/engines.mjs";
import { harnessResults, reportChecks } from "./support/harness-page.mjs";
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

for (const engine of ENGINES) {
  describe(`${engine}: live subscriptions harness`, () => {
    let mock;
    let browser;
    let results = new Map();
    let events = [];

    before(async () => {
      mock = await startMock(["--www", "www", "--pkg", "pkg"]);
      browser = await launch(engine);
      const page = await browser.newPage();
      await page.goto(`${mock.url}live-harness.html`);
      try {
        results = await harnessResults(page, "hubwireLiveHarness");
      } finally {
        events = await page.events();
        await keepScreenshot(page, "live-harness");
      }
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
    });

    reportChecks(test, assert, { engine, what: "the live harness", expected: EXPECTED_CHECKS, results: () => results });

    test(`[${engine}] the page raised no uncaught errors`, () => {
      // The checks that make the hub refuse negotiates (503) and fail polls (500) make the
      // browser log failed requests on purpose: Chromium as console errors ("status of 500"),
      // Firefox as network lines (engines.mjs marks them). HTTP statuses themselves are not
      // errors here, and neither are the client's own warnings.
      const expected = (e) =>
        e.kind === "response" || (e.kind === "console" && e.type !== "error") || e.network || /status of (500|503)|Failed to load resource/.test(e.text);
      assert.deepEqual(unexpectedEvents(events, expected), []);
    });
  });
}
