//! The wire layer's JSON reader (src/protocol/json.rs): never panics or loops, accepts exactly
//! what serde_json accepts as one raw value (same slice), reads every member of an accepted
//! object, and decodes strings as serde_json does; what it writes reads back unchanged.
#![no_main]

use hubwire::protocol::json::{self, Members, Rules};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ours = json::whole_value(text, Rules::RAW);
    let theirs = serde_json::from_str::<&RawValue>(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(*a, b.get(), "different slices"),
        (Err(_), Err(_)) => {}
        _ => panic!("validators disagree: ours {ours:?}, serde_json's {:?}", theirs.map(RawValue::get)),
    }
    let _ = json::whole_value(text, Rules::TREE);
    if let Ok(mut members) = Members::of(text, Rules::RAW) {
        let mut count = 0usize;
        while let Ok(Some((_name, value))) = members.next() {
            assert!(json::whole_value(value, Rules::RAW).is_ok(), "a member value {value:?} is not valid");
            count += 1;
            assert!(count <= text.len(), "more members than bytes");
        }
    }
    let decoded = json::string_value(text);
    assert_eq!(decoded, serde_json::from_str::<String>(text).ok().filter(|_| ours.as_ref().is_ok_and(|v| *v == text)));
    let _ = json::string_array(text);
    let _ = json::u64_value(text);
    let mut written = String::new();
    json::push_string(&mut written, text);
    assert_eq!(json::string_value(&written).as_deref(), Some(text), "written {written:?}");
});
