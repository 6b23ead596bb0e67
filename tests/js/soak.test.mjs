// The soak (RELIABILITY.md): numbered messages both ways across random socket drops, in
// headless Chromium against the mock hub (www/soak.js). With stateful reconnect none may be
// lost, doubled or reordered; without it the losses are counted and printed, not judged.
// HUBWIRE_SOAK_MESSAGES sets the count (default 100,000 each way); bounded by a time limit.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";

import { launchChromium } from "./support/browser.mjs";
import { startMock } from "./support/mock.mjs";

const MESSAGES = Number(process.env.HUBWIRE_SOAK_MESSAGES || 100_000);
const DROPS = 20;
const results = {};

let mock;
let browser;
let page;

before(async () => {
  mock = await startMock(["--www", "www", "--pkg", "pkg"]);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${mock.url}soak.html`);
  await page.waitForFunction(() => window.hubwireSoak, null, { timeout: 60_000 });
});

after(async () => {
  mkdirSync("target", { recursive: true });
  writeFileSync("target/soak.json", `${JSON.stringify(results, null, 2)}\n`);
  await browser?.close();
  await mock?.stop();
});

test(`stateful reconnect: ${MESSAGES} numbered messages each way across ${DROPS} drops arrive once, in order`, { timeout: 240_000 }, async () => {
  const result = await page.evaluate((options) => window.hubwireSoak(options), { messages: MESSAGES, drops: DROPS, stateful: true, seed: 7 });
  results.stateful = result;
  console.log(`# soak with stateful reconnect: ${JSON.stringify(result)}`);
  assert.equal(result.drops, DROPS, "every drop was made");
  assert.equal(result.reconnects, 0, "no reconnecting event: every drop was absorbed");
  for (const [direction, counts] of Object.entries({ serverToClient: result.serverToClient, clientToServer: result.clientToServer })) {
    assert.equal(counts.missing, 0, `${direction}: none lost (${JSON.stringify(counts)})`);
    assert.equal(counts.duplicates, 0, `${direction}: none doubled`);
    assert.equal(counts.outOfOrder, 0, `${direction}: in order`);
  }
  assert.equal(result.clientToServer.sendFailures, 0, "no send failed");
});

test(`without stateful reconnect: the losses across ${DROPS} drops are counted`, { timeout: 240_000 }, async () => {
  const result = await page.evaluate((options) => window.hubwireSoak({ ...options, timeoutMs: 15_000 }), {
    messages: MESSAGES,
    drops: DROPS,
    stateful: false,
    seed: 7,
  });
  results.plain = result;
  console.log(`# soak without stateful reconnect: ${JSON.stringify(result)}`);
  assert.equal(result.drops, DROPS, "every drop was made");
  assert.ok(result.reconnects >= 1, "the drops were seen as reconnects");
  // What the protocol gives without stateful reconnect: no duplicates, no reordering within a
  // connection; losses are expected and only reported.
  assert.equal(result.clientToServer.duplicates, 0, "client to server: none doubled");
});
