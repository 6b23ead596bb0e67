// Writes the CommonJS build of the npm package next to its ES modules: one `.cjs` file per `.js`
// module (hubwire.js, hubwire_full.js, wasm.js, index.js, tabs.js, tab-link.js, react.js, live.js, the testing kit's, ...), so
// `require("hubwire")` works in Node 20, which cannot require ES modules; and a `.d.cts` twin of each entry's declarations
// (TypeScript takes a `.d.ts` of a "type": "module" package for an ES module, which CommonJS
// code may not require). Each file is translated on its own (no bundling),
// with its relative imports pointed at the `.cjs` twins, so the CommonJS entries share one
// module instance, as the ES ones do.
//
// Usage: node scripts/build-cjs.mjs PACKAGE_DIR   (scripts/build-wasm.sh runs it on the staging dir)
//
// What differs from the ES modules, and why:
//   - `import.meta.url` becomes this file's URL, computed when read (it is only read in Node);
//   - dynamic import() becomes require() (react.js loads live.js that way; wasm.js a Node
//     built-in): Jest runs CommonJS in a vm context where import() throws without
//     --experimental-vm-modules;
//   - hubwire.cjs and hubwire_full.cjs take TextDecoder and TextEncoder from node:util where the global scope has
//     none (Jest's jsdom environment), as module-local names: no global is touched.

import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { transform } from "esbuild";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node scripts/build-cjs.mjs PACKAGE_DIR");
  process.exit(2);
}

const MODULES = ["hubwire", "hubwire_full", "wasm", "wasm-full", "errors", "signalr-api", "index", "tabs", "tab-link", "react", "live", "testing", "testing-msw", "testing-react", "msgpack"];
// A relative specifier of one of the package's own modules, in static and dynamic imports.
const OWN_MODULE = new RegExp(`(["'])\\./(${MODULES.join("|")})\\.js\\1`, "g");
const IMPORT_META = "__hubwire_import_meta";
const IMPORT_META_OBJECT = `const ${IMPORT_META} = { get url() { return require("node:url").pathToFileURL(__filename).href; } };`;
const TEXT_CODECS =
  'const { TextDecoder, TextEncoder } = typeof globalThis.TextDecoder === "function" && typeof globalThis.TextEncoder === "function" ? globalThis : require("node:util");';

for (const name of MODULES) {
  const source = await readFile(path.join(dir, `${name}.js`), "utf8");
  const pointed = source.replace(OWN_MODULE, (_, quote, target) => `${quote}./${target}.cjs${quote}`);
  const banner = [`"use strict";`, IMPORT_META_OBJECT, name.startsWith("hubwire") ? TEXT_CODECS : ""].filter(Boolean).join("\n");
  const { code, warnings } = await transform(pointed, {
    format: "cjs",
    target: "node20",
    supported: { "dynamic-import": false },
    loader: "js",
    define: { "import.meta": IMPORT_META },
    banner,
    logLevel: "silent",
  });
  for (const warning of warnings) console.warn(`[build-cjs] ${name}.js: ${warning.text}`);
  if (/\bimport\s*\(/.test(code.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""))) throw new Error(`${name}.cjs still has a dynamic import()`);
  await writeFile(path.join(dir, `${name}.cjs`), code);
  console.log(`[build-cjs]   ${name}.cjs`);
}

// The declarations: the same text, pointed at the CommonJS twins.
const DECLARED = ["index", "tabs", "react", "live", "testing", "testing-msw", "testing-react", "msgpack"];
const OWN_DECLARATION = new RegExp(`(["'])\\./(${DECLARED.join("|")})\\.js\\1`, "g");
for (const name of DECLARED) {
  const source = await readFile(path.join(dir, `${name}.d.ts`), "utf8");
  const pointed = source.replace(OWN_DECLARATION, (_, quote, target) => `${quote}./${target}.cjs${quote}`);
  await writeFile(path.join(dir, `${name}.d.cts`), pointed);
  console.log(`[build-cjs]   ${name}.d.cts`);
}
