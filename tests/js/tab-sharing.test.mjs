// withTabSharing() and connectPlain(url, { shareAcrossTabs }) in every browser engine: several
// tabs of one browser context against the mock hub, which says how many connections and /ws
// sockets it holds.
//
// The tabs are windows that one controller page (www/tabs.html) opens with window.open, on a
// native click (popup blockers let a click open one window): same origin, one browser context,
// each a top-level page with its own copy of the package. The test drives each tab's
// `window.tab` (www/tabs.js) from the controller, and closes the leading one for real.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";

import { ENGINES, launch, unexpectedEvents } from "./support/engines.mjs";
import { startMock } from "./support/mock.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long a handover may take here before the test gives up (the machine may be busy). */
const HANDOVER_LIMIT_MS = 10_000;

for (const engine of ENGINES) {
  describe(`${engine}: one connection for all tabs`, () => {
    let mock;
    let browser;
    let controller;

    before(async () => {
      mock = await startMock(["--www", "www", "--pkg", "pkg"]);
      browser = await launch(engine);
      controller = await browser.newPage();
      await controller.goto(`${mock.url}tabs.html`);
      await controller.waitForFunction(() => window.tabsReady, null, { timeout: 30_000, what: "the controller page" });
    });

    after(async () => {
      await controller?.close();
      await browser?.close();
      await mock?.stop();
    });

    /** Opens the tab `name` (query: key, user, plain, nolocks) and waits until it started. */
    async function openTab(name, query = {}) {
      await controller.evaluate((next) => (window.nextTab = next), { name, query });
      await controller.click("#open");
      await controller.waitForFunction((n) => window.tabs[n]?.tab, name, { timeout: 30_000, what: `tab ${name} to load` });
      const started = await controller.evaluate((n) => window.tabs[n].tab.started, name);
      assert.equal(started, "started", `tab ${name} started`);
    }

    /** Runs `fn(tab, arg)` in tab `name` (its window.tab), from the controller. */
    function inTab(name, fn, arg) {
      return controller.evaluate(
        async ({ n, source, a }) => {
          const tab = window.tabs[n].tab;
          // eslint-disable-next-line no-new-func
          return JSON.parse(JSON.stringify((await new Function(`return (${source})`)()(tab, a)) ?? null));
        },
        { n: name, source: String(fn), a: arg },
      );
    }

    const hubConnections = async () => (await mock.control("/control/connections")).filter((c) => c.endpoint === "/hub");
    const wsSockets = () => mock.control("/control/ws/sockets");

    async function waitFor(what, check, timeout = 10_000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        await sleep(100);
      }
    }

    /** Closes every open tab and waits until the hub holds no connection and no socket. */
    async function closeAll() {
      await controller.evaluate(() => {
        for (const w of Object.values(window.tabs)) w.close();
        window.tabs = {};
      });
      await waitFor("the hub to hold no connection", async () => (await hubConnections()).length === 0 && (await wsSockets()).length === 0, 15_000);
    }

    const roles = (names) => Promise.all(names.map((n) => inTab(n, (tab) => tab.health().tabSharing)));

    async function leaderOf(names) {
      const sharing = await roles(names);
      const leading = names.filter((_, i) => sharing[i].role === "leading");
      assert.equal(leading.length, 1, `one leading tab: ${JSON.stringify(sharing)}`);
      return leading[0];
    }

    async function publishJob(jobId) {
      const { delivered } = await mock.control("/control/publish", { target: "JobAssigned", arguments: [{ jobId, region: "all" }] });
      return delivered;
    }

    const receivedIds = (names) => Promise.all(names.map((n) => inTab(n, (tab) => tab.received.map((job) => job.jobId))));

    test(`[${engine}] five tabs hold one hub connection and one /ws socket; events reach every tab exactly once; a follower's invoke, error and stream come back`, async () => {
      const names = ["a", "b", "c", "d", "e"];
      for (const name of names) await openTab(name, { key: "five", plain: "1" });
      for (const name of names) {
        await controller.waitForFunction((n) => window.tabs[n].tab.plainState() === "Connected", name, { timeout: 15_000, what: `tab ${name}'s plain socket` });
      }
      assert.equal((await hubConnections()).length, 1, "one hub connection");
      assert.equal((await wsSockets()).length, 1, "one /ws socket");

      const leader = await leaderOf(names);
      const sharing = await roles(names);
      const leaderTabId = sharing[names.indexOf(leader)].tabId;
      for (const s of sharing) assert.equal(s.leaderTabId, leaderTabId, "every tab knows the same leader");
      const [hub] = await hubConnections();
      for (const name of names) {
        const health = await inTab(name, (tab) => tab.health());
        assert.equal(health.state, "Connected");
        assert.equal(health.connectionId, hub.connectionId, `tab ${name} sees the shared connection`);
      }
      const plainSharing = await Promise.all(names.map((n) => inTab(n, (tab) => tab.plainSharing())));
      assert.equal(plainSharing.filter((s) => s.role === "leading").length, 1, "one tab leads the plain socket");

      assert.equal(await publishJob("job-five-1"), 1, "the hub sends the event once");
      await waitFor("every tab to get the event", async () => (await receivedIds(names)).every((ids) => ids.length >= 1));
      await sleep(300);
      assert.deepEqual(await receivedIds(names), names.map(() => ["job-five-1"]), "each tab got it exactly once");
      for (const name of names) {
        assert.deepEqual(await inTab(name, (tab) => tab.handlerThis), [true], `tab ${name}'s handler ran with this = its connection`);
        assert.equal(await inTab(name, (tab) => tab.isHubConnection()), true, "a shared connection is a HubConnection");
      }

      const before = await Promise.all(names.map((n) => inTab(n, (tab) => tab.plainReceived.length)));
      const { delivered } = await mock.control("/control/stats/tasks", {});
      assert.equal(delivered, 1, "the /ws message goes out once");
      await waitFor("every tab to get the /ws message", async () => {
        const now = await Promise.all(names.map((n) => inTab(n, (tab) => tab.plainReceived.length)));
        return now.every((count, i) => count >= before[i] + 1);
      });
      await sleep(300);
      const after_ = await Promise.all(names.map((n) => inTab(n, (tab) => tab.plainReceived.length)));
      assert.deepEqual(after_, before.map((count) => count + 1), "each tab got the /ws message exactly once");

      const follower = names.find((n) => n !== leader);
      assert.deepEqual(await inTab(follower, (tab) => tab.invoke("Echo", { from: "follower", n: 5 })), { value: { from: "follower", n: 5 } });
      const failed = await inTab(follower, (tab) => tab.invoke("Fail", "from a follower"));
      assert.match(failed.error ?? "", /HubException: from a follower/, "the hub's error reaches the calling tab");
      assert.deepEqual(await inTab(follower, (tab) => tab.stream(4)), { items: [0, 1, 2, 3] });
      assert.deepEqual(await inTab(follower, (tab) => tab.upload([1, 2, 3.5])), { value: 6.5 }, "a follower's upload stream reaches the hub");
      const uncopyable = await inTab(follower, (tab) => tab.connection.invoke("Echo", () => 1).then(() => "resolved", (error) => error.message));
      assert.match(uncopyable, /cannot be passed to the tab holding the connection/, "arguments that cannot be copied reject the call");
      const invocations = (await mock.control("/control/log")).filter((e) => e.kind === "invocation" && e.target === "Echo");
      assert.equal(invocations.length, 1, "the follower's invoke reached the hub once");
      await closeAll();
    });

    test(`[${engine}] groups are counted across tabs: the hub is asked to leave after the last tab leaves`, async () => {
      const names = ["g1", "g2", "g3"];
      for (const name of names) await openTab(name, { key: "groups" });
      const leader = await leaderOf(names);
      const followers = names.filter((n) => n !== leader);
      const groupsOnHub = async () => (await hubConnections())[0]?.groups ?? [];
      assert.equal(await inTab(followers[0], (tab, r) => tab.join(r), "europe"), "joined");
      assert.equal(await inTab(leader, (tab, r) => tab.join(r), "europe"), "joined");
      assert.equal(await inTab(followers[1], (tab, r) => tab.join(r), "europe"), "joined");
      assert.deepEqual(await groupsOnHub(), ["dispatch:europe"]);
      const joins = (await mock.control("/control/log")).filter((e) => e.kind === "invocation" && e.target === "JoinDispatchGroup");
      assert.equal(joins.length, 1, "three tabs joining is one join on the hub");

      assert.equal(await inTab(followers[0], (tab, r) => tab.leave(r), "europe"), "left");
      assert.equal(await inTab(leader, (tab, r) => tab.leave(r), "europe"), "left");
      await sleep(300);
      assert.deepEqual(await groupsOnHub(), ["dispatch:europe"], "one tab still holds the group");
      assert.equal(await inTab(followers[1], (tab, r) => tab.leave(r), "europe"), "left");
      await waitFor("the hub to drop the group", async () => (await groupsOnHub()).length === 0);
      const leaves = (await mock.control("/control/log")).filter((e) => e.kind === "invocation" && e.target === "LeaveDispatchGroup");
      assert.equal(leaves.length, 1, "one leave, by the last tab");

      // A tab that goes away gives its memberships up: the last holder closing is a leave.
      assert.equal(await inTab(followers[0], (tab, r) => tab.join(r), "asia-pacific"), "joined");
      assert.deepEqual(await groupsOnHub(), ["dispatch:asia-pacific"]);
      await controller.evaluate((n) => window.tabs[n].close(), followers[0]);
      await waitFor("the hub to drop the closed tab's group", async () => (await groupsOnHub()).length === 0);
      await closeAll();
    });

    test(`[${engine}] closing the leading tab hands over: one new connection, every group re-joined, one reconnecting/reconnected, no duplicate event`, async (t) => {
      const names = ["f1", "f2", "f3", "f4"];
      for (const name of names) await openTab(name, { key: "failover", plain: "1" });
      const leader = await leaderOf(names);
      const rest = names.filter((n) => n !== leader);
      // The leader and one follower hold asia-pacific; another follower holds europe; the
      // leader alone holds north-america, which nobody alive holds after it closes.
      assert.equal(await inTab(leader, (tab, r) => tab.join(r), "asia-pacific"), "joined");
      assert.equal(await inTab(leader, (tab, r) => tab.join(r), "north-america"), "joined");
      assert.equal(await inTab(rest[0], (tab, r) => tab.join(r), "asia-pacific"), "joined");
      assert.equal(await inTab(rest[1], (tab, r) => tab.join(r), "europe"), "joined");
      const [first] = await hubConnections();
      assert.deepEqual(first.groups, ["dispatch:asia-pacific", "dispatch:europe", "dispatch:north-america"]);

      await publishJob("job-failover-1");
      await waitFor("every tab to get the first event", async () => (await receivedIds(names)).every((ids) => ids.length === 1));

      const closedAt = Date.now();
      await controller.evaluate((n) => window.tabs[n].close(), leader);
      await waitFor(
        "another tab to take over",
        async () => {
          const connections = await hubConnections();
          if (connections.length !== 1 || connections[0].connectionId === first.connectionId) return false;
          const states = await Promise.all(rest.map((n) => inTab(n, (tab) => tab.state())));
          return states.every((s) => s === "Connected");
        },
        HANDOVER_LIMIT_MS,
      );
      t.diagnostic(`handover took ${Date.now() - closedAt} ms`);
      const [second] = await hubConnections();
      assert.deepEqual(second.groups, ["dispatch:asia-pacific", "dispatch:europe"], "the groups of the live tabs, re-joined");
      const sharing = await roles(rest);
      assert.equal(sharing.filter((s) => s.role === "leading").length, 1, "one new leader");
      for (const s of sharing) assert.equal(s.failovers, 1, "each tab counts one failover");
      for (const name of rest) {
        assert.deepEqual(await inTab(name, (tab) => tab.lifecycle), ["reconnecting", "reconnected:true"], `tab ${name}'s events`);
        assert.equal(await inTab(name, (tab) => tab.health().connectionId), second.connectionId);
      }
      const newLeader = rest[sharing.findIndex((s) => s.role === "leading")];
      const records = await inTab(newLeader, (tab) => tab.telemetry.filter((r) => r.type === "tabLeader"));
      assert.equal(records.at(-1)?.failover, true, "the new leader's telemetry records the failover");
      await waitFor("one /ws socket again", async () => (await wsSockets()).length === 1, HANDOVER_LIMIT_MS);

      await publishJob("job-failover-2");
      await waitFor("every tab to get the second event", async () => (await receivedIds(rest)).every((ids) => ids.length === 2));
      await sleep(300);
      assert.deepEqual(await receivedIds(rest), rest.map(() => ["job-failover-1", "job-failover-2"]), "no event twice");
      const follower = rest.find((n) => n !== newLeader);
      assert.deepEqual(await inTab(follower, (tab) => tab.invoke("Echo", "after the handover")), { value: "after the handover" });
      await closeAll();
    });

    test(`[${engine}] tabs that go without a word (as in a crash) are noticed: a follower's groups are left, a leader is replaced`, async () => {
      const names = ["x1", "x2", "x3"];
      for (const name of names) await openTab(name, { key: "crash" });
      const leader = await leaderOf(names);
      const [follower, survivor] = names.filter((n) => n !== leader);
      // No pagehide listener of the page runs: the tab cannot say goodbye; only the browser
      // freeing its locks tells the others.
      const silence = (n) =>
        controller.evaluate((name) => {
          window.tabs[name].addEventListener("pagehide", (event) => event.stopImmediatePropagation(), true);
        }, n);
      assert.equal(await inTab(follower, (tab, r) => tab.join(r), "europe"), "joined");
      const [first] = await hubConnections();
      assert.deepEqual(first.groups, ["dispatch:europe"]);
      await silence(follower);
      await controller.evaluate((n) => window.tabs[n].close(), follower);
      await waitFor("the leader to leave the gone tab's group", async () => (await hubConnections())[0]?.groups.length === 0, 10_000);

      assert.equal(await inTab(survivor, (tab, r) => tab.join(r), "asia-pacific"), "joined");
      await silence(leader);
      await controller.evaluate((n) => window.tabs[n].close(), leader);
      await waitFor(
        "the survivor to take over",
        async () => {
          const connections = await hubConnections();
          return connections.length === 1 && connections[0].connectionId !== first.connectionId && (await inTab(survivor, (tab) => tab.state())) === "Connected";
        },
        HANDOVER_LIMIT_MS,
      );
      assert.deepEqual((await hubConnections())[0].groups, ["dispatch:asia-pacific"]);
      assert.deepEqual(await inTab(survivor, (tab) => tab.lifecycle), ["reconnecting", "reconnected:true"]);
      await closeAll();
    });

    test(`[${engine}] a leading tab that stops answering (frozen) is replaced: its lock is taken and its connection closed`, async () => {
      await openTab("z1", { key: "frozen" });
      await openTab("z2", { key: "frozen" });
      const leader = await leaderOf(["z1", "z2"]);
      const other = leader === "z1" ? "z2" : "z1";
      const [first] = await hubConnections();
      // What a frozen tab looks like from the others: it holds its lock and says nothing.
      await controller.evaluate((n) => {
        window.tabs[n].BroadcastChannel.prototype.postMessage = function () {};
      }, leader);
      await waitFor(
        "the other tab to take the lead",
        async () => {
          const connections = await hubConnections();
          return connections.length === 1 && connections[0].connectionId !== first.connectionId && (await inTab(other, (tab) => tab.state())) === "Connected";
        },
        20_000,
      );
      const sharing = await inTab(other, (tab) => tab.health().tabSharing);
      assert.equal(sharing.role, "leading");
      assert.equal(sharing.failovers, 1);
      assert.deepEqual(await inTab(other, (tab) => tab.lifecycle), ["reconnecting", "reconnected:true"]);
      assert.equal((await inTab(leader, (tab) => tab.health().tabSharing)).role, "following", "the frozen tab, awake again, follows");
      await controller.waitForFunction((n) => window.tabs[n].tab.state() === "Connected", leader, { timeout: 10_000, what: "the frozen tab to follow the new connection" });
      assert.equal(await inTab(leader, (tab) => tab.connection.connectionId), (await hubConnections())[0].connectionId);
      assert.deepEqual(await inTab(other, (tab) => tab.invoke("Echo", "after the steal")), { value: "after the steal" });
      await closeAll();
    });

    test(`[${engine}] when the shared connection closes for good every tab is closed, and no tab takes over`, async () => {
      const names = ["c1", "c2", "c3"];
      for (const name of names) await openTab(name, { key: "closing" });
      await mock.control("/control/faults", { refuseNegotiations: 20 });
      await mock.control("POST /control/drop");
      try {
        for (const name of names) {
          await controller.waitForFunction((n) => window.tabs[n].tab.lifecycle.includes("close"), name, { timeout: 15_000, what: `tab ${name} to close` });
        }
        await sleep(1_500);
        assert.equal((await hubConnections()).length, 0, "no tab connected again");
        for (const name of names) {
          assert.equal(await inTab(name, (tab) => tab.state()), "Disconnected");
          assert.deepEqual(await inTab(name, (tab) => tab.lifecycle), ["reconnecting", "close"], `tab ${name}'s events`);
          assert.equal(await inTab(name, (tab) => tab.health().tabSharing.role), "idle");
        }
      } finally {
        await mock.control("DELETE /control/faults");
      }
      await closeAll();
    });

    test(`[${engine}] two different sharing keys (user ids) never share`, async () => {
      await openTab("u1", { key: "users", user: "alice" });
      await openTab("u2", { key: "users", user: "bob" });
      await openTab("u3", { key: "users", user: "alice" });
      assert.equal((await hubConnections()).length, 2, "one connection per user");
      const sharing = await roles(["u1", "u2", "u3"]);
      assert.equal(sharing[1].role, "leading", "bob's tab leads its own");
      assert.equal(sharing[0].role === "leading" ? sharing[2].leaderTabId : sharing[0].leaderTabId, sharing[0].role === "leading" ? sharing[0].tabId : sharing[2].tabId);
      await publishJob("job-users");
      await waitFor("every tab to get the event", async () => (await receivedIds(["u1", "u2", "u3"])).every((ids) => ids.length === 1));
      await closeAll();
    });

    test(`[${engine}] without Web Locks every tab connects on its own and says why in health()`, async () => {
      await openTab("n1", { key: "nolocks", nolocks: "1" });
      await openTab("n2", { key: "nolocks", nolocks: "1" });
      const connections = await hubConnections();
      assert.equal(connections.length, 2, "two tabs, two connections");
      for (const name of ["n1", "n2"]) {
        const health = await inTab(name, (tab) => tab.health());
        assert.equal(health.tabSharing.shared, false);
        assert.match(health.tabSharing.reason, /Web Locks/);
        assert.ok(connections.some((c) => c.connectionId === health.connectionId), "the tab's own connection");
        assert.deepEqual(await inTab(name, (tab, n) => tab.invoke("Echo", n), name), { value: name });
      }
      await publishJob("job-alone");
      await waitFor("both tabs to get the event", async () => (await receivedIds(["n1", "n2"])).every((ids) => ids.length === 1));
      for (const name of ["n1", "n2"]) assert.deepEqual(await inTab(name, (tab) => tab.handlerThis), [true], "this = the connection, alone too");
      await closeAll();
    });

    test(`[${engine}] the demo in two tabs: one badge says leading, the other following, and takes over when the leader closes`, async () => {
      const badge = (n) => controller.evaluate((name) => window.tabs[name].document.querySelector("#tab-role")?.textContent ?? "", n);
      for (const name of ["demo1", "demo2"]) {
        await controller.evaluate((next) => (window.nextTab = next), { name, path: "index.html" });
        await controller.click("#open");
        await controller.waitForFunction((n) => window.tabs[n]?.document?.querySelector("#badge")?.dataset.state === "Connected", name, { timeout: 30_000, what: `demo tab ${name} to connect` });
      }
      await waitFor("the badges to settle", async () => [await badge("demo1"), await badge("demo2")].sort().join(",") === "following,leading");
      const leader = (await badge("demo1")) === "leading" ? "demo1" : "demo2";
      const other = leader === "demo1" ? "demo2" : "demo1";
      await controller.evaluate((n) => window.tabs[n].close(), leader);
      await waitFor("the other demo tab to lead", async () => (await badge(other)) === "leading · 1 failover", HANDOVER_LIMIT_MS);
      await controller.evaluate(() => {
        for (const w of Object.values(window.tabs)) w.close();
        window.tabs = {};
      });
      await waitFor("the hub to hold no connection", async () => (await hubConnections()).length === 0, 15_000);
    });

    test(`[${engine}] the controller page saw no errors`, async () => {
      assert.deepEqual(unexpectedEvents(await controller.events()), []);
    });
  });
}
