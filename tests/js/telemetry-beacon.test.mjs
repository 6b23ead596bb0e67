// Telemetry still in its batch when the page goes away is sent with navigator.sendBeacon on
// pagehide, and reaches the mock hub's /api/telemetry endpoint, in every browser engine.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ENGINES, launch } from "./support/engines.mjs";
import { startMock } from "./support/mock.mjs";

for (const engine of ENGINES) {
  describe(`${engine}: telemetry beacon`, () => {
    let mock;
    let browser;

    before(async () => {
      mock = await startMock(["--www", "www", "--pkg", "pkg"]);
      browser = await launch(engine);
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
    });

    test(`[${engine}] records waiting in a batch are sent by beacon when the page is hidden`, async () => {
      const page = await browser.newPage();
      try {
        // A page with the package but no checks running.
        await page.goto(`${mock.url}harness.html?only=none`);
        // The page's own modules have loaded: the page is in the same state in every engine
        // (WebKit's goto returns at the load event, before module scripts with awaits finish).
        await page.waitForFunction(() => window.hubwireHarness, null, { timeout: 30_000, what: "the harness module" });
        await mock.control("DELETE /control/telemetry");
        await page.evaluate(async () => {
          const { HubConnectionBuilder } = await import("/pkg/index.js");
          const connection = new HubConnectionBuilder()
            .withUrl("/hub")
            // A batch that neither fills nor times out while the test runs: only pagehide sends it.
            .withTelemetry({ url: "/api/telemetry", batchSize: 1000, flushIntervalMs: 600_000 })
            .build();
          await connection.start();
          window.beaconConnection = connection;
        });
        assert.deepEqual(await mock.control("/control/telemetry"), [], "nothing sent before the page hides");
        await page.goto("about:blank");
        let received = [];
        for (let i = 0; i < 50 && received.length === 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          received = await mock.control("/control/telemetry");
        }
        assert.ok(received.some((record) => record.type === "connectionOpened"), JSON.stringify(received));
      } finally {
        await page.close();
      }
    });
  });
}
