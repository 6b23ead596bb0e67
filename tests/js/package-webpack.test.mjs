// The packed npm package in a webpack 5 app (tests/fixtures/webpack-app): the tarball installs,
// webpack builds the app with its defaults (top-level await on, the wasm emitted as an asset
// through `new URL(..., import.meta.url)`), and the built app, served by the mock hub, connects
// in headless Chromium and shows a value echoed by the hub.
//
// Only the tarball is installed into the app (offline, from the file); webpack comes from the
// root node_modules (see tests/js/support/fixture-apps.mjs).
//
// Run: node --test tests/js/package-webpack.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { launchChromium } from "./support/browser.mjs";
import { copyFixture, installTarball, listFiles, openPage, packPackage, run, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

let work;
let app;
let mock;
let browser;
let built = false;

before(async () => {
  work = await workDir("webpack");
  app = await copyFixture("webpack-app", work.path);
  const { tarball } = await packPackage(work.path);
  await installTarball(app, tarball);
});

after(async () => {
  await browser?.close();
  await mock?.stop();
  await work?.remove();
});

test("webpack 5 builds the app without warnings and emits the wasm as an asset", async () => {
  await run(process.execPath, ["build.js"], { cwd: app });
  const files = await listFiles(path.join(app, "dist"));
  assert.ok(files.some((f) => f.endsWith(".wasm")), `dist: ${files.join(", ")}`);
  built = true;
});

test("the webpack build connects to the hub in Chromium and shows the echo", async () => {
  assert.ok(built, "the build step failed");
  mock = await startMock(["--www", path.join(app, "dist")]);
  browser = await launchChromium();
  const { page, errors } = await openPage(browser, mock.url);
  await page.waitForFunction(() => document.querySelector("#echo")?.textContent || document.querySelector("#error")?.textContent);
  const shown = { echo: await page.textContent("#echo"), error: await page.textContent("#error"), errors };
  assert.deepEqual(shown, { echo: "hello from webpack", error: "", errors: [] });
});
