// The browser harness: scenario checks of the hubwire client against the mock hub, shown as a
// pass/fail table for people and exposed as `window.hubwireHarness` for the automated tests
// (tests/js/browser-client.test.mjs runs it in every engine). Each check has its own time limit
// (www/checks/runner.js).

import { checks as basics } from "./checks/basics.js";
import { checks as builder } from "./checks/builder.js";
import { checks as hostile } from "./checks/hostile.js";
import { checks as lifecycle } from "./checks/lifecycle.js";
import { checks as tokens } from "./checks/tokens.js";
import { checks as manager } from "./checks/manager.js";
import { checks as msgpack } from "./checks/msgpack.js";
import { runChecks } from "./checks/runner.js";
import { checks as stack } from "./checks/stack.js";
import { checks as transports } from "./checks/transports.js";
import { healHub } from "./checks/util.js";

const checks = { ...basics, ...manager, ...lifecycle, ...tokens, ...hostile, ...transports, ...builder, ...msgpack, ...stack };

window.hubwireHarness = runChecks(checks, { before: healHub });
