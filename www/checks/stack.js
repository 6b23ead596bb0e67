// How deep the wasm modules' own stack went: the check that keeps the stack size the build gives
// them (build.rs) honest. It runs last in the harness, after every other check has driven the
// module through connects, all three transports, hostile servers, re-entrant callbacks, streams
// and MessagePack.
//
// rustc lays a wasm32 module out stack first: the stack is the bytes [0, top) of linear memory
// and grows down from `top` (the initial value of the module's first global, `__stack_pointer`,
// read from the .wasm file here because wasm-bindgen does not export it). Memory starts zeroed
// and nothing but the stack lives below `top`, so the lowest non-zero byte there is as deep as
// the stack has been (a frame that wrote only zeros would be missed; one whose neighbours wrote
// anything would not). A stack that overflows runs below address 0, which traps: the failure is
// loud, and this check is there to see it coming.

import { coreModule } from "/pkg/wasm.js";
import { fullModule } from "/pkg/wasm-full.js";

/** The initial value of a module's first global (its stack pointer), from the module's bytes. */
export function stackTop(bytes) {
  let at = 8; // past the magic number and version
  const uleb = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = uleb();
    const end = at + size;
    if (id === 6) {
      uleb(); // how many globals
      const [type, , opcode] = [bytes[at++], bytes[at++], bytes[at++]];
      // i32, then i32.const with a value below 2^31: read as unsigned LEB128.
      if (type !== 0x7f || opcode !== 0x41) throw new Error("the module's first global is not an i32 constant");
      return uleb();
    }
    at = end;
  }
  throw new Error("the module has no globals");
}

/** For each loaded module: its stack size and the deepest it went, in bytes. */
export async function stackUse() {
  const uses = [];
  for (const module of [coreModule, fullModule]) {
    if (!module.loaded) continue;
    // The glue's init returns the instance it already made.
    const { memory } = await module.glue.default();
    const file = module.name === "core" ? "hubwire_bg.wasm" : "hubwire_full_bg.wasm";
    const top = stackTop(new Uint8Array(await (await fetch(`/pkg/${file}`)).arrayBuffer()));
    const stack = new Uint8Array(memory.buffer, 0, top);
    const lowest = stack.findIndex((byte) => byte !== 0);
    uses.push({ module: module.name, stackBytes: top, deepestBytes: lowest === -1 ? 0 : top - lowest });
  }
  return uses;
}

export const checks = {
  async "the wasm stack stayed within half of its size through every check"() {
    const uses = await stackUse();
    if (uses.length === 0) throw new Error("no wasm module was loaded");
    for (const { module, stackBytes, deepestBytes } of uses) {
      if (deepestBytes === 0) throw new Error(`the ${module} module's stack reads as never used`);
      if (deepestBytes > stackBytes / 2) {
        throw new Error(`the ${module} module's stack went ${deepestBytes} bytes deep of ${stackBytes}`);
      }
    }
    return uses.map(({ module, stackBytes, deepestBytes }) => `${module} module: ${deepestBytes} of ${stackBytes} stack bytes used`).join("; ");
  },
};
