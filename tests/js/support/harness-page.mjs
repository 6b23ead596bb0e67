// Reads a harness page's results (www/checks/runner.js) from a Page of ./engines.mjs.
//
// The harness publishes each check's result as it finishes. This waits until the page says it
// has finished, failing when no new result has appeared for STALL_MS (each check has its own
// time limit in the page, so a page that stops making progress is itself broken: a hung wasm
// call, a crashed renderer). Whatever results arrived are returned either way, so each check
// still passes or fails on its own.

/** How long the page may go without finishing another check. */
export const STALL_MS = 90_000;

/** Resolves to a Map name -> { name, ok, error?, detail?, ms } of `window[global]`'s results. */
export async function harnessResults(page, global, { stallMs = STALL_MS } = {}) {
  // The harness module finishes loading (the wasm is fetched and compiled by top-level await)
  // after the page's load event, later still on a busy machine.
  await page.waitForFunction((g) => Boolean(window[g]), global, { timeout: 60_000, what: `window.${global}` });
  let seen = -1;
  let lastProgress = Date.now();
  for (;;) {
    const { count, finished } = await page.evaluate((g) => ({ count: window[g].results.length, finished: window[g].finished }), global);
    if (finished) break;
    if (count !== seen) {
      seen = count;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > stallMs) {
      break; // the missing checks fail as "did not run"
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const list = await page.evaluate((g) => window[g].results, global);
  return new Map(list.map((r) => [r.name, r]));
}

/**
 * Reports a harness page as tests: one that the page ran exactly `expected`, then one per
 * check. `results()` gives the Map of `harnessResults` (read when the tests run, after the
 * suite's `before` filled it). Call inside a `describe`.
 */
export function reportChecks(test, assert, { engine, what, expected, results }) {
  test(`[${engine}] ${what} runs exactly the expected checks`, () => {
    assert.deepEqual([...results().keys()].sort(), [...expected].sort());
  });
  for (const name of expected) {
    test(`[${engine}] browser: ${name}`, (t) => {
      const result = results().get(name);
      assert.ok(result, "the check ran");
      assert.ok(result.ok, result.error);
      if (result.detail) t.diagnostic(result.detail);
    });
  }
}
