// Minifies wasm-bindgen glue files in place with esbuild, keeping them ES modules with the same
// exports (`new URL("…_bg.wasm", import.meta.url)` survives, so bundlers still find the module).
//
// Usage: node scripts/minify-glue.mjs FILE.js...   (scripts/build-wasm.sh runs it on the package)

import { readFile, writeFile } from "node:fs/promises";
import { transform } from "esbuild";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/minify-glue.mjs FILE.js...");
  process.exit(2);
}
for (const file of files) {
  const source = await readFile(file, "utf8");
  const { code } = await transform(source, { format: "esm", minify: true, target: "es2020", loader: "js" });
  await writeFile(file, code);
  console.log(`[build-wasm]   ${file.split("/").pop()}: ${source.length} -> ${code.length} bytes`);
}
