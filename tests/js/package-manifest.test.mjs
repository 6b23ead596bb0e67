// The npm package's manifest and contents, as `npm pack` would publish them from pkg/.
// Static checks only (no browser, no bundler): the package tests next to this one install the
// tarball into real apps.
//
// Run: node --test tests/js/package-manifest.test.mjs   (needs pkg/: bash scripts/build-wasm.sh)

import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";

import { PKG_DIR, packedFiles } from "./support/fixture-apps.mjs";

let manifest;
let packed = [];

before(async () => {
  manifest = JSON.parse(await readFile(path.join(PKG_DIR, "package.json"), "utf8"));
  packed = await packedFiles();
});

/** Every target file of the exports map, as [subpath, condition path, file]. */
function exportTargets() {
  const walk = (subpath, conditions, target) =>
    typeof target === "string"
      ? [[subpath, conditions.join(".") || "default", target]]
      : Object.entries(target).flatMap(([condition, inner]) => walk(subpath, [...conditions, condition], inner));
  return Object.entries(manifest.exports).flatMap(([subpath, target]) => walk(subpath, [], target));
}

test("the package is hubwire, an ES module package", () => {
  assert.equal(manifest.name, "hubwire");
  assert.equal(manifest.type, "module");
});

test("the package declares itself free of side effects", () => {
  assert.equal(manifest.sideEffects, false);
});

test("exports offer '.', './react', './live' and the testing kit's entries as ES modules (import), CommonJS (require) and a default, each with its types first", () => {
  for (const subpath of [".", "./react", "./live", "./testing", "./testing/msw", "./testing/react"]) {
    const target = manifest.exports[subpath] ?? {};
    assert.deepEqual(Object.keys(target), ["import", "require", "default"], `exports["${subpath}"]`);
    assert.deepEqual(Object.keys(target.import), ["types", "default"], `exports["${subpath}"].import`);
    assert.deepEqual(Object.keys(target.require), ["types", "default"], `exports["${subpath}"].require`);
    assert.match(target.import.types, /\.d\.ts$/, `exports["${subpath}"].import.types`);
    assert.match(target.import.default, /\.js$/, `exports["${subpath}"].import.default`);
    assert.match(target.require.types, /\.d\.cts$/, `exports["${subpath}"].require.types`);
    assert.match(target.require.default, /\.cjs$/, `exports["${subpath}"].require.default`);
    assert.equal(target.default, target.import.default, `exports["${subpath}"].default`);
  }
});

test("ws and eventsource are optional peer dependencies (Node's transports where the globals do not do)", () => {
  for (const name of ["ws", "eventsource"]) {
    assert.ok(manifest.peerDependencies?.[name], `peerDependencies.${name}`);
    assert.deepEqual(manifest.peerDependenciesMeta?.[name], { optional: true }, `peerDependenciesMeta.${name}`);
  }
});

test("msw is an optional peer dependency, of version 2 (hubwire/testing/msw's ws handlers)", () => {
  assert.match(manifest.peerDependencies?.msw ?? "", /^\^2\./);
  assert.deepEqual(manifest.peerDependenciesMeta?.msw, { optional: true });
});

test("every file the exports map names is in the tarball", () => {
  for (const [subpath, condition, file] of exportTargets()) {
    assert.ok(packed.includes(path.posix.normalize(file)), `exports["${subpath}"].${condition} -> ${file} is not packed`);
  }
});

test("react is an optional peer dependency, and the one dependency is @msgpack/msgpack (for hubwire/msgpack)", () => {
  assert.match(manifest.peerDependencies?.react ?? "", /\^18/);
  assert.match(manifest.peerDependencies?.react ?? "", /\^19/);
  assert.deepEqual(manifest.peerDependenciesMeta?.react, { optional: true });
  // The official @microsoft/signalr-protocol-msgpack's range: its Encoder/Decoder constructors.
  assert.deepEqual(manifest.dependencies, { "@msgpack/msgpack": "^2.7.0" });
});

test("only the hubwire/msgpack entry imports @msgpack/msgpack", async () => {
  const { readFile, readdir } = await import("node:fs/promises");
  const modules = (await readdir(new URL("../../pkg/", import.meta.url))).filter((f) => /\.(c?js)$/.test(f));
  const importing = [];
  for (const file of modules) {
    const source = await readFile(new URL(`../../pkg/${file}`, import.meta.url), "utf8");
    if (/(from\s*|import\s*\(\s*|require\s*\(\s*)["']@msgpack\/msgpack["']/.test(source)) importing.push(file);
  }
  assert.deepEqual(importing.sort(), ["msgpack.cjs", "msgpack.js"]);
});

test("the tarball holds exactly the files list, the manifest, README and licence", () => {
  const expected = [...new Set([...manifest.files, "package.json", "README.md", "LICENSE"])].sort();
  assert.deepEqual(packed, expected);
});

test("every relative import in the packed modules resolves to a packed file", async () => {
  const modules = packed.filter((file) => /\.(js|cjs|d\.ts|d\.cts)$/.test(file));
  const missing = [];
  for (const file of modules) {
    const source = await readFile(path.join(PKG_DIR, file), "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import|require)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const resolved = path.posix.join(path.posix.dirname(file), specifier);
      const candidates = /\.d\.c?ts$/.test(file) ? [resolved, resolved.replace(/\.js$/, ".d.ts").replace(/\.cjs$/, ".d.cts")] : [resolved];
      if (!candidates.some((c) => packed.includes(c))) missing.push(`${file} imports ${specifier}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("the wasm glue finds its module next to itself (new URL with import.meta.url)", async () => {
  const glue = await readFile(path.join(PKG_DIR, "hubwire.js"), "utf8");
  assert.match(glue, /new URL\(\s*['"]hubwire_bg\.wasm['"]\s*,\s*import\.meta\.url\s*\)/);
});
