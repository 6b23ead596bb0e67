//! The protocol layer and the core stay sans-IO: no browser bindings, no async runtime, no clock.

use std::fs;
use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "web_sys", "js_sys", "wasm_bindgen", "tokio", "Instant::now", "SystemTime", "Date::now",
    "std::net", "std::thread", "std::fs",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("source folder exists") {
        let path = entry.expect("readable entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn protocol_and_core_use_no_io_runtime_or_clock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src/protocol", "src/core"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() >= 8, "expected the protocol and core sources, found {files:?}");
    let mut offenders = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("readable source");
        for (number, line) in text.lines().enumerate() {
            for word in FORBIDDEN {
                if line.contains(word) {
                    offenders.push(format!("{}:{}: {word}", file.display(), number + 1));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "sans-IO violations:\n{}", offenders.join("\n"));
}
