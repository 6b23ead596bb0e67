// Starts the mock hub (crate `hubwire-mock`) as a child process for JavaScript tests.
//
// `startMock(extraArgs)` builds the binary once per test process with the machine's normal
// cargo, runs it on a free 127.0.0.1 port and resolves when it has printed its URL. The child is
// started with `--exit-on-stdin-close` and a lifetime cap, so it goes away with the test
// process even if a test forgets `stop()` or the runner is killed.
//
//   const mock = await startMock(["--keep-alive-ms", "500"]);
//   mock.url                                   // "http://127.0.0.1:<port>/"
//   await mock.control("/control/connections") // GET, parsed JSON
//   await mock.control("/control/publish", { target: "Tick", arguments: [1] }) // POST
//   await mock.control("POST /control/drop")   // an explicit method, no body
//   await mock.control("DELETE /control/log")
//   await mock.stop()

import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
  : path.join(ROOT, "target");
const BINARY = path.join(TARGET_DIR, "debug", process.platform === "win32" ? "hubwire-mock.exe" : "hubwire-mock");

// How long the first line (the URL) may take to appear once the binary runs.
const START_TIMEOUT_MS = 30_000;
// How long stop() waits for a clean exit before killing.
const STOP_TIMEOUT_MS = 5_000;

let build; // the one cargo build of this process, shared by every startMock call

/** Builds hubwire-mock once; later calls reuse the same promise. */
function buildOnce() {
  build ??= new Promise((resolve, reject) => {
    const env = { ...process.env };
    // These point cargo at the wasm toolchain in scripts/toolchain.env; the mock is a host
    // program and must build with the ordinary toolchain.
    for (const name of ["RUSTC", "RUSTDOC", "RUSTC_BOOTSTRAP"]) delete env[name];
    const cargo = spawn("cargo", ["build", "-q", "-p", "hubwire-mock"], {
      cwd: ROOT,
      env,
      // Nothing on stdout: node's test runner reads the test process's stdout.
      stdio: ["ignore", "ignore", "pipe"],
    });
    let errors = "";
    cargo.stderr.on("data", (chunk) => (errors += chunk));
    cargo.on("error", reject);
    cargo.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`cargo build -p hubwire-mock failed (exit ${code}):\n${errors}`)),
    );
  });
  return build;
}

/**
 * Starts a mock hub. `extraArgs` are appended to the default flags
 * (`--port 0 --exit-on-stdin-close --max-lifetime-secs 600`).
 * Resolves to `{ url, control(path, body?), stop() }`.
 */
export async function startMock(extraArgs = []) {
  await buildOnce();
  const child = spawn(BINARY, ["--port", "0", "--exit-on-stdin-close", "--max-lifetime-secs", "600", ...extraArgs], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = once(child, "exit");

  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`hubwire-mock printed no URL within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    // Every later line is read and dropped, so the pipe never fills and blocks the mock.
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`hubwire-mock exited before printing its URL (code ${code}, signal ${signal})`));
    });
  });

  /**
   * Calls the control API. `path` may start with a method ("DELETE /control/log"); otherwise
   * it is POST when a body is given and GET when not. Resolves to the parsed JSON answer and
   * rejects on a non-2xx status.
   */
  async function control(requestPath, body) {
    const [method, pathOnly] = requestPath.includes(" ")
      ? requestPath.split(" ", 2)
      : [body === undefined ? "GET" : "POST", requestPath];
    const response = await fetch(new URL(pathOnly, url), {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathOnly} -> ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** Stops the mock: closes its stdin (it exits by itself), killing it if it lingers. */
  async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    child.stdin.end();
    await exited;
    clearTimeout(timer);
  }

  return { url, control, stop };
}
