// The hubwire client in headless Chromium against the mock hub: runs www/harness.html (the
// browser harness) and reports each of its checks as one test here.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";

import { launchChromium } from "./support/browser.mjs";
import { startMock } from "./support/mock.mjs";

const EXPECTED_CHECKS = [
  "start connects and reports a connection id",
  "invoke Echo returns a string",
  "invoke Echo returns an object",
  "a joined dispatch group receives RecommendationReady and no other region's",
  "a server error rejects invoke with the server's message",
  "an unknown hub method rejects invoke",
  "send delivers a chat message to the workflow group",
  "off removes a handler",
  "invoke before start rejects with a clear error",
  "stop disconnects and calls onclose without an error",
  "accessTokenFactory's token reaches the hub",
  "a server Close with an error reaches onclose and rejects pending calls",
  "an abrupt drop closes the connection with an error",
  "a dropped connection reconnects with a new id and its groups get events again",
  "a repeated event is delivered once and a stale one not at all",
  "state changes are reported with attempt and next retry",
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
  await page.goto(`${mock.url}harness.html`);
  const list = await page.evaluate(() => window.hubwireHarness.done);
  results = new Map(list.map((r) => [r.name, r]));
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: "test-results/harness.png", fullPage: true });
});

after(async () => {
  await browser?.close();
  await mock?.stop();
});

test("the harness runs exactly the expected checks", () => {
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
  assert.deepEqual(pageErrors.filter((e) => !e.includes("favicon")), []);
});
