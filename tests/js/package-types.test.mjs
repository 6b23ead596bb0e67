// The packed npm package's TypeScript declarations: the tarball installs into a TypeScript app
// (tests/fixtures/typescript-app) that uses "hubwire", "hubwire/react", "hubwire/live" and
// "hubwire/testing" with "hubwire/testing/react", and
// `tsc` (strict, moduleResolution "bundler", so the exports map's "types" conditions are what
// it reads) finds no error. The app's expect-error lines make sure the types are precise. A
// CommonJS module of the same app (src-cjs/, module "node16") checks the .d.cts declarations.
//
// Only the tarball is installed into the app (offline, from the file); typescript and
// @types/react come from the root node_modules (see tests/js/support/fixture-apps.mjs).
//
// Run: node --test tests/js/package-types.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import path from "node:path";

import { TSC_BIN, copyFixture, installTarball, packPackage, run, workDir } from "./support/fixture-apps.mjs";

let work;
let app;

before(async () => {
  work = await workDir("types");
  app = await copyFixture("typescript-app", work.path);
  const { tarball } = await packPackage(work.path);
  await installTarball(app, tarball);
});

after(async () => {
  await work?.remove();
});

test("an app using hubwire and hubwire/react type-checks against the packed declarations", async () => {
  // run() rejects with tsc's output when it reports errors.
  await run(process.execPath, [TSC_BIN, "-p", app], { cwd: app });
});

test("a CommonJS TypeScript module require()s every entry and type-checks against the .d.cts declarations", async () => {
  // tsconfig.cjs.json: module and moduleResolution "node16", so the "require" conditions count.
  await run(process.execPath, [TSC_BIN, "-p", path.join(app, "tsconfig.cjs.json")], { cwd: app });
});
