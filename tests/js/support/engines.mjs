// One way for the browser suites to open a page in any of the three browser engines.
//
//   chromium  Debian's /usr/bin/chromium, driven by playwright-core over CDP (launchChromium()
//             in ./browser.mjs, unchanged)
//   firefox   Debian's /usr/bin/firefox-esr, driven by puppeteer-core over WebDriver BiDi
//   webkit    WebKitGTK's MiniBrowser, started by /usr/bin/WebKitWebDriver (package
//             webkit2gtk-driver) and driven over W3C WebDriver (classic) by the small client
//             below; MiniBrowser needs an X display, so each launch starts its own Xvfb on a
//             free display number (-displayfd) and stops it on close
//
// None of them downloads a browser: every binary is a Debian package that scripts/setup.sh
// installs (scripts/machine.sh lists them).
//
//   import { ENGINES, launch } from "./support/engines.mjs";
//   for (const engine of ENGINES) describe(`${engine}: ...`, () => {
//     let browser; before(async () => { browser = await launch(engine); }); after(() => browser?.close());
//     test(`[${engine}] ...`, async () => { const page = await browser.newPage(); await page.goto(url); ... });
//   });
//
// ENGINES is every engine, or the ones named in HUBWIRE_ENGINES (comma-separated, e.g.
// HUBWIRE_ENGINES=firefox for a quick local run). scripts/test.sh runs each engine's suites in
// a process of its own with HUBWIRE_ENGINES set to that one engine.
//
// A Page here has only what the suites use, with the same meaning in every engine:
//   goto(url)                       navigate and wait for the load event
//   back()                          history one step back (history.back(), as the Back button
//                                   does); it does not wait: a page the engine kept in its
//                                   back/forward cache fires no load event, so poll for what the
//                                   test expects instead
//   evaluate(fn, arg)               run fn(arg) in the page (a promise is awaited); JSON value back
//   waitForFunction(fn, arg, opts)  poll fn(arg) in the page until truthy; { timeout, what }
//   text(selector) / innerText(selector)   an element's textContent / innerText ("" if none)
//   click(selector)                 a native click on the first element matching a CSS selector
//   screenshot(path)                a PNG of the page (the viewport in WebKit: see below)
//   events()                        what the page reported: { kind: "pageerror" | "console" |
//                                   "response", type?, text?, status?, url? }
//   close()
// Every call is bounded (a timeout per call), so a page that never answers fails the test
// instead of hanging the suite.
//
// What an engine cannot report, it says in `page.sees`:
//   sees.responses  false in WebKit: classic WebDriver has no network events, so HTTP error
//                   statuses are not seen there (uncaught errors and console errors still are)
//   sees.loadErrors false in WebKit: its error and console collector is put into the page after
//                   goto() returns, so an error thrown before the load event is not seen (a
//                   page that fails to load still fails its test, by what it does not show)

import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

import { launchChromium } from "./browser.mjs";

/** Every engine the browser suites run in. */
export const ALL_ENGINES = Object.freeze(["chromium", "firefox", "webkit"]);

/** The engines of this run: HUBWIRE_ENGINES (comma-separated) or all of them. */
export const ENGINES = Object.freeze(parseEngines(process.env.HUBWIRE_ENGINES));

function parseEngines(value) {
  if (!value || !value.trim()) return [...ALL_ENGINES];
  const named = value.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean);
  const unknown = named.filter((e) => !ALL_ENGINES.includes(e));
  if (unknown.length > 0) throw new Error(`HUBWIRE_ENGINES names unknown engines ${unknown.join(", ")} (known: ${ALL_ENGINES.join(", ")})`);
  return named;
}

/** The Firefox binary: HUBWIRE_FIREFOX when set, else Debian's firefox-esr. */
export const FIREFOX_PATH = process.env.HUBWIRE_FIREFOX || "/usr/bin/firefox-esr";
/** WebKitGTK's WebDriver: HUBWIRE_WEBKIT_DRIVER when set, else Debian's. */
export const WEBKIT_DRIVER_PATH = process.env.HUBWIRE_WEBKIT_DRIVER || "/usr/bin/WebKitWebDriver";
/** The browser WebKitWebDriver starts: HUBWIRE_MINIBROWSER, else libwebkit2gtk-4.1's MiniBrowser. */
export const MINIBROWSER_PATH = process.env.HUBWIRE_MINIBROWSER || findMiniBrowser();
/** The X server WebKit runs on (package xvfb). */
export const XVFB_PATH = process.env.HUBWIRE_XVFB || "Xvfb";

function findMiniBrowser() {
  for (const dir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]) {
    for (const api of ["webkit2gtk-4.1", "webkitgtk-6.0", "webkit2gtk-4.0"]) {
      const candidate = path.join(dir, api, "MiniBrowser");
      if (existsSync(candidate)) return candidate;
    }
  }
  return "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
}

/** How long one page call (goto, evaluate, click, ...) may take unless told otherwise. */
export const CALL_TIMEOUT_MS = 30_000;
/** How long a browser may take to start. */
const LAUNCH_TIMEOUT_MS = 60_000;

/** Rejects with `what timed out after N ms` when `promise` has not settled in `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `engine` and resolves to `{ engine, version, newPage({ viewport }), close() }`.
 * close() ends every process the launch started and removes its temporary profile; it never
 * throws.
 */
export async function launch(engine) {
  switch (engine) {
    case "chromium":
      return launchChromiumEngine();
    case "firefox":
      return launchFirefox();
    case "webkit":
      return launchWebKit();
    default:
      throw new Error(`unknown engine ${engine} (known: ${ALL_ENGINES.join(", ")})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Shared page logic: polling and the bounded calls, over an engine's three primitives.
// ---------------------------------------------------------------------------------------------

/**
 * Builds a Page from an engine's primitives: `run(fnSource, arg, ms)` evaluates in the page,
 * `goto(url, ms)`, `click(selector, ms)`, `screenshot(path)`, `events()`, `close()`.
 */
function makePage(engine, primitives, sees) {
  const evaluate = (fn, arg, { timeout = CALL_TIMEOUT_MS } = {}) =>
    withTimeout(primitives.run(fn, arg, timeout), timeout + 1_000, `[${engine}] evaluate`);
  return {
    engine,
    sees,
    goto: (url, { timeout = CALL_TIMEOUT_MS } = {}) => withTimeout(primitives.goto(url, timeout), timeout + 1_000, `[${engine}] goto ${url}`),
    back: () => evaluate(() => void setTimeout(() => history.back(), 0)),
    evaluate,
    async waitForFunction(fn, arg, { timeout = 10_000, what = String(fn), interval = 100 } = {}) {
      const deadline = Date.now() + timeout;
      let lastError;
      for (;;) {
        try {
          const value = await evaluate(fn, arg, { timeout: Math.max(1_000, Math.min(CALL_TIMEOUT_MS, deadline - Date.now() + 1_000)) });
          if (value) return value;
          lastError = undefined;
        } catch (error) {
          // A page mid-navigation cannot evaluate; keep polling until the deadline.
          lastError = error;
        }
        if (Date.now() > deadline) {
          throw new Error(`[${engine}] timed out after ${timeout} ms waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ""}`);
        }
        await sleep(interval);
      }
    },
    text: (selector) => evaluate((s) => document.querySelector(s)?.textContent ?? "", selector),
    innerText: (selector) => evaluate((s) => document.querySelector(s)?.innerText ?? "", selector),
    click: (selector, { timeout = CALL_TIMEOUT_MS } = {}) => withTimeout(primitives.click(selector, timeout), timeout + 1_000, `[${engine}] click ${selector}`),
    screenshot: (file) => withTimeout(primitives.screenshot(file), CALL_TIMEOUT_MS, `[${engine}] screenshot`),
    events: () => withTimeout(Promise.resolve(primitives.events()), CALL_TIMEOUT_MS, `[${engine}] events`),
    close: () => withTimeout(primitives.close(), CALL_TIMEOUT_MS, `[${engine}] page close`).catch(() => {}),
  };
}

/** Ends a child process: SIGTERM, then SIGKILL if it lingers. */
async function endProcess(child, graceMs = 3_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited.catch(() => {});
  clearTimeout(timer);
}

// Children the test process must not leave behind, even when it exits without after() hooks.
const livingChildren = new Set();
process.once("exit", () => {
  for (const child of livingChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
});
function track(child) {
  livingChildren.add(child);
  child.once("exit", () => livingChildren.delete(child));
  return child;
}

// ---------------------------------------------------------------------------------------------
// Chromium: playwright-core, through launchChromium().
// ---------------------------------------------------------------------------------------------

async function launchChromiumEngine() {
  // Playwright turns Chromium's back/forward cache off by default; a visitor's Chromium has it
  // on, and the lifecycle suite needs it to see what Chromium really does on Back.
  const browser = await launchChromium({ ignoreDefaultArgs: ["--disable-back-forward-cache"] });
  return {
    engine: "chromium",
    version: browser.version(),
    async newPage({ viewport } = {}) {
      const page = await browser.newPage(viewport ? { viewport } : {});
      const events = [];
      page.on("pageerror", (error) => events.push({ kind: "pageerror", text: String(error) }));
      page.on("console", (message) => events.push({ kind: "console", type: message.type(), text: message.text() }));
      page.on("response", (response) => events.push({ kind: "response", status: response.status(), url: response.url() }));
      return makePage(
        "chromium",
        {
          run: (fn, arg) => page.evaluate(fn, arg),
          goto: (url, timeout) => page.goto(url, { timeout }),
          click: (selector, timeout) => page.click(selector, { timeout }),
          screenshot: (file) => page.screenshot({ path: file, fullPage: true }),
          events: () => [...events],
          close: () => page.close(),
        },
        { responses: true, loadErrors: true },
      );
    },
    close: () => withTimeout(browser.close(), 15_000, "[chromium] close").catch(() => {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Firefox: puppeteer-core over WebDriver BiDi.
// ---------------------------------------------------------------------------------------------

// Firefox logs a WebSocket it could not open, or one cut by a navigation, as a script error
// ("Firefox can’t establish a connection to the server at ws://..."), and WebDriver BiDi hands
// script errors on as JavaScript log entries, which puppeteer reports as "pageerror". Nothing
// was thrown in the page: it is the network line Chromium logs as a console error, so it is
// reported as one here.
const FIREFOX_NETWORK_LINES = [/^(Error: )*Firefox can.t establish a connection to the server at /, /^(Error: )*The connection to .* was interrupted while the page was loading/];
function firefoxPageError(text) {
  if (FIREFOX_NETWORK_LINES.some((line) => line.test(text))) return { kind: "console", type: "error", text, network: true };
  return { kind: "pageerror", text };
}

async function launchFirefox() {
  const { default: puppeteer } = await import("puppeteer-core");
  const profile = mkdtempSync(path.join(os.tmpdir(), "hubwire-firefox-"));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX_PATH,
      headless: true,
      userDataDir: profile,
      timeout: LAUNCH_TIMEOUT_MS,
      protocolTimeout: CALL_TIMEOUT_MS * 2,
      // Keeps Firefox off the network it cannot reach here (puppeteer's defaults already turn
      // off updates, telemetry and most background requests).
      extraPrefsFirefox: {
        "network.captive-portal-service.enabled": false,
        "network.connectivity-service.enabled": false,
        "browser.safebrowsing.update.enabled": false,
        "extensions.getAddons.cache.enabled": false,
        "media.gmp-manager.updateEnabled": false,
      },
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const process_ = browser.process();
  if (process_) track(process_);
  const version = await browser.version();
  return {
    engine: "firefox",
    version,
    async newPage({ viewport } = {}) {
      const page = await browser.newPage();
      if (viewport) await page.setViewport(viewport);
      const events = [];
      page.on("pageerror", (error) => events.push(firefoxPageError(String(error))));
      page.on("console", (message) => events.push({ kind: "console", type: message.type(), text: message.text() }));
      page.on("response", (response) => events.push({ kind: "response", status: response.status(), url: response.url() }));
      return makePage(
        "firefox",
        {
          run: (fn, arg) => page.evaluate(fn, arg),
          goto: (url, timeout) => page.goto(url, { timeout }),
          click: (selector) => page.click(selector),
          screenshot: (file) => page.screenshot({ path: file, fullPage: true }),
          events: () => [...events],
          close: () => page.close(),
        },
        { responses: true, loadErrors: true },
      );
    },
    async close() {
      await withTimeout(browser.close(), 15_000, "[firefox] close").catch(() => {});
      await endProcess(process_);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// WebKit: WebKitWebDriver + MiniBrowser on a private Xvfb, over W3C WebDriver (classic).
// ---------------------------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (the OS picks it; it is free again when this resolves). */
async function freePort() {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  server.close();
  await once(server, "close");
  return port;
}

/** Starts Xvfb on a display number it picks itself; resolves to { display, stop() }. */
async function startXvfb() {
  const child = track(
    spawn(XVFB_PATH, ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-noreset"], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
    }),
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const display = await withTimeout(
    new Promise((resolve, reject) => {
      let out = "";
      child.stdio[3].on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) resolve(`:${out.trim()}`);
      });
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`Xvfb exited (${code}) before choosing a display: ${stderr.trim()}`)));
    }),
    LAUNCH_TIMEOUT_MS,
    "Xvfb start",
  );
  return { display, stop: () => endProcess(child) };
}

/** A W3C WebDriver command: resolves to `value`, rejects with the driver's error message. */
async function webdriver(base, method, route, body, timeoutMs = CALL_TIMEOUT_MS) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`WebDriver ${method} ${route}: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
  // W3C WebDriver errors always come with a 4xx/5xx status; a 200's value is the answer, even
  // one with an `error` field (evaluate's own { ok: false, error } answer).
  if (!response.ok) {
    const { error = `HTTP ${response.status}`, message = "" } = parsed.value ?? {};
    throw new Error(`WebDriver ${method} ${route}: ${error}: ${message}`);
  }
  return parsed.value;
}

// Put into every WebKit page after goto: collects uncaught errors, unhandled rejections and
// console errors and warnings, which classic WebDriver cannot report.
const WEBKIT_COLLECTOR = `
  if (!window.__hubwireEvents) {
    const events = (window.__hubwireEvents = []);
    addEventListener("error", (e) => events.push({ kind: "pageerror", text: String(e.error ?? e.message) }));
    addEventListener("unhandledrejection", (e) => events.push({ kind: "pageerror", text: "unhandled rejection: " + String(e.reason) }));
    for (const type of ["error", "warn"]) {
      const original = console[type].bind(console);
      console[type] = (...args) => {
        events.push({ kind: "console", type: type === "warn" ? "warning" : "error", text: args.map(String).join(" ") });
        original(...args);
      };
    }
  }`;

async function launchWebKit() {
  const xvfb = await startXvfb();
  let driver;
  try {
    const port = await freePort();
    driver = track(
      spawn(WEBKIT_DRIVER_PATH, [`--port=${port}`, "--host=127.0.0.1"], {
        env: { ...process.env, DISPLAY: xvfb.display },
        stdio: ["ignore", "ignore", "pipe"],
      }),
    );
    let driverLog = "";
    driver.stderr.on("data", (chunk) => (driverLog = (driverLog + chunk).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + LAUNCH_TIMEOUT_MS;
    for (;;) {
      if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driver.exitCode}): ${driverLog.trim()}`);
      try {
        const status = await webdriver(base, "GET", "/status", undefined, 2_000);
        if (status?.ready !== false) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on ${base} within ${LAUNCH_TIMEOUT_MS} ms`);
      await sleep(100);
    }
    const sessions = new Set();
    let version = "";
    const browser = {
      engine: "webkit",
      get version() {
        return version;
      },
      async newPage({ viewport } = {}) {
        const created = await webdriver(
          base,
          "POST",
          "/session",
          {
            capabilities: {
              alwaysMatch: {
                // --automation: MiniBrowser accepts the driver's control (it needs a display, which Xvfb gives).
                "webkitgtk:browserOptions": { binary: MINIBROWSER_PATH, args: ["--automation"] },
                pageLoadStrategy: "normal",
              },
            },
          },
          LAUNCH_TIMEOUT_MS,
        );
        const session = `/session/${created.sessionId}`;
        version = `MiniBrowser (WebKitGTK) ${created.capabilities?.browserVersion ?? "?"}`;
        sessions.add(session);
        const command = (method, route, body, timeoutMs) => webdriver(base, method, `${session}${route}`, body, timeoutMs);
        if (viewport) await command("POST", "/window/rect", { width: viewport.width, height: viewport.height });
        let scriptTimeout = -1;
        const run = async (fn, arg, timeout) => {
          if (scriptTimeout !== timeout) {
            await command("POST", "/timeouts", { script: timeout });
            scriptTimeout = timeout;
          }
          const script = `
            const done = arguments[arguments.length - 1];
            Promise.resolve()
              .then(() => (${String(fn)})(arguments[0]))
              .then((value) => done({ ok: true, value: value === undefined ? null : value }),
                    (error) => done({ ok: false, error: String(error) + (error?.stack ? " @ " + error.stack : "") }));`;
          const answer = await command("POST", "/execute/async", { script, args: [arg === undefined ? null : arg] }, timeout + 5_000);
          if (!answer?.ok) throw new Error(`[webkit] evaluate: ${answer?.error ?? "no answer"}`);
          return answer.value;
        };
        return makePage(
          "webkit",
          {
            run,
            async goto(url, timeout) {
              await command("POST", "/timeouts", { pageLoad: timeout });
              await command("POST", "/url", { url }, timeout + 5_000);
              await command("POST", "/execute/sync", { script: WEBKIT_COLLECTOR, args: [] }).catch(() => {});
            },
            async click(selector) {
              const element = await command("POST", "/element", { using: "css selector", value: selector });
              const id = Object.values(element)[0];
              await command("POST", `/element/${id}/click`, {});
            },
            async screenshot(file) {
              const png = await command("GET", "/screenshot");
              writeFileSync(file, Buffer.from(png, "base64"));
            },
            events: () => run(() => window.__hubwireEvents ?? [], undefined, CALL_TIMEOUT_MS).catch(() => []),
            async close() {
              sessions.delete(session);
              await command("DELETE", "", undefined, 15_000);
            },
          },
          { responses: false, loadErrors: false },
        );
      },
      async close() {
        for (const session of sessions) await webdriver(base, "DELETE", session, undefined, 15_000).catch(() => {});
        sessions.clear();
        await endProcess(driver);
        await xvfb.stop();
      },
    };
    return browser;
  } catch (error) {
    await endProcess(driver);
    await xvfb.stop();
    throw error;
  }
}

/**
 * The unexpected of a page's events: uncaught errors, console errors and warnings, and HTTP
 * responses >= 400 (except a favicon). `allow(event)` returns true for an expected one.
 */
export function unexpectedEvents(events, allow = () => false) {
  return events
    .filter((e) => e.kind === "pageerror" || (e.kind === "console" && (e.type === "error" || e.type === "warning" || e.type === "warn")) || (e.kind === "response" && e.status >= 400))
    .filter((e) => !(e.kind === "response" && e.url.endsWith("/favicon.ico")))
    // A failed response's own console line (Chromium's names no URL; Firefox's is marked
    // `network`) is the response event again, which names the URL.
    .filter((e) => !(e.kind === "console" && (e.network || e.text.startsWith("Failed to load resource"))))
    .filter((e) => !allow(e))
    .map((e) => (e.kind === "response" ? `HTTP ${e.status}: ${e.url}` : `${e.kind === "console" ? `console.${e.type}` : "pageerror"}: ${e.text}`));
}

/** Writes a screenshot under test-results/, named for the suite and the engine; never throws. */
export async function keepScreenshot(page, name) {
  try {
    const { mkdirSync } = await import("node:fs");
    mkdirSync("test-results", { recursive: true });
    await page.screenshot(`test-results/${name}-${page.engine}.png`);
  } catch {
    // a screenshot is for people; its failure is not the test's
  }
}

/**
 * Opens `url` in a new page of `browser` (from launch()); resolves to `{ page, problems }`, where
 * `problems()` resolves to what went wrong in the page so far: uncaught errors, console errors
 * and warnings, failed responses (see unexpectedEvents).
 */
export async function openPage(browser, url, options = {}) {
  const page = await browser.newPage(options);
  await page.goto(url);
  return { page, problems: async () => unexpectedEvents(await page.events()) };
}

/**
 * Opens a fixture app's page (tests/fixtures/*: it shows the hub's echo in #echo, or an error in
 * #error) and resolves to `{ echo, error, problems }` once either shows; closes the page.
 */
export async function echoShown(browser, url) {
  const { page, problems } = await openPage(browser, url);
  try {
    await page.waitForFunction(() => document.querySelector("#echo")?.textContent || document.querySelector("#error")?.textContent, null, {
      timeout: 30_000,
      what: "#echo or #error to show text",
    });
    return { echo: await page.text("#echo"), error: await page.text("#error"), problems: await problems() };
  } finally {
    await page.close();
  }
}
