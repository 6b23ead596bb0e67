// The packed npm package with no bundler: the tarball's own files, unpacked and served at
// /pkg/, are imported by a page's `<script type="module">` (tests/fixtures/no-bundler), which
// connects to the mock hub in headless Chromium and shows a value echoed by the hub. (www/
// harness.html does the same against pkg/ itself; this proves the published files suffice.)
//
// Run: node --test tests/js/package-no-bundler.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { launchChromium } from "./support/browser.mjs";
import { FIXTURES_DIR, openPage, packPackage, unpackTarball, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

let work;
let mock;
let browser;

before(async () => {
  work = await workDir("no-bundler");
  const { tarball } = await packPackage(work.path);
  const unpacked = await unpackTarball(tarball, path.join(work.path, "unpacked"));
  mock = await startMock(["--www", path.join(FIXTURES_DIR, "no-bundler"), "--pkg", unpacked]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await mock?.stop();
  await work?.remove();
});

test("a <script type=module> page imports the unpacked tarball and shows the hub's echo", async () => {
  const { page, errors } = await openPage(browser, mock.url);
  await page.waitForFunction(() => document.querySelector("#echo")?.textContent || document.querySelector("#error")?.textContent);
  const shown = { echo: await page.textContent("#echo"), error: await page.textContent("#error"), errors };
  assert.deepEqual(shown, { echo: "hello without a bundler", error: "", errors: [] });
});
