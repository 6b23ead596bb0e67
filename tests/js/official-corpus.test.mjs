// Drop-in at the type level: a corpus of typical code written against @microsoft/signalr
// (tests/fixtures/official-corpus: the docs' chat and streaming shapes, React state holding a
// HubConnectionState, a custom ILogger, a class-based IRetryPolicy, custom HttpClients,
// instanceof on the error classes, hub protocol message types) type-checks with strict `tsc`
// against the official declarations as written, and against hubwire's packed declarations with
// nothing changed but the import specifier. The corpus must name every export of the official
// index, and hubwire must export every value the official package exports at run time.
//
// Run: node --test tests/js/official-corpus.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { ROOT, TSC_BIN, copyFixture, installTarball, packPackage, run, workDir } from "./support/fixture-apps.mjs";

const OFFICIAL = "@microsoft/signalr";
const CORPUS = "official-corpus";
let work;
let officialApp;
let hubwireApp;

/** The corpus's source files (relative names). */
async function corpusFiles(app) {
  return (await readdir(path.join(app, "src"))).filter((name) => /\.tsx?$/.test(name));
}

/** `tsc -p app`; resolves with its output, rejects with it when tsc reports errors. */
function typeCheck(app) {
  return run(process.execPath, [TSC_BIN, "-p", app], { cwd: app });
}

before(async () => {
  work = await workDir("corpus");
  // Under target/js-fixtures, so `@microsoft/signalr`, `react` and `@types/react` resolve from
  // the repository's own node_modules; only hubwire's tarball is installed into its copy.
  const officialDir = path.join(work.path, "official");
  const hubwireDir = path.join(work.path, "hubwire");
  officialApp = await copyFixture(CORPUS, officialDir);
  hubwireApp = await copyFixture(CORPUS, hubwireDir);
  for (const name of await corpusFiles(hubwireApp)) {
    const file = path.join(hubwireApp, "src", name);
    const source = await readFile(file, "utf8");
    await writeFile(file, source.replaceAll(`"${OFFICIAL}"`, `"hubwire"`));
  }
  const { tarball } = await packPackage(work.path);
  await installTarball(hubwireApp, tarball);
});

after(async () => {
  await work?.remove();
});

test("the corpus type-checks against the official client's declarations", async () => {
  await typeCheck(officialApp);
});

test("the same corpus, with only the import changed to hubwire, type-checks against hubwire's declarations", async () => {
  const changed = (await Promise.all((await corpusFiles(hubwireApp)).map((n) => readFile(path.join(hubwireApp, "src", n), "utf8")))).join("\n");
  assert.ok(!changed.includes(OFFICIAL), "every import was rewritten");
  assert.ok(changed.includes(`from "hubwire"`));
  await typeCheck(hubwireApp);
});

test("a use of a member neither client has fails the check with both declarations (the check is real)", async () => {
  for (const [app, specifier] of [
    [officialApp, OFFICIAL],
    [hubwireApp, "hubwire"],
  ]) {
    const probe = path.join(app, "src", "zz-probe.ts");
    await writeFile(probe, `import { HubConnectionBuilder } from "${specifier}";\nnew HubConnectionBuilder().withUrl("/hub").build().notAMember();\n`);
    try {
      await assert.rejects(typeCheck(app), /notAMember/);
    } finally {
      await writeFile(probe, "export {};\n");
    }
  }
});

test("the corpus names every export of the official client's index", async () => {
  const index = await readFile(path.join(ROOT, "node_modules", OFFICIAL, "dist", "esm", "index.d.ts"), "utf8");
  const exported = [...index.matchAll(/export\s*\{([^}]*)\}/g)].flatMap((m) => m[1].split(",").map((name) => name.trim()).filter(Boolean));
  assert.ok(exported.length > 40, `read the official exports (${exported.length})`);
  const corpus = (await Promise.all((await corpusFiles(officialApp)).map((n) => readFile(path.join(officialApp, "src", n), "utf8")))).join("\n");
  const missing = exported.filter((name) => !new RegExp(`\\b${name}\\b`).test(corpus));
  assert.deepEqual(missing, [], "official exports the corpus never uses");
});

test("hubwire exports every value the official client exports, of the same kind", async () => {
  const official = await import(OFFICIAL);
  const hubwire = await import(path.join(hubwireApp, "node_modules", "hubwire", "index.js"));
  const differences = Object.keys(official)
    .filter((name) => name !== "default" && name !== "__esModule")
    .filter((name) => typeof hubwire[name] !== typeof official[name])
    .map((name) => `${name}: official ${typeof official[name]}, hubwire ${typeof hubwire[name]}`);
  assert.deepEqual(differences, []);
  // The enums read the same both ways, reverse lookup included.
  for (const name of ["HubConnectionState", "HttpTransportType", "LogLevel", "MessageType", "TransferFormat"]) {
    assert.deepEqual({ ...hubwire[name] }, { ...official[name] }, name);
  }
});
