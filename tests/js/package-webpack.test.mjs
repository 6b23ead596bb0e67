// The packed npm package in a webpack 5 app (tests/fixtures/webpack-app): the tarball installs,
// webpack builds the app with its defaults (top-level await on, the wasm emitted as an asset
// through `new URL(..., import.meta.url)`), and the built app, served by the mock hub, connects
// in every browser engine and shows a value echoed by the hub; the bundle holds nothing of
// hubwire/testing, which the app does not import.
//
// Only the tarball is installed into the app (offline, from the file); webpack comes from the
// root node_modules (see tests/js/support/fixture-apps.mjs).
//
// Run: node --test tests/js/package-webpack.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ENGINES, echoShown, launch } from "./support/engines.mjs";
import { copyFixture, installTarball, listFiles, packPackage, run, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";
import { testingKitMarkersIn } from "./support/testing-kit.mjs";

for (const engine of ENGINES) {
  describe(`${engine}: package in a webpack app`, () => {
    let work;
    let app;
    let mock;
    let browser;
    let built = false;

    before(async () => {
      work = await workDir(`webpack-${engine}`);
      app = await copyFixture("webpack-app", work.path);
      const { tarball } = await packPackage(work.path);
      await installTarball(app, tarball);
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    // The build is the same in every engine; each engine's process builds its own copy, so the
    // engines can run side by side.
    test(`[${engine}] webpack 5 builds the app (without hubwire/testing) without warnings and emits the wasm as an asset`, async () => {
      await run(process.execPath, ["build.js"], { cwd: app });
      const files = await listFiles(path.join(app, "dist"));
      assert.ok(files.some((f) => f.endsWith(".wasm")), `dist: ${files.join(", ")}`);
      // The app does not import hubwire/testing, so nothing of it is bundled.
      assert.deepEqual(await testingKitMarkersIn(path.join(app, "dist")), []);
      built = true;
    });

    test(`[${engine}] the webpack build connects to the hub and shows the echo`, async () => {
      assert.ok(built, "the build step failed");
      mock = await startMock(["--www", path.join(app, "dist")]);
      browser = await launch(engine);
      const shown = await echoShown(browser, mock.url);
      assert.deepEqual(shown, { echo: "hello from webpack", error: "", problems: [] });
    });
  });
}
