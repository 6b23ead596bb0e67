// The packed npm package in a fresh Vite + React app (tests/fixtures/vite-react-app): the
// tarball installs, `vite build` bundles it, and the built app, served by the mock hub, connects
// in every browser engine and shows a value echoed by the hub; the bundle holds nothing of
// hubwire/testing, which the app does not import. Then the same app under Vite's dev server
// (with the README's proxy for /hub).
//
// Only the tarball is installed into the app (offline, from the file); react, react-dom and
// vite come from the root node_modules (see tests/js/support/fixture-apps.mjs).
//
// Run: node --test tests/js/package-vite.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createServer } from "vite";

import { ENGINES, echoShown, launch } from "./support/engines.mjs";
import { VITE_BIN, copyFixture, installTarball, listFiles, packPackage, run, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";
import { testingKitMarkersIn } from "./support/testing-kit.mjs";

const ECHOED = "hello from vite";

for (const engine of ENGINES) {
  describe(`${engine}: package in a Vite + React app`, () => {
    let work;
    let app;
    let mock;
    let browser;
    let installed = false;
    let built = false;

    before(async () => {
      work = await workDir(`vite-${engine}`);
      app = await copyFixture("vite-react-app", work.path);
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    /** Opens `url` and resolves with the app's echo and error texts once either shows, and the page's problems. */
    async function echoOf(url) {
      browser ??= await launch(engine);
      return echoShown(browser, url);
    }

    // The install and the build are the same in every engine; each engine's process does its
    // own, so the engines can run side by side.
    test(`[${engine}] the packed tarball installs into a fresh Vite + React app`, async () => {
      const { tarball } = await packPackage(work.path);
      await installTarball(app, tarball);
      const installedManifest = JSON.parse(await readFile(path.join(app, "node_modules", "hubwire", "package.json"), "utf8"));
      assert.equal(installedManifest.name, "hubwire");
      installed = true;
    });

    test(`[${engine}] vite build bundles the app (without hubwire/testing) and emits the wasm as an asset`, async () => {
      assert.ok(installed, "the install step failed");
      await run(process.execPath, [VITE_BIN, "build"], { cwd: app });
      const files = await listFiles(path.join(app, "dist"));
      assert.ok(files.some((f) => /^assets\/hubwire_bg-.*\.wasm$/.test(f)), `dist: ${files.join(", ")}`);
      // The app does not import hubwire/testing, so nothing of it is bundled.
      assert.deepEqual(await testingKitMarkersIn(path.join(app, "dist")), []);
      built = true;
    });

    test(`[${engine}] the built app, served statically, connects and shows the hub's echo`, async () => {
      assert.ok(built, "the build step failed");
      mock ??= await startMock(["--www", path.join(app, "dist")]);
      const shown = await echoOf(mock.url);
      assert.deepEqual(shown, { echo: ECHOED, error: "", problems: [] });
    });

    test(`[${engine}] the app runs under Vite's dev server with /hub proxied to the hub`, async () => {
      assert.ok(installed, "the install step failed");
      const hub = await startMock();
      // The fixture's vite.config.js (optimizeDeps.exclude, build.target) plus the README's proxy.
      const server = await createServer({
        root: app,
        logLevel: "silent",
        server: { host: "127.0.0.1", port: 0, hmr: false, proxy: { "/hub": { target: hub.url, ws: true } } },
      });
      try {
        await server.listen();
        const shown = await echoOf(server.resolvedUrls.local[0]);
        assert.deepEqual(shown, { echo: ECHOED, error: "", problems: [] });
      } finally {
        await server.close();
        await hub.stop();
      }
    });
  });
}
