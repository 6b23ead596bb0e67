// Where a wasm module's bytes go: the code size of each function, by name, from the module's
// "name" section (so run it on a build that kept names: rustc's output before wasm-opt, or
// wasm-bindgen's output without wasm-opt). Prints the largest functions and the totals by
// crate/module path, to find what formatting, unicode tables, serde or panics cost.
//
// Usage: node bench/size/wasm-functions.mjs FILE.wasm [--top N] [--json]

import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
const top = Number(args[args.indexOf("--top") + 1]) || 40;
if (!file) {
  console.error("usage: node bench/size/wasm-functions.mjs FILE.wasm [--top N] [--json]");
  process.exit(2);
}
const bytes = readFileSync(file);

let pos = 8;
function leb() {
  let result = 0, shift = 0, byte;
  do {
    byte = bytes[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return result;
}
function name() {
  const len = leb();
  const text = bytes.toString("utf8", pos, pos + len);
  pos += len;
  return text;
}

let importedFunctions = 0;
const bodies = []; // code size per defined function
const names = new Map();
const sections = [];
while (pos < bytes.length) {
  const id = bytes[pos++];
  const size = leb();
  const start = pos;
  const end = pos + size;
  let label = `section ${id}`;
  if (id === 0) {
    const custom = name();
    label = `custom "${custom}"`;
    if (custom === "name") {
      while (pos < end) {
        const sub = bytes[pos++];
        const subSize = leb();
        const subEnd = pos + subSize;
        if (sub === 1) {
          const count = leb();
          for (let i = 0; i < count; i++) {
            const index = leb();
            names.set(index, name());
          }
        }
        pos = subEnd;
      }
    }
  } else if (id === 2) {
    label = "import";
    const count = leb();
    for (let i = 0; i < count; i++) {
      name();
      name();
      const kind = bytes[pos++];
      if (kind === 0) { leb(); importedFunctions++; }
      else if (kind === 1) { pos++; const flags = leb(); leb(); if (flags & 1) leb(); }
      else if (kind === 2) { const flags = leb(); leb(); if (flags & 1) leb(); }
      else if (kind === 3) { pos += 2; }
    }
  } else if (id === 10) {
    label = "code";
    const count = leb();
    for (let i = 0; i < count; i++) {
      const bodySize = leb();
      bodies.push(bodySize);
      pos += bodySize;
    }
  } else if (id === 11) {
    label = "data";
  }
  sections.push({ label, size });
  pos = end;
}

// Rust symbol names to paths: legacy mangling (_ZN...E) exactly; v0 (_R...) loosely, by reading
// its identifiers in order and skipping hashes, back references and disambiguators (enough to
// tell which crate and module a function comes from).
function demangle(raw) {
  if (raw.startsWith("_ZN")) {
    const parts = [];
    let i = 3;
    while (i < raw.length && raw[i] !== "E") {
      let digits = "";
      while (/[0-9]/.test(raw[i])) digits += raw[i++];
      if (!digits) break;
      parts.push(raw.slice(i, i + Number(digits)));
      i += Number(digits);
    }
    if (parts.length && /^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
    return parts.join("::").replace(/\$LT\$/g, "<").replace(/\$GT\$/g, ">").replace(/\$u20\$/g, " ")
      .replace(/\$RF\$/g, "&").replace(/\$C\$/g, ",").replace(/\.\./g, "::");
  }
  if (!raw.startsWith("_R")) return raw;
  const parts = [];
  let i = 2;
  while (i < raw.length) {
    const c = raw[i];
    if ((c === "C" || c === "B" || c === "s") && /^[CBs][0-9a-zA-Z]*_/.test(raw.slice(i))) {
      // Cs<hash>_ crate hash (the crate name follows), B<n>_ back reference, s<n>_ disambiguator
      if (c === "C" && raw[i + 1] === "s") i += 2;
      else i += 1;
      while (raw[i] !== "_") i++;
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let digits = "";
      while (/[0-9]/.test(raw[i])) digits += raw[i++];
      if (raw[i] === "_") i++;
      parts.push(raw.slice(i, i + Number(digits)));
      i += Number(digits);
      continue;
    }
    i++;
  }
  return parts.join("::");
}

// A function's group: the first path segments that say where it comes from. wasm-bindgen
// writes names demangled (`<alloc[hash]::vec::Vec<..> as ..>::drop`); the crate hashes and the
// leading `<`, `&`, `mut` are dropped, and an impl counts for its self type.
function group(path) {
  const clean = path.replace(/\[[0-9a-f]+\]/g, "").replace(/^(<|&|mut |dyn |\s)+/, "");
  const segs = clean.split(/::|[<> ,(]/).filter(Boolean);
  if (["core", "alloc", "std", "hubwire"].includes(segs[0])) return segs.slice(0, 2).join("::");
  return segs[0] ?? clean;
}

const functions = bodies.map((size, i) => {
  const raw = names.get(importedFunctions + i) ?? `func[${importedFunctions + i}]`;
  return { name: demangle(raw), size };
});
const total = bodies.reduce((a, b) => a + b, 0);
const groups = new Map();
for (const f of functions) {
  const g = group(f.name);
  groups.set(g, (groups.get(g) ?? 0) + f.size);
}
const byGroup = [...groups].sort((a, b) => b[1] - a[1]);
functions.sort((a, b) => b.size - a.size);

if (args.includes("--json")) {
  console.log(JSON.stringify({ file, total, named: names.size, sections, groups: Object.fromEntries(byGroup), top: functions.slice(0, top) }));
} else {
  console.log(`${file}: ${bytes.length} bytes; code ${total} bytes in ${bodies.length} functions (${names.size} names)`);
  for (const s of sections) console.log(`  ${s.label.padEnd(28)} ${String(s.size).padStart(9)}`);
  console.log("\nby origin:");
  for (const [g, size] of byGroup.slice(0, top)) console.log(`  ${String(size).padStart(8)}  ${(100 * size / total).toFixed(1).padStart(5)}%  ${g}`);
  console.log(`\nlargest ${top} functions:`);
  for (const f of functions.slice(0, top)) console.log(`  ${String(f.size).padStart(8)}  ${f.name.slice(0, 150)}`);
}
