// Tab sharing's code (tab-link.js / tab-link.cjs) in Node, in both module formats: a copy of the
// package without it builds a tab-shared connection whose start() rejects saying the file could
// not be loaded; once the file is back, a second start() loads it and connects (Node has no Web
// Locks, so the connection runs alone), and the handler registered before the failure is there,
// while a call made before it failed with it and is not made.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, cp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { PKG_DIR, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

const MISSING = /^hubwire: the tab-sharing code \(tab-link\.js\) could not be loaded: /;

let work;
let mock;

before(async () => {
  work = await workDir("tab-sharing-node");
  mock = await startMock();
});

after(async () => {
  await mock?.stop();
  await work?.remove();
});

const FORMATS = {
  "ES module": { file: "tab-link.js", load: (dir) => import(pathToFileURL(path.join(dir, "index.js")).href) },
  CommonJS: { file: "tab-link.cjs", load: async (dir) => createRequire(path.join(dir, "index.cjs"))("./index.cjs") },
};

for (const [format, { file, load }] of Object.entries(FORMATS)) {
  test(`${format}: without ${file} start() rejects saying so; with it back, the next start() connects and the earlier handler gets events`, async () => {
    const dir = path.join(work.path, format === "CommonJS" ? "cjs" : "esm");
    await cp(PKG_DIR, dir, { recursive: true });
    await rm(path.join(dir, file));
    const { HubConnectionBuilder } = await load(dir);

    const connection = new HubConnectionBuilder().withUrl(`${mock.url}hub`).withTabSharing().build();
    const received = [];
    connection.on("JobAssigned", (job) => received.push(job.jobId));
    const states = [];
    connection.onstatechange((change) => states.push(`${change.previous}->${change.current}`));

    // A call made before the failure fails with it, and is not performed later.
    const joined = connection.joinGroup({ join: "JoinDispatchGroup", leave: "LeaveDispatchGroup", args: ["east"] });
    await assert.rejects(connection.start(), (error) => MISSING.test(error.message));
    await assert.rejects(joined, (error) => MISSING.test(error.message));
    assert.equal(connection.state, "Disconnected");
    assert.deepEqual(states, ["Connecting->Disconnected"]);
    assert.equal(connection.health().tabSharing.role, "alone", "Node has no Web Locks: the connection would run alone");

    await copyFile(path.join(PKG_DIR, file), path.join(dir, file));
    await connection.start();
    try {
      assert.equal(connection.state, "Connected");
      const { delivered } = await mock.control("/control/publish", { target: "JobAssigned", arguments: [{ jobId: "n1" }] });
      assert.ok(delivered >= 1);
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(received, ["n1"]);
      const east = await mock.control("/control/publish", { target: "JobAssigned", arguments: [{ jobId: "e1" }], group: "dispatch:east" });
      assert.equal(east.delivered, 0, "the join that failed with the load was not made later");
    } finally {
      await connection.stop();
    }
  });
}
