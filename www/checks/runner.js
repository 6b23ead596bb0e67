// Runs a harness page's checks one after another, each with its own time limit, shows them as a
// table for people and publishes the results as they come for the automated tests.
//
// A check that never settles fails with "timed out after N ms" and the run goes on to the next
// one (its connection may still be open; the next check's `before` heals the hub). Without the
// limit one stuck check held the page until the suite's own timeout and every result was lost.
//
//   window.hubwireHarness = runChecks(checks, { before: healHub });
//   // -> { names, results: [{ name, ok, error?, detail?, ms }], finished: false|true, done: Promise<results> }

/** How long one check may run unless it says otherwise (`checks[name].timeoutMs`). */
export const CHECK_TIMEOUT_MS = 30_000;

function row(name) {
  const tr = document.createElement("tr");
  tr.innerHTML = `<td></td><td class="running">running</td><td></td>`;
  tr.children[0].textContent = name;
  document.getElementById("results").append(tr);
  return tr;
}

function timeLimit(ms) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms (the check never settled)`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Runs `checks` ({ name: async () => {...} }) in order; `?only=NAME` in the page's URL runs one.
 * `before()` runs ahead of each check, inside its time limit.
 */
export function runChecks(checks, { before = async () => {}, timeoutMs = CHECK_TIMEOUT_MS } = {}) {
  const state = { names: Object.keys(checks), results: [], finished: false, done: null };
  state.done = (async () => {
    const only = new URLSearchParams(location.search).get("only");
    for (const [name, run] of Object.entries(checks)) {
      if (only && only !== name) continue;
      const tr = row(name);
      const started = performance.now();
      const limitMs = run.timeoutMs ?? timeoutMs;
      const limit = timeLimit(limitMs);
      try {
        const detail = await Promise.race([(async () => { await before(); return run(); })(), limit.promise]);
        // A check may resolve to a line of figures, which the automated tests print with it.
        const result = { name, ok: true, ms: Math.round(performance.now() - started) };
        if (typeof detail === "string") result.detail = detail;
        state.results.push(result);
        tr.children[1].className = "pass";
        tr.children[1].textContent = "pass";
      } catch (error) {
        const message = String(error?.message ?? error);
        state.results.push({ name, ok: false, error: message, ms: Math.round(performance.now() - started) });
        tr.children[1].className = "fail";
        tr.children[1].textContent = "fail";
        tr.children[2].textContent = message;
      } finally {
        limit.cancel();
      }
      tr.children[2].textContent ||= `${Math.round(performance.now() - started)} ms`;
    }
    const failed = state.results.filter((r) => !r.ok).length;
    document.getElementById("summary").textContent = `${state.results.length - failed} passed, ${failed} failed`;
    state.finished = true;
    return state.results;
  })();
  return state;
}
