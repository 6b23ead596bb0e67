// The live demo (www/index.html) end to end in headless Chromium against the mock hub running
// its demo scenario: events show up, a dropped connection comes back with its groups, a doubled
// event shows one row. A screenshot is kept in test-results/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";

import { launchChromium } from "./support/browser.mjs";
import { startMock } from "./support/mock.mjs";

let mock;
let browser;
let page;
const pageErrors = [];

async function publish(target, payload, group) {
  await mock.control("/control/publish", { target, arguments: [payload], group });
}

const rowsWith = (jobId) =>
  page.evaluate((id) => [...document.querySelectorAll("#dispatch tr")].filter((tr) => tr.innerText.includes(id)).length, jobId);

async function logText() {
  return page.locator("#log").innerText();
}

before(async () => {
  mock = await startMock(["--www", "www", "--pkg", "pkg", "--demo"]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  await page.goto(mock.url);
  await page.waitForFunction(() => document.querySelector("#badge")?.dataset.state === "Connected", null, { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelector("#log")?.innerText.includes("joined dispatch:north-america"), null, { timeout: 15_000 });
});

after(async () => {
  if (page) {
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/demo.png", fullPage: true }).catch(() => {});
  }
  await browser?.close();
  await mock?.stop();
});

test("the demo connects and shows dispatch events for the chosen region", async () => {
  await publish("RecommendationReady", { jobId: "e2e-first", region: "north-america", contractorId: "contractor-1", score: 0.9, recommendedAt: new Date().toISOString() }, "dispatch:north-america");
  await page.waitForFunction(() => document.querySelector("#dispatch")?.innerText.includes("e2e-first"), null, { timeout: 10_000 });
  assert.match(await page.locator("#badge-text").innerText(), /Connected · WebSockets/);
});

test("after a drop the badge goes reconnecting then connected and the region's events keep arriving", async () => {
  await page.getByRole("button", { name: "Drop the connection" }).click();
  await page.waitForFunction(() => /→ Reconnecting/.test(document.querySelector("#log").innerText), null, { timeout: 10_000 });
  await page.waitForFunction(() => /Reconnecting → Connected/.test(document.querySelector("#log").innerText), null, { timeout: 15_000 });
  assert.match(await logText(), /groups re-joined by hubwire/);
  await publish("RecommendationReady", { jobId: "e2e-after-drop", region: "north-america", contractorId: "contractor-2", score: 0.7, recommendedAt: new Date().toISOString() }, "dispatch:north-america");
  await page.waitForFunction(() => document.querySelector("#dispatch")?.innerText.includes("e2e-after-drop"), null, { timeout: 10_000 });
});

test("a doubled event shows one row", async () => {
  await page.getByRole("button", { name: "Send the next event twice" }).click();
  await page.waitForFunction(() => /fault: Send the next event twice/.test(document.querySelector("#log").innerText));
  // The fault applies to the next event the hub sends, whichever it is; publish ours at once.
  await publish("JobAssigned", { jobId: "e2e-twice", region: "north-america", contractorId: "contractor-1", assignedAt: new Date().toISOString() }, "dispatch:north-america");
  await page.waitForFunction(() => document.querySelector("#dispatch")?.innerText.includes("e2e-twice"), null, { timeout: 10_000 });
  await page.waitForTimeout(300);
  assert.equal(await rowsWith("e2e-twice"), 1);
});

test("with the flag off the badge shows polling and the obligations tile still updates", async () => {
  await page.waitForFunction(() => document.querySelector("#obligations-card")?.dataset.updatedAt, null, { timeout: 15_000 });
  await page.getByRole("button", { name: "Toggle flag" }).click();
  await page.waitForFunction(() => document.querySelector("#obligations-source")?.dataset.source === "polling", null, { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelector("#badge-text")?.innerText.includes("polling"), null, { timeout: 5_000 });
  const before = await page.evaluate(() => document.querySelector("#obligations-card").dataset.updatedAt);
  await mock.control("/control/obligations/u-42", { obligationsSummary: { open: 99, overdue: 1, dueThisWeek: 4 } });
  await page.waitForFunction((old) => document.querySelector("#obligations-card").dataset.updatedAt !== old, before, { timeout: 15_000 });
  // The demo scenario keeps adding to every user's figures, so the tile shows 99 or later.
  assert.ok(Number(await page.locator("#ob-open").innerText()) >= 99);
  assert.match(await page.locator("#ob-updated").innerText(), /by poll/);
  // Back to push for the rest of the page's life.
  await page.getByRole("button", { name: "Toggle flag" }).click();
  await page.waitForFunction(() => document.querySelector("#obligations-source")?.dataset.source === "push", null, { timeout: 15_000 });
});

test("the demo page raised no uncaught errors", () => {
  assert.deepEqual(pageErrors, []);
});
