// The hubwire/react hooks in every browser engine (tests/js/support/engines.mjs) against the
// mock hub.
//
// tests/fixtures/react-hooks-app is bundled with esbuild against pkg/ (React in development
// mode, so <StrictMode> really double-mounts), served by the mock hub with --www, and each test
// runs one of its scenarios through `window.hooks.run(name)` and asserts on what it returns.
// The scenarios that need APIs still being built (connection.joinGroup, hubwire/live's
// subscribe) are skipped, with the reason, until the page's build has them; their stand-in
// twins check the hooks' side of the same contract either way.
//
// Run: node --test tests/js/react-hooks.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

import { ENGINES, launch, openPage } from "./support/engines.mjs";
import { FIXTURES_DIR, PKG_DIR, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

const APP_DIR = path.join(FIXTURES_DIR, "react-hooks-app");
const NEEDS_JOIN_GROUP = "connection.joinGroup/leaveGroup are not in this build yet (the connection manager adds them)";
const NEEDS_SUBSCRIBE = "hubwire/live's subscribe is not in this build yet (live subscriptions add it)";

/** Resolves "hubwire", "hubwire/react" and "hubwire/live" to the built package in pkg/. */
const hubwireFromPkg = {
  name: "hubwire-from-pkg",
  setup(b) {
    b.onResolve({ filter: /^hubwire(\/(react|live))?$/ }, (args) => ({
      path: path.join(PKG_DIR, args.path === "hubwire" ? "index.js" : `${args.path.slice("hubwire/".length)}.js`),
    }));
  },
};

for (const engine of ENGINES) {
  describe(`${engine}: React hooks`, () => {
    let work;
    let mock;
    let browser;
    let page;
    let problems = async () => [];
    let features = {};

    before(async () => {
      work = await workDir(`react-hooks-${engine}`);
      await build({
        entryPoints: [path.join(APP_DIR, "src", "main.js")],
        outfile: path.join(work.path, "app.js"),
        bundle: true,
        format: "esm",
        target: "es2022",
        define: { "process.env.NODE_ENV": '"development"' },
        plugins: [hubwireFromPkg],
        logLevel: "silent",
      });
      // The glue finds its wasm next to the module that holds it: the bundle. The app renders
      // live subscription hooks, so the full module serves all of it, its connections too:
      // only that module is served, and a fetch of the core one would fail the scenarios.
      await copyFile(path.join(PKG_DIR, "hubwire_full_bg.wasm"), path.join(work.path, "hubwire_full_bg.wasm"));
      await copyFile(path.join(APP_DIR, "index.html"), path.join(work.path, "index.html"));

      mock = await startMock(["--www", work.path]);
      browser = await launch(engine);
      ({ page, problems } = await openPage(browser, mock.url));
      await page.waitForFunction(() => window.hooks !== undefined, null, { timeout: 30_000, what: "window.hooks" });
      features = await page.evaluate(() => window.hooks.features());
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    /** Runs the page's scenario `name` and resolves with what it returned. */
    const scenario = (name) => page.evaluate((n) => window.hooks.run(n), name);

    // --- HubProvider -----------------------------------------------------------------------------

    test(`[${engine}] HubProvider under StrictMode makes exactly one negotiate`, async () => {
      const { negotiates } = await scenario("strict mode negotiates once");
      assert.equal(negotiates, 1);
    });

    test(`[${engine}] HubProvider stops its connection on unmount`, async () => {
      const result = await scenario("unmount stops the connection");
      assert.deepEqual(result, { state: "Disconnected", listedByHub: false });
    });

    test(`[${engine}] HubProvider mounted again right after an unmount starts the connection again`, async () => {
      const { state } = await scenario("a provider mounted again right after an unmount starts the connection again");
      assert.equal(state, "Connected");
    });

    test(`[${engine}] HubProvider with shareAcrossTabs builds a tab-shared connection, which this lone tab leads`, async () => {
      const result = await scenario("a provider with shareAcrossTabs builds a tab-shared connection");
      assert.deepEqual(result, { shared: true, role: "leading", state: "Disconnected" });
    });

    // --- useConnectionState ----------------------------------------------------------------------

    test(`[${engine}] useConnectionState goes Disconnected -> Connecting -> Connected as the provider starts`, async () => {
      const { sequence } = await scenario("state goes Connecting then Connected");
      assert.deepEqual(sequence, ["Disconnected", "Connecting", "Connected"]);
    });

    test(`[${engine}] useConnectionState follows start() and onclose on a connection without onstatechange`, async () => {
      const { sequence } = await scenario("state without onstatechange goes Connecting then Connected");
      assert.deepEqual(sequence, ["Disconnected", "Connecting", "Connected"]);
    });

    test(`[${engine}] useConnectionState reports the connection id the hub knows`, async () => {
      const { reported, listedByHub } = await scenario("state reports the hub's connection id");
      assert.equal(typeof reported, "string");
      assert.ok(listedByHub, `the hub does not list ${reported}`);
    });

    test(`[${engine}] useConnectionState shows Disconnected, without an error, after the connection stops`, async () => {
      const result = await scenario("state shows Disconnected when the connection stops");
      assert.deepEqual(result, { state: "Disconnected", error: null });
    });

    test(`[${engine}] useConnectionState carries the error when the hub drops the connection`, async () => {
      const { state, error } = await scenario("state carries the error of a dropped connection");
      assert.equal(state, "Disconnected");
      assert.equal(typeof error, "string", "an error message");
    });

    // --- useHubEvent -----------------------------------------------------------------------------

    test(`[${engine}] useHubEvent calls the handler of the latest render`, async () => {
      const { handledBy } = await scenario("event handler is the latest one");
      assert.deepEqual(handledBy, [3]);
    });

    test(`[${engine}] useHubEvent subscribes once and keeps that subscription across re-renders`, async () => {
      const { on, off } = await scenario("event subscription survives re-renders");
      assert.deepEqual({ on, off }, { on: 1, off: 0 });
    });

    // --- useInvoke -------------------------------------------------------------------------------

    test(`[${engine}] useInvoke resolves with the hub's result and shows it as data`, async () => {
      const { final, returned } = await scenario("invoke shows the hub's result");
      assert.equal(returned, "ping");
      assert.deepEqual(final, { loading: false, data: "ping", error: null });
    });

    test(`[${engine}] useInvoke reports the hub method's error and resolves with undefined`, async () => {
      const { final, returned } = await scenario("invoke reports a hub error");
      assert.equal(returned, "undefined");
      assert.equal(final.loading, false);
      assert.match(final.error, /HubException: boom/);
    });

    // --- useGroup (needs connection.joinGroup) ---------------------------------------------------

    test(`[${engine}] useGroup joins the hub group while mounted`, async (t) => {
      if (!features.joinGroup) return t.skip(NEEDS_JOIN_GROUP);
      const { joined, error, groups } = await scenario("group is joined while mounted");
      assert.equal(error, null);
      assert.equal(joined, true);
      assert.ok(groups?.includes("dispatch:north-america"), `hub groups: ${JSON.stringify(groups)}`);
    });

    test(`[${engine}] useGroup invokes the join method once under StrictMode`, async (t) => {
      if (!features.joinGroup) return t.skip(NEEDS_JOIN_GROUP);
      const { invocations } = await scenario("group is joined once under strict mode");
      assert.deepEqual(invocations, ["JoinDispatchGroup"]);
    });

    test(`[${engine}] useGroup leaves the hub group on unmount`, async (t) => {
      if (!features.joinGroup) return t.skip(NEEDS_JOIN_GROUP);
      const { groups } = await scenario("group is left on unmount");
      assert.ok(!groups.includes("dispatch:north-america"));
    });

    // --- useLiveSubscription (needs hubwire/live's subscribe) ------------------------------------

    test(`[${engine}] useLiveSubscription shows a value the hub pushed, with source push`, async (t) => {
      if (!features.liveSubscribe) return t.skip(NEEDS_SUBSCRIBE);
      const result = await scenario("live subscription shows a pushed value");
      assert.deepEqual(
        { jobId: result.value?.jobId, source: result.source, error: result.error },
        { jobId: "job-live", source: "push", error: null },
      );
    });

    test(`[${engine}] useLiveSubscription leaving does not stop the provider's connection`, async (t) => {
      if (!features.liveSubscribe) return t.skip(NEEDS_SUBSCRIBE);
      const result = await scenario("live subscription leaving keeps the provider's connection");
      assert.deepEqual(result, { state: "Connected", negotiates: 1 });
    });

    test(`[${engine}] useLiveSubscription outside a provider polls and shows the first poll's value`, async (t) => {
      if (!features.liveSubscribe) return t.skip(NEEDS_SUBSCRIBE);
      const result = await scenario("live subscription outside a provider polls");
      assert.deepEqual(result, { value: { polls: 1 }, source: "polling", error: null });
    });

    // --- the same hooks over a stand-in connection -----------------------------------------------

    test(`[${engine}] useGroup (stand-in connection) calls joinGroup once under StrictMode`, async () => {
      const { calls } = await scenario("stand-in group joins once under strict mode");
      assert.deepEqual(calls, [["join", { join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["north-america"] }]]);
    });

    test(`[${engine}] useGroup (stand-in connection) leaves with the very spec it joined`, async () => {
      const { calls, sameSpecObject } = await scenario("stand-in group leaves with the spec it joined");
      assert.deepEqual(calls.map(([kind]) => kind), ["join", "leave"]);
      assert.ok(sameSpecObject, "leaveGroup got the object joinGroup got");
    });

    test(`[${engine}] useInvoke (stand-in connection) goes idle -> loading -> data`, async () => {
      const { renders, invoked } = await scenario("stand-in invoke goes loading then data");
      assert.deepEqual(invoked, [["invoke", "Compute", 21]]);
      assert.deepEqual(renders, [
        { loading: false, data: null, error: null },
        { loading: true, data: null, error: null },
        { loading: false, data: 42, error: null },
      ]);
    });

    test(`[${engine}] useLiveSubscription (stand-in connection) shows the latest value and its source`, async () => {
      const result = await scenario("stand-in subscription shows the latest value and source");
      assert.deepEqual(result, { value: { tick: 2 }, source: "push" });
    });

    test(`[${engine}] useLiveSubscription (stand-in connection) subscribes once under StrictMode`, async () => {
      const { calls } = await scenario("stand-in subscription subscribes once under strict mode");
      assert.deepEqual(calls, ["subscribe"]);
    });

    test(`[${engine}] useLiveSubscription (stand-in connection) unsubscribes on unmount`, async () => {
      const { calls } = await scenario("stand-in subscription unsubscribes on unmount");
      assert.deepEqual(calls, ["subscribe", "unsubscribe"]);
    });

    test(`[${engine}] the scenario page logged no errors or React warnings`, async () => {
      assert.deepEqual(await problems(), []);
    });
  });
}
