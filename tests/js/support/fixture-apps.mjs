// Throwaway apps around the packed npm package, for the package and React tests.
//
// The apps in tests/fixtures/ are copied into a fresh folder under target/js-fixtures/ (inside
// the repo on purpose: their `react`, `vite`, `webpack` and `typescript` come from the root
// node_modules by ordinary upward module resolution, as in a monorepo, so nothing beyond the
// root `npm ci` is needed). Only the hubwire tarball is installed into an app, from the file,
// with `--offline`: nothing is downloaded at test time.
//
//   const work = await workDir("vite");            // target/js-fixtures/vite-XXXX, removed by work.remove()
//   const tarball = await packPackage(work.path);   // npm pack of pkg/ into it
//   const app = await copyFixture("vite-react-app", work.path);
//   await installTarball(app, tarball);
//   await run(process.execPath, [VITE_BIN, "build"], { cwd: app });
//
// Set HUBWIRE_KEEP_FIXTURES=1 to keep the folders for a look after the run.

import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The built npm package (scripts/build-wasm.sh). */
export const PKG_DIR = path.join(ROOT, "pkg");
/** The fixture apps. */
export const FIXTURES_DIR = path.join(ROOT, "tests", "fixtures");
/** Where the throwaway copies go. */
export const WORK_ROOT = path.join(ROOT, "target", "js-fixtures");

/** CLI entry points of the root dev dependencies, run with this node. */
export const VITE_BIN = path.join(ROOT, "node_modules", "vite", "bin", "vite.js");
export const TSC_BIN = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/**
 * Runs a command to completion with its output captured (never on this process's stdout, which
 * node's test runner reads). Resolves to `{ stdout, stderr }`; rejects with both in the message
 * on a non-zero exit.
 */
export function run(command, args, { cwd = ROOT, env = {}, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else {
        const shown = [command, ...args].map((a) => path.basename(String(a))).join(" ");
        reject(new Error(`${shown} (in ${cwd}) exited with ${code ?? signal}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      }
    });
  });
}

/** A fresh folder under target/js-fixtures/; `remove()` deletes it (unless HUBWIRE_KEEP_FIXTURES). */
export async function workDir(prefix) {
  await mkdir(WORK_ROOT, { recursive: true });
  const dir = await mkdtemp(path.join(WORK_ROOT, `${prefix}-`));
  return {
    path: dir,
    async remove() {
      if (!process.env.HUBWIRE_KEEP_FIXTURES) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** npm's flags for quiet, offline, script-free runs. */
const NPM_QUIET = ["--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"];

/**
 * Packs pkg/ with `npm pack` into `destination`. Resolves to `{ tarball, files }`: the
 * tarball's path and the paths inside it (relative to the package folder).
 */
export async function packPackage(destination) {
  const { stdout } = await run(NPM, ["pack", "--json", "--pack-destination", destination, ...NPM_QUIET], { cwd: PKG_DIR });
  const [info] = JSON.parse(stdout);
  return { tarball: path.join(destination, info.filename), files: info.files.map((f) => f.path) };
}

/** The file list `npm pack` would put in the tarball, without writing it. */
export async function packedFiles() {
  const { stdout } = await run(NPM, ["pack", "--dry-run", "--json", ...NPM_QUIET], { cwd: PKG_DIR });
  const [info] = JSON.parse(stdout);
  return info.files.map((f) => f.path).sort();
}

/** Copies tests/fixtures/<name> into `destination`/<name>; resolves to the copy's path. */
export async function copyFixture(name, destination) {
  const target = path.join(destination, name);
  await cp(path.join(FIXTURES_DIR, name), target, { recursive: true });
  return target;
}

/** `npm install <tarball>` into `appDir`, offline (the tarball is the only thing installed). */
export async function installTarball(appDir, tarball) {
  await run(NPM, ["install", "--no-package-lock", ...NPM_QUIET, tarball], { cwd: appDir });
}

/** Unpacks a tarball into `destination` (npm tarballs hold one folder, `package/`); resolves to it. */
export async function unpackTarball(tarball, destination) {
  await mkdir(destination, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", destination]);
  return path.join(destination, "package");
}

/** Every file under `dir`, as paths relative to it, sorted. */
export async function listFiles(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/**
 * Opens `url` in a new page of `browser`, recording in the returned `errors` array: uncaught
 * errors, console errors and warnings, and failed responses (except a missing favicon, which
 * Chromium asks every server for).
 */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error}`));
  page.on("console", (message) => {
    // Chromium's own line for a failed response names no URL; the response handler does.
    if (message.text().startsWith("Failed to load resource")) return;
    if (message.type() === "error" || message.type() === "warning") {
      errors.push(`console.${message.type()}: ${message.text()}`);
    }
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !response.url().endsWith("/favicon.ico")) {
      errors.push(`HTTP ${response.status()}: ${response.url()}`);
    }
  });
  await page.goto(url);
  return { page, errors };
}
