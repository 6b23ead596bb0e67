// How a bundle shows that hubwire/testing is in it: texts of the kit that survive minification
// (string literals and property names), none of which the other entries contain. The bundler
// tests assert an app bundle has none of them; tests/js/testing-dashboard.test.mjs checks that a
// bundle importing the kit has them all (so the markers are real).

import { readFile } from "node:fs/promises";
import path from "node:path";

import { listFiles } from "./fixture-apps.mjs";

/** Texts of testing.js, testing-msw.js and testing-react.js that a bundle of them keeps. */
export const TESTING_KIT_MARKERS = ["The test hub refused the connection.", "TestHub.waitFor timed out", "refuseConnects", "sendTwice"];

/** The markers found in the .js, .mjs and .cjs files under `dir` (empty when the kit is not there). */
export async function testingKitMarkersIn(dir) {
  const found = new Set();
  for (const file of await listFiles(dir)) {
    if (!/\.(m|c)?js$/.test(file)) continue;
    const text = await readFile(path.join(dir, file), "utf8");
    for (const marker of TESTING_KIT_MARKERS) if (text.includes(marker)) found.add(marker);
  }
  return [...found].sort();
}
