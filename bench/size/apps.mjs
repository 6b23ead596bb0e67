// What an app downloads, the way a user sees it: small apps built with Vite (production build,
// its defaults: minified, code-split), served by the mock hub and loaded in headless Chromium;
// the size is the sum of the files the page actually fetched (from its resource timing
// entries), gzip -9 and brotli -q 11, minus what the same build of an app without a client
// fetches (for the React app: an app that only imports React). hubwire's apps import one entry each (`hubwire`, `hubwire/react`, `hubwire/live`,
// `hubwire/msgpack`), so the table says what each entry costs; the official client's apps
// import `@microsoft/signalr` (and its MessagePack protocol) the same way.
//
// Usage: node bench/size/apps.mjs [--pkg DIR] [--json]   (bench/run.mjs calls appSizes())
// Needs pkg/ built, the mock hub (built on first use) and Chromium.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// Each app builds one connection, registers a handler, starts and then says it is done.
const CONNECT = `const connection = build();
connection.on("JobAssigned", (job) => console.log(job));
connection.start().then(() => (window.done = "connected"), (error) => (window.done = String(error)));`;

export const APPS = {
  "no client (baseline)": { main: `window.done = "nothing to connect";` },
  hubwire: {
    main: `import { HubConnectionBuilder } from "hubwire";
const build = () => new HubConnectionBuilder().withUrl("/hub").build();
${CONNECT}`,
  },
  // React apps are measured against an app that only imports React (bundled in both).
  "React only (baseline)": { main: `import * as React from "react";
window.react = React.createElement;
window.done = "nothing to connect";` },
  "hubwire + hubwire/react": {
    baseline: "React only (baseline)",
    main: `import * as React from "react";
window.react = React.createElement;
import { HubConnectionBuilder } from "hubwire";
import { HubProvider, useHubEvent } from "hubwire/react";
window.hooks = [HubProvider, useHubEvent];
const build = () => new HubConnectionBuilder().withUrl("/hub").build();
${CONNECT}`,
  },
  "hubwire + hubwire/live": {
    main: `import { HubConnectionBuilder } from "hubwire";
import { subscribe } from "hubwire/live";
window.live = subscribe;
const build = () => new HubConnectionBuilder().withUrl("/hub").build();
${CONNECT}`,
  },
  "hubwire + hubwire/msgpack": {
    main: `import { HubConnectionBuilder } from "hubwire";
import { MessagePackHubProtocol } from "hubwire/msgpack";
const build = () => new HubConnectionBuilder().withUrl("/hub").withHubProtocol(new MessagePackHubProtocol()).build();
${CONNECT}`,
  },
  "@microsoft/signalr": {
    main: `import { HubConnectionBuilder } from "@microsoft/signalr";
const build = () => new HubConnectionBuilder().withUrl("/hub").build();
${CONNECT}`,
  },
  "@microsoft/signalr + its msgpack protocol": {
    main: `import { HubConnectionBuilder } from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";
const build = () => new HubConnectionBuilder().withUrl("/hub").withHubProtocol(new MessagePackHubProtocol()).build();
${CONNECT}`,
  },
};

/** Raw, gzip -9 and brotli -q 11 sizes of `data` (the CLIs when installed, else zlib). */
export function compressed(data) {
  const cli = (command, args) => {
    try {
      return execFileSync(command, args, { input: data, maxBuffer: 64 << 20 }).length;
    } catch {
      return null;
    }
  };
  return {
    raw: data.length,
    gzip: cli("gzip", ["-9", "-n", "-c"]) ?? zlib.gzipSync(data, { level: 9 }).length,
    brotli: cli("brotli", ["-q", "11", "-c"]) ?? zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

export const sum = (list) => list.reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), { raw: 0, gzip: 0, brotli: 0 });

/** Builds every app with Vite under `work`; resolves to { name: distDir }. */
async function buildApps(pkg, work) {
  const { build } = await import("vite");
  const dists = {};
  for (const [name, app] of Object.entries(APPS)) {
    const dir = path.join(work, name.replace(/[^a-z0-9]+/gi, "-"));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "index.html"), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./main.js"></script>\n`);
    writeFileSync(path.join(dir, "main.js"), app.main + "\n");
    await build({
      configFile: false,
      root: dir,
      logLevel: "error",
      resolve: {
        alias: [
          { find: /^hubwire$/, replacement: path.join(pkg, "index.js") },
          { find: /^hubwire\/(.*)$/, replacement: path.join(pkg, "$1.js") },
        ],
      },
      build: { outDir: path.join(dir, "dist"), emptyOutDir: true },
    });
    dists[name] = path.join(dir, "dist");
  }
  return dists;
}

/** Loads each built app from the mock hub in Chromium; resolves to { name: { fetched, size, outcome } }. */
export async function appSizes({ pkg = path.join(ROOT, "pkg"), work = path.join(ROOT, "target", "bench", "apps") } = {}) {
  const { startMock } = await import("../../tests/js/support/mock.mjs");
  const { launch } = await import("../../tests/js/support/engines.mjs");
  mkdirSync(work, { recursive: true });
  const dists = await buildApps(path.resolve(pkg), work);
  const results = {};
  const browser = await launch("chromium");
  try {
    for (const [name, dist] of Object.entries(dists)) {
      const mock = await startMock(["--www", dist]);
      try {
        const page = await browser.newPage();
        await page.goto(`${mock.url}index.html`);
        const outcome = await page.waitForFunction(() => window.done, null, { timeout: 20_000, what: `${name}: the app's start` });
        // Everything the page fetched from its own origin (the hub's negotiate is a request
        // to /hub, not a file of the app; the WebSocket is not a resource entry).
        const fetched = await page.evaluate(() => [
          "index.html",
          ...performance.getEntriesByType("resource").map((entry) => new URL(entry.name).pathname.slice(1)).filter((file) => !file.startsWith("hub")),
        ]);
        const files = [...new Set(fetched)].sort();
        results[name] = { outcome, fetched: files, size: sum(files.map((file) => compressed(readFileSync(path.join(dist, file))))) };
      } finally {
        await mock.stop();
      }
    }
  } finally {
    await browser.close();
  }
  for (const [name, result] of Object.entries(results)) {
    const baseline = results[APPS[name].baseline ?? "no client (baseline)"].size;
    result.baseline = APPS[name].baseline ?? "no client (baseline)";
    result.growth = { raw: result.size.raw - baseline.raw, gzip: result.size.gzip - baseline.gzip, brotli: result.size.brotli - baseline.brotli };
  }
  return results;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const pkgIndex = args.indexOf("--pkg");
  const results = await appSizes(pkgIndex >= 0 ? { pkg: path.resolve(args[pkgIndex + 1]) } : {});
  if (args.includes("--json")) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    for (const [name, r] of Object.entries(results)) {
      console.log(`${name.padEnd(44)} +${String(r.growth.gzip).padStart(7)} gzip  +${String(r.growth.brotli).padStart(7)} brotli  (${r.outcome}) ${r.fetched.join(" ")}`);
    }
  }
}
