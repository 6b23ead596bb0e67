// Tab sharing's code (pkg/tab-link.js) is fetched only by pages that share a connection, in every
// browser engine: a page importing only `hubwire` never fetches it; a tab-shared connection
// built, used before the file arrives and then started behaves as if it had been there (the
// handlers, callbacks and group memberships registered meanwhile are applied in call order);
// and a page whose copy of the package lacks the file gets a start() that rejects saying so.
// What a page fetched is read from its own resource timing entries (as module-choice does).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cp, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import { ENGINES, launch } from "./support/engines.mjs";
import { PKG_DIR, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

const page = (script) => `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  const fetched = () => [...new Set(performance.getEntriesByType("resource").map((entry) => new URL(entry.name).pathname)
    .filter((file) => file.endsWith(".js")).map((file) => file.split("/").pop()))].sort();
  try {
    ${script}
  } catch (error) {
    window.outcome = { error: String(error?.message ?? error) };
  }
</script>`;

const PAGES = {
  // No tab sharing: connects, echoes, stops.
  unshared: page(`const { HubConnectionBuilder } = await import("/pkg/index.js");
    const connection = new HubConnectionBuilder().withUrl("/hub").build();
    await connection.start();
    const echoed = await connection.invoke("Echo", 7);
    await connection.stop();
    window.outcome = { echoed, fetched: fetched() };`),

  // Everything below before start() runs before tab-link.js can have arrived (one task).
  shared: page(`const { HubConnectionBuilder, HubConnection } = await import("/pkg/index.js");
    const connection = new HubConnectionBuilder().withUrl("/hub").withTabSharing({ key: "lazy" }).build();
    const before = { instance: connection instanceof HubConnection, state: connection.state, role: connection.health().tabSharing.role, fetchedTabLink: fetched().includes("tab-link.js") };
    const calls = { first: 0, second: 0 };
    const first = () => calls.first++;
    connection.on("JobAssigned", first);
    connection.off("JobAssigned", first);
    connection.on("JobAssigned", () => calls.second++);
    const states = [];
    connection.onstatechange((change) => states.push(change.previous + "->" + change.current));
    const group = (region) => ({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: [region] });
    const groups = Promise.all([connection.joinGroup(group("east")), connection.joinGroup(group("west")), connection.leaveGroup(group("west"))]);
    const streamed = await new Promise((resolve) => connection.stream("Counter", 1).subscribe({ error: (e) => resolve(String(e.message)), complete: () => resolve("completed") }));
    const started = connection.start();
    const starting = { state: connection.state, role: connection.health().tabSharing.role, secondStart: await connection.start().then(() => "resolved", (e) => String(e.message)) };
    await started;
    await groups;
    const after = { state: connection.state, role: connection.health().tabSharing.role, echoed: await connection.invoke("Echo", 7) };
    window.tab = { connection, calls, states };
    window.outcome = { before, streamed, starting, after, states: [...states], fetched: fetched() };`),

  // A copy of the package without tab-link.js (served from /broken/).
  broken: page(`const { HubConnectionBuilder } = await import("/broken/index.js");
    const connection = new HubConnectionBuilder().withUrl("/hub").withTabSharing().build();
    const states = [];
    connection.onstatechange((change) => states.push(change.previous + "->" + change.current + ": " + change.reason));
    const rejection = await connection.start().then(() => null, (e) => String(e.message));
    window.outcome = { rejection, state: connection.state, role: connection.health().tabSharing.role, states };`),
};

for (const engine of ENGINES) {
  describe(`${engine}: tab sharing's code is loaded only when used`, () => {
    let work;
    let mock;
    let browser;
    let tab;

    before(async () => {
      work = await workDir(`tab-sharing-lazy-${engine}`);
      for (const [name, html] of Object.entries(PAGES)) await writeFile(path.join(work.path, `${name}.html`), html);
      await cp(PKG_DIR, path.join(work.path, "broken"), { recursive: true });
      await rm(path.join(work.path, "broken", "tab-link.js"));
      mock = await startMock(["--www", work.path, "--pkg", "pkg"]);
      browser = await launch(engine);
      tab = await browser.newPage();
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    async function outcomeOf(name) {
      await tab.goto(`${mock.url}${name}.html`);
      const outcome = await tab.waitForFunction(() => window.outcome, null, { timeout: 20_000, what: `the ${name} page's outcome` });
      assert.equal(outcome.error, undefined, `the ${name} page ran: ${outcome.error}`);
      return outcome;
    }

    test(`[${engine}] a page importing only hubwire, without tab sharing, fetches no tab-sharing code`, async () => {
      const outcome = await outcomeOf("unshared");
      assert.equal(outcome.echoed, 7);
      assert.ok(outcome.fetched.includes("index.js") && outcome.fetched.includes("tabs.js"), `the listing sees the package's files: ${outcome.fetched}`);
      assert.ok(!outcome.fetched.includes("tab-link.js"), `tab-link.js not fetched: ${outcome.fetched}`);
    });

    test(`[${engine}] a tab-shared connection used before its code arrives: getters answer "not connected", the calls are applied in order once it is there`, async () => {
      const outcome = await outcomeOf("shared");
      assert.deepEqual(outcome.before, { instance: true, state: "Disconnected", role: "idle", fetchedTabLink: false });
      assert.equal(outcome.streamed, "Cannot send data if the connection is not in the 'Connected' State.");
      assert.deepEqual(outcome.starting, { state: "Connecting", role: "waiting", secondStart: "Cannot start a connection that is not in the 'Disconnected' state." });
      assert.deepEqual(outcome.after, { state: "Connected", role: "leading", echoed: 7 });
      assert.deepEqual(outcome.states, ["Disconnected->Connecting", "Connecting->Connected"]);
      assert.ok(outcome.fetched.includes("tab-link.js"), `tab-link.js fetched: ${outcome.fetched}`);

      // off(first) came after on(first), and leaveGroup(west) after joinGroup(west).
      const east = await mock.control("/control/publish", { target: "JobAssigned", arguments: [{ jobId: "e1" }], group: "dispatch:east" });
      const west = await mock.control("/control/publish", { target: "JobAssigned", arguments: [{ jobId: "w1" }], group: "dispatch:west" });
      assert.equal(east.delivered, 1, "the group joined before the code arrived is joined");
      assert.equal(west.delivered, 0, "the group left after joining is not");
      const calls = await tab.waitForFunction(() => window.tab.calls.second > 0 && window.tab.calls, null, { timeout: 10_000, what: "the event" });
      assert.deepEqual(calls, { first: 0, second: 1 });
      await tab.evaluate(() => window.tab.connection.stop());
    });

    test(`[${engine}] when the tab-sharing code cannot be loaded, start() rejects saying so and the connection is Disconnected`, async () => {
      const outcome = await outcomeOf("broken");
      assert.match(outcome.rejection, /^hubwire: the tab-sharing code \(tab-link\.js\) could not be loaded: /);
      assert.equal(outcome.state, "Disconnected");
      assert.equal(outcome.role, "idle");
      assert.equal(outcome.states.length, 1, `one state change: ${outcome.states}`);
      assert.match(outcome.states[0], /^Connecting->Disconnected: hubwire: the tab-sharing code \(tab-link\.js\) could not be loaded/);
    });
  });
}
