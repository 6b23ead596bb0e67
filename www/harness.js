// The browser harness: scenario checks of the hubwire client against the mock hub, shown as a
// pass/fail table for people and exposed as `window.hubwireHarness` for the automated tests.

import { checks as basics } from "./checks/basics.js";
import { checks as lifecycle } from "./checks/lifecycle.js";
import { checks as tokens } from "./checks/tokens.js";
import { checks as manager } from "./checks/manager.js";
import { checks as transports } from "./checks/transports.js";
import { healHub } from "./checks/util.js";

const checks = { ...basics, ...manager, ...lifecycle, ...tokens, ...transports };

function row(name) {
  const tr = document.createElement("tr");
  tr.innerHTML = `<td></td><td class="running">running</td><td></td>`;
  tr.children[0].textContent = name;
  document.getElementById("results").append(tr);
  return tr;
}

async function runAll() {
  const only = new URLSearchParams(location.search).get("only");
  const results = [];
  for (const [name, run] of Object.entries(checks)) {
    if (only && only !== name) continue;
    const tr = row(name);
    const started = performance.now();
    try {
      await healHub();
      await run();
      results.push({ name, ok: true });
      tr.children[1].className = "pass";
      tr.children[1].textContent = "pass";
    } catch (error) {
      results.push({ name, ok: false, error: String(error?.message ?? error) });
      tr.children[1].className = "fail";
      tr.children[1].textContent = "fail";
      tr.children[2].textContent = String(error?.message ?? error);
    }
    tr.children[2].textContent ||= `${Math.round(performance.now() - started)} ms`;
  }
  const failed = results.filter((r) => !r.ok).length;
  document.getElementById("summary").textContent = `${results.length - failed} passed, ${failed} failed`;
  return results;
}

window.hubwireHarness = { names: Object.keys(checks), done: runAll() };
