// Headless Chromium for browser tests, driven by playwright-core.
//
// Uses Debian's /usr/bin/chromium (playwright-core never downloads a browser; scripts/setup.sh
// installs the chromium package). The flags keep Chromium off the network it cannot reach here:
// without the background-networking ones it keeps trying Google's hosts at every start.
//
//   import { launchChromium } from './support/browser.mjs';
//   const browser = await launchChromium();
//   try { const page = await browser.newPage(); ... } finally { await browser.close(); }
//
// Each launch runs on a fresh, empty user data dir in the OS temp dir, removed when the
// browser closes: Playwright's launch() creates and deletes it (it refuses a --user-data-dir
// argument; only launchPersistentContext takes one, and that returns a single context). A
// Browser is returned so one test can open several isolated contexts, e.g. two hub clients.

import { chromium } from 'playwright-core';

/** The Chromium binary: HUBWIRE_CHROMIUM when set, else Debian's. */
export const CHROMIUM_PATH = process.env.HUBWIRE_CHROMIUM || '/usr/bin/chromium';

/** Flags for a quiet headless Chromium without a sandbox (root, containers), on a closed network. */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
]);

/**
 * Launches headless Chromium and returns a Playwright `Browser`; close it with `browser.close()`.
 * `options` go on to `chromium.launch` (e.g. `{ slowMo: 50 }`); extra `options.args` are
 * appended to CHROMIUM_ARGS.
 */
export async function launchChromium(options = {}) {
  const { args = [], ...rest } = options;
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    timeout: 30_000,
    ...rest,
    args: [...CHROMIUM_ARGS, ...args],
  });
}
