// Leaving a page and coming Back, for real, in every browser engine: what the engine does with
// a page that holds a live hubwire connection, and what the hub sees. (www/checks/lifecycle.js
// dispatches pagehide/pageshow by hand, the same in every engine; this suite lets each engine
// decide, and the engines decide differently.)
//
// What each engine was found to do, and what the tests below hold it to:
//   chromium  keeps the page in its back/forward cache (Playwright turns the cache off by
//             default; tests/js/support/engines.mjs turns it back on, as a visitor's Chromium
//             has it): pagehide and pageshow with persisted=true, freeze and resume between
//   webkit    keeps the page in its cache too, with no freeze or resume events (WebKit has no
//             Page Lifecycle API)
//   firefox   keeps no page with an open WebSocket in its cache: it closes the socket (code
//             1006) when the navigation starts, before pagehide, so the client begins a retry
//             (the hub answers its negotiate) that pagehide then stops before it connects; Back
//             loads the page again. The same page with its connection stopped first is cached.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ENGINES, launch } from "./support/engines.mjs";
import { startMock } from "./support/mock.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The hub's log without its per-attempt detail (transport let in, handshake answered). */
const milestones = (entries) => entries.filter((e) => e.kind !== "transportOpened" && e.kind !== "handshake");

/** Opens a page with a connection in group dispatch:europe, recording what happens to it. */
async function pageWithConnection(page, url, { stopFirst = false } = {}) {
  await page.goto(url);
  // The page's own modules have loaded: the page is in the same state in every engine (WebKit's
  // goto returns at the load event, before module scripts with awaits finish).
  await page.waitForFunction(() => window.hubwireHarness, null, { timeout: 30_000, what: "the harness module" });
  return page.evaluate(async (stop) => {
    const { HubConnectionBuilder, HttpTransportType } = await import("/pkg/index.js");
    // In sessionStorage, so the record survives a page that is loaded again instead of restored.
    const seen = [];
    const note = (what) => {
      seen.push(what);
      sessionStorage.setItem("seen", JSON.stringify(seen));
    };
    for (const type of ["pagehide", "pageshow"]) addEventListener(type, (e) => note(`${type}:${e.persisted}`));
    for (const type of ["freeze", "resume"]) document.addEventListener(type, () => note(type));
    const connection = new HubConnectionBuilder()
      .withUrl("/hub", { transport: HttpTransportType.WebSockets })
      .withAutomaticReconnect([0, 100])
      .build();
    connection.onstatechange((change) => note(`${change.previous}->${change.current}`));
    await connection.start();
    await connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["europe"] });
    window.backForwardConnection = connection;
    if (stop) await connection.stop();
    return connection.connectionId;
  }, stopFirst);
}

/** What the page recorded (it may be a fresh load of the same URL). */
const recorded = (page) =>
  page.evaluate(() => ({
    seen: JSON.parse(sessionStorage.getItem("seen") ?? "[]"),
    restored: Boolean(window.backForwardConnection),
    state: window.backForwardConnection?.state ?? null,
    connectionId: window.backForwardConnection?.connectionId ?? null,
  }));

for (const engine of ENGINES) {
  describe(`${engine}: back/forward cache`, () => {
    let mock;
    let browser;
    let page;
    let firstId;
    let whileAway = [];
    let afterBack = [];
    let back = {};

    before(async () => {
      mock = await startMock(["--www", "www", "--pkg", "pkg"]);
      browser = await launch(engine);
      page = await browser.newPage();
      firstId = await pageWithConnection(page, `${mock.url}harness.html?only=none`);
      await mock.control("DELETE /control/log");
      await page.goto(`${mock.url}harness.html?only=none&away=1`);
      for (let i = 0; i < 50 && !whileAway.some((e) => e.kind === "disconnect"); i++) {
        await sleep(100);
        whileAway = await mock.control("/control/log");
      }
      await sleep(500);
      whileAway = await mock.control("/control/log");
      await mock.control("DELETE /control/log");
      await page.back();
      await page.waitForFunction(() => !location.search.includes("away") && document.readyState === "complete", null, { timeout: 10_000, what: "the first page again" });
      if (engine !== "firefox") {
        await page.waitForFunction(() => window.backForwardConnection?.state === "Connected", null, { timeout: 10_000, what: "the restored connection to be Connected" }).catch(() => {});
      }
      await sleep(500);
      back = await recorded(page);
      afterBack = await mock.control("/control/log");
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
    });

    test(`[${engine}] leaving the page ends its hub connection`, () => {
      const ended = whileAway.filter((e) => e.kind === "disconnect").map((e) => e.connectionId);
      assert.deepEqual(ended, [firstId], JSON.stringify(whileAway));
      // No new connection is made from a page that is going away.
      assert.deepEqual(whileAway.filter((e) => e.kind === "connect"), []);
    });

    if (engine === "firefox") {
      test(`[firefox] the socket Firefox closes before pagehide starts a retry that pagehide stops before it connects`, () => {
        // Firefox closes the WebSocket first (the client sees 1006 and schedules its retry at
        // once: the hub answers one negotiate), then fires pagehide, which stops the client.
        assert.deepEqual(milestones(whileAway).map((e) => e.kind), ["disconnect", "negotiate"], JSON.stringify(whileAway));
        const seen = back.seen;
        const reconnecting = seen.indexOf("Connected->Reconnecting");
        const hidden = seen.indexOf("pagehide:false");
        assert.ok(reconnecting >= 0 && hidden > reconnecting, `Reconnecting before pagehide: ${JSON.stringify(seen)}`);
        assert.equal(seen.at(-1), "Disconnecting->Disconnected", `stopped on pagehide: ${JSON.stringify(seen)}`);
      });

      test(`[firefox] Back loads the page again: Firefox caches no page with an open WebSocket`, () => {
        assert.equal(back.restored, false, "the page's state survived, so it came from the cache");
        assert.ok(!back.seen.includes("pageshow:true"), JSON.stringify(back.seen));
        // A page loaded again makes no connection of its own here (this page starts none).
        assert.deepEqual(afterBack.filter((e) => e.kind === "negotiate" || e.kind === "connect"), []);
      });

      test(`[firefox] the same page with its connection stopped first is kept in the cache`, async () => {
        // The control for the test above: the open WebSocket is what keeps Firefox from caching.
        const other = await browser.newPage();
        try {
          // Firefox decides per navigation whether a page may be cached, and a socket still in
          // its closing handshake (slow on a busy machine) counts against it: the stopped
          // socket gets time to close, and a page that was loaded again instead gets one more try.
          const tries = [];
          for (let attempt = 1; attempt <= 2; attempt++) {
            await pageWithConnection(other, `${mock.url}harness.html?only=none&stopped=${attempt}`, { stopFirst: true });
            await sleep(500);
            await other.goto(`${mock.url}harness.html?only=none&away=${attempt}`);
            await other.back();
            await other.waitForFunction(() => location.search.includes("stopped") && document.readyState === "complete", null, { timeout: 10_000, what: "the first page again" });
            await sleep(300);
            const { restored, seen } = await recorded(other);
            tries.push({ restored, seen });
            if (restored && seen.includes("pagehide:true") && seen.includes("pageshow:true")) break;
          }
          const last = tries.at(-1);
          assert.ok(last.restored && last.seen.includes("pagehide:true") && last.seen.includes("pageshow:true"), JSON.stringify(tries));
        } finally {
          await other.close();
        }
      });
    } else {
      test(`[${engine}] leaving the page puts it in the back/forward cache`, () => {
        assert.deepEqual(milestones(whileAway).map((e) => e.kind), ["disconnect"], JSON.stringify(whileAway));
        assert.ok(back.seen.includes("pagehide:true"), JSON.stringify(back.seen));
        assert.equal(back.seen[back.seen.indexOf("pagehide:true") + 1], "Connected->Disconnecting", `pagehide stops the client: ${JSON.stringify(back.seen)}`);
      });

      test(`[${engine}] Back restores the page and the client reconnects with a new id and re-joins its groups`, () => {
        assert.equal(back.restored, true, "the page's own state is back");
        assert.ok(back.seen.includes("pageshow:true"), JSON.stringify(back.seen));
        assert.equal(back.state, "Connected");
        assert.notEqual(back.connectionId, firstId);
        assert.deepEqual(
          milestones(afterBack).map((e) => (e.kind === "invocation" ? `${e.kind} ${e.target} ${JSON.stringify(e.arguments)}` : e.kind)),
          ["negotiate", "connect", 'invocation JoinDispatchGroup ["europe"]'],
        );
        assert.ok(afterBack.every((e) => e.connectionId === back.connectionId), JSON.stringify(afterBack));
      });

      if (engine === "chromium") {
        test(`[chromium] a cached page is frozen and resumed (Page Lifecycle API)`, () => {
          const between = back.seen.slice(back.seen.indexOf("pagehide:true"), back.seen.indexOf("pageshow:true"));
          assert.deepEqual(between.filter((e) => e === "freeze" || e === "resume"), ["freeze", "resume"], JSON.stringify(back.seen));
        });
      } else {
        test(`[webkit] a cached page gets no freeze or resume: WebKit has no Page Lifecycle API`, () => {
          assert.deepEqual(back.seen.filter((e) => e === "freeze" || e === "resume"), [], JSON.stringify(back.seen));
        });
      }
    }
  });
}
