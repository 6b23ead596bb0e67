// The packed npm package with no bundler: the tarball's own files, unpacked and served at
// /pkg/, are imported by a page's `<script type="module">` (tests/fixtures/no-bundler), which
// connects to the mock hub in every browser engine and shows a value echoed by the hub. (www/
// harness.html does the same against pkg/ itself; this proves the published files suffice.)
//
// Run: node --test tests/js/package-no-bundler.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { ENGINES, echoShown, launch } from "./support/engines.mjs";
import { FIXTURES_DIR, packPackage, unpackTarball, workDir } from "./support/fixture-apps.mjs";
import { startMock } from "./support/mock.mjs";

for (const engine of ENGINES) {
  describe(`${engine}: package without a bundler`, () => {
    let work;
    let mock;
    let browser;

    before(async () => {
      work = await workDir(`no-bundler-${engine}`);
      const { tarball } = await packPackage(work.path);
      const unpacked = await unpackTarball(tarball, path.join(work.path, "unpacked"));
      mock = await startMock(["--www", path.join(FIXTURES_DIR, "no-bundler"), "--pkg", unpacked]);
      browser = await launch(engine);
    });

    after(async () => {
      await browser?.close();
      await mock?.stop();
      await work?.remove();
    });

    test(`[${engine}] a <script type=module> page imports the unpacked tarball and shows the hub's echo`, async () => {
      const shown = await echoShown(browser, mock.url);
      assert.deepEqual(shown, { echo: "hello without a bundler", error: "", problems: [] });
    });
  });
}
