//! Build settings of the shipped wasm module that no cargo profile key can express.
//!
//! The stack: rustc gives a wasm32 module a 1 MiB stack at the bottom of its linear memory
//! (`--stack-first`), and every instance holds it from the start, which was most of what
//! hubwire's wasm memory weighed (BENCHMARKS.md, "memory"). The deepest hubwire goes is a few
//! kilobytes: the browser harness's last check (www/checks/stack.js) measures it after every
//! other check, in every engine, and fails when it passes half of this size. The envelope
//! reader follows nesting on a heap stack and the MessagePack converter stops at a fixed
//! depth, so no input makes the stack deeper; re-entrant app callbacks (a handler that calls
//! back into the connection) each add one more short chain.

/// The wasm stack size in bytes: 32 KiB, seven times the deepest the harness has measured
/// (4.5 KB), so the module with its data and heap fits in two 64 KiB pages where it needed 18.
const WASM_STACK_BYTES: u32 = 32 * 1024;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        // wasm-ld takes the last `-z stack-size`; rustc's own comes before the crate's.
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={WASM_STACK_BYTES}");
    }
}
