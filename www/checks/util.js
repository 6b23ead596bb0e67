// Shared helpers of the harness checks: the mock hub's control API, connection builders,
// waiting and asserting.

import { HubConnectionBuilder, LogLevel } from "/pkg/index.js";

export const HUB_URL = "/hub";
export const WAIT_MS = 5000;

export async function control(path, body, method = body === undefined ? "GET" : "POST") {
  const response = await fetch(`/control/${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`control ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

/** Clears every standing fault, auth requirement and redirect of the mock hub. */
export async function healHub() {
  await control("faults", undefined, "DELETE");
  await control("auth", { token: null });
  await control("redirect", { enabled: false });
}

export function connect(options = {}, configure = (builder) => builder) {
  const builder = new HubConnectionBuilder().withUrl(HUB_URL, options).configureLogging(LogLevel.Warning);
  return configure(builder).build();
}

/** Resolves when `predicate()` holds, polling; fails after WAIT_MS. */
export async function until(predicate, what, waitMs = WAIT_MS) {
  const deadline = performance.now() + waitMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A promise for the next call of `register`'s callback, failing after WAIT_MS. */
export function nextCall(register, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    register((...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** `promise`'s outcome, failing after `waitMs` when it has not settled. */
export function within(promise, what, waitMs = WAIT_MS) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), waitMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject, it resolved");
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: expected ${e}, got ${a}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

