//! Just enough JSON for envelopes: a validator that finds where a value ends, a reader of the
//! members of one object as raw slices, string and integer decoding, and a string writer.
//!
//! This module owns JSON syntax for the wire layer, so the shipped client needs no general JSON
//! library: payloads stay raw text for JavaScript's `JSON.parse`, and only the few envelope
//! properties the protocol routes on are decoded. It knows nothing of SignalR's messages.
//!
//! The accept/reject rules are serde_json's (the library the wire layer used before; the mock
//! and native tests still use it, and a differential test compares the two):
//! - whitespace is space, tab, line feed and carriage return;
//! - a string holds no control character below U+0020 and only the escapes `\" \\ \/ \b \f \n
//!   \r \t \uXXXX`; whether a `\u` escape may be half of a surrogate pair depends on the
//!   [`Rules`]: a raw value keeps any four hex digits, a decoded string needs pairs to be whole;
//! - numbers are `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` of any length;
//! - nesting is followed with a heap stack, never recursion, so depth cannot overflow the call
//!   stack; the [`Rules`] may also bound it (as a decoded value tree would be).
//!
//! Every function takes text that may be anything and returns an error value for bad input; none
//! panics and every loop consumes input.

/// Why a piece of text is not the JSON that was expected: a static description and the byte
/// offset where reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong, e.g. "a value was expected".
    pub what: &'static str,
    /// Byte offset into the text that was read.
    pub at: usize,
}

impl JsonError {
    fn new(what: &'static str, at: usize) -> Self {
        JsonError { what, at }
    }

    /// The error as text, `"<what> at byte <at>"`, built without the formatting machinery.
    pub fn describe(&self) -> String {
        let mut out = String::with_capacity(self.what.len() + 16);
        out.push_str(self.what);
        out.push_str(" at byte ");
        push_u64(&mut out, self.at as u64);
        out
    }
}

/// How strictly nested values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Whether every string must decode to Unicode text (`\u` surrogates in whole pairs), as it
    /// must where the value is decoded; a raw value only needs well-formed escapes.
    pub decoded_strings: bool,
    /// How many arrays and objects may be open at once inside the value.
    pub max_depth: usize,
}

impl Rules {
    /// A value kept as raw text: any depth, any `\u` escape.
    pub const RAW: Rules = Rules { decoded_strings: false, max_depth: usize::MAX };
    /// A value decoded as a whole tree: strings must decode, and at most 127 containers deep
    /// (serde_json's recursion limit, which the wire layer's value trees had).
    pub const TREE: Rules = Rules { decoded_strings: true, max_depth: 127 };

    /// The rules for a value one container further in.
    fn inner(self) -> Rules {
        Rules { max_depth: self.max_depth.saturating_sub(1), ..self }
    }
}

const UNEXPECTED_END: &str = "the text ended early";

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// The offset of the first non-whitespace byte at or after `at`.
pub fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while at < text.len() && is_whitespace(text[at]) {
        at += 1;
    }
    at
}

fn hex_digit(byte: u8) -> Option<u16> {
    match byte {
        b'0'..=b'9' => Some(u16::from(byte - b'0')),
        b'a'..=b'f' => Some(u16::from(byte - b'a' + 10)),
        b'A'..=b'F' => Some(u16::from(byte - b'A' + 10)),
        _ => None,
    }
}

/// The four hex digits at `at` as one UTF-16 unit.
fn hex_unit(text: &[u8], at: usize) -> Result<u16, JsonError> {
    let Some(digits) = text.get(at..at + 4) else {
        return Err(JsonError::new(UNEXPECTED_END, text.len()));
    };
    let mut unit = 0u16;
    for digit in digits {
        unit = (unit << 4) | hex_digit(*digit).ok_or(JsonError::new("an invalid \\u escape", at))?;
    }
    Ok(unit)
}

/// Reads the string whose opening quote is at `at`; returns the offset just past its closing
/// quote. With `out`, also appends the decoded text (which forces whole surrogate pairs).
fn read_string(
    text: &[u8],
    at: usize,
    decoded: bool,
    mut out: Option<&mut Vec<u8>>,
) -> Result<usize, JsonError> {
    if text.get(at) != Some(&b'"') {
        return Err(JsonError::new("a string was expected", at));
    }
    let decoded = decoded || out.is_some();
    let mut i = at + 1;
    let mut copied = i;
    loop {
        let Some(&byte) = text.get(i) else {
            return Err(JsonError::new(UNEXPECTED_END, i));
        };
        match byte {
            b'"' => {
                if let Some(out) = out.as_deref_mut() {
                    out.extend_from_slice(&text[copied..i]);
                }
                return Ok(i + 1);
            }
            b'\\' => {
                if let Some(out) = out.as_deref_mut() {
                    out.extend_from_slice(&text[copied..i]);
                }
                let Some(&escape) = text.get(i + 1) else {
                    return Err(JsonError::new(UNEXPECTED_END, i + 1));
                };
                let simple = match escape {
                    b'"' => Some(b'"'),
                    b'\\' => Some(b'\\'),
                    b'/' => Some(b'/'),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0c),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'u' => None,
                    _ => return Err(JsonError::new("an invalid escape in a string", i + 1)),
                };
                if let Some(simple) = simple {
                    if let Some(out) = out.as_deref_mut() {
                        out.push(simple);
                    }
                    i += 2;
                } else {
                    let unit = hex_unit(text, i + 2)?;
                    i += 6;
                    let code = if !decoded {
                        None
                    } else if (0xDC00..=0xDFFF).contains(&unit) {
                        return Err(JsonError::new("a lone surrogate in a \\u escape", i));
                    } else if (0xD800..=0xDBFF).contains(&unit) {
                        if text.get(i) != Some(&b'\\') || text.get(i + 1) != Some(&b'u') {
                            return Err(JsonError::new("a lone surrogate in a \\u escape", i));
                        }
                        let low = hex_unit(text, i + 2)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(JsonError::new("a lone surrogate in a \\u escape", i + 6));
                        }
                        i += 6;
                        Some(0x1_0000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00))
                    } else {
                        Some(u32::from(unit))
                    };
                    if let (Some(out), Some(code)) = (out.as_deref_mut(), code) {
                        // Surrogates were excluded above, so every code here is a char.
                        let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                        let mut buffer = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
                    }
                }
                copied = i;
            }
            0x00..=0x1f => return Err(JsonError::new("a control character in a string", i)),
            _ => i += 1,
        }
    }
}

fn read_digits(text: &[u8], mut at: usize) -> usize {
    while at < text.len() && text[at].is_ascii_digit() {
        at += 1;
    }
    at
}

/// Reads the number starting at `at`; returns the offset just past it.
fn read_number(text: &[u8], at: usize) -> Result<usize, JsonError> {
    const BAD: &str = "an invalid number";
    let mut i = at;
    if text.get(i) == Some(&b'-') {
        i += 1;
    }
    match text.get(i) {
        Some(b'0') => {
            i += 1;
            if text.get(i).is_some_and(u8::is_ascii_digit) {
                return Err(JsonError::new(BAD, i));
            }
        }
        Some(b'1'..=b'9') => i = read_digits(text, i + 1),
        _ => return Err(JsonError::new(BAD, i)),
    }
    if text.get(i) == Some(&b'.') {
        let end = read_digits(text, i + 1);
        if end == i + 1 {
            return Err(JsonError::new(BAD, end));
        }
        i = end;
    }
    if matches!(text.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = read_digits(text, i);
        if end == i {
            return Err(JsonError::new(BAD, end));
        }
        i = end;
    }
    Ok(i)
}

fn read_literal(text: &[u8], at: usize, word: &[u8]) -> Result<usize, JsonError> {
    let end = at + word.len();
    match text.get(at..end) {
        Some(found) if found == word => Ok(end),
        _ => Err(JsonError::new("an invalid literal", at)),
    }
}

/// Reads an object member's name and colon at `at` (whitespace before allowed); returns the
/// offsets of the name's first byte, just past its closing quote, and just past the colon.
/// `decoded` as in [`Rules::decoded_strings`].
fn read_member_name(text: &[u8], at: usize, decoded: bool) -> Result<(usize, usize, usize), JsonError> {
    let at = skip_whitespace(text, at);
    match text.get(at) {
        Some(b'"') => {}
        Some(_) => return Err(JsonError::new("a property name must be a string", at)),
        None => return Err(JsonError::new(UNEXPECTED_END, at)),
    }
    let name_end = read_string(text, at, decoded, None)?;
    let colon = skip_whitespace(text, name_end);
    match text.get(colon) {
        Some(b':') => Ok((at, name_end, colon + 1)),
        Some(_) => Err(JsonError::new("a ':' was expected", colon)),
        None => Err(JsonError::new(UNEXPECTED_END, colon)),
    }
}

/// Reads the one value that starts at `at` (no whitespace before it) and returns the offset just
/// past it. Nesting is tracked on a heap stack: depth costs one byte each, never a call frame.
pub fn skip_value(text: &[u8], at: usize, rules: Rules) -> Result<usize, JsonError> {
    // The open containers, innermost last: b'[' or b'{'.
    let mut open: Vec<u8> = Vec::new();
    let mut i = at;
    loop {
        // A value starts at `i` (after whitespace).
        i = skip_whitespace(text, i);
        let Some(&first) = text.get(i) else {
            return Err(JsonError::new("a value was expected", i));
        };
        match first {
            b'[' | b'{' => {
                if open.len() >= rules.max_depth {
                    return Err(JsonError::new("values are nested too deeply", i));
                }
                open.push(first);
                let close = if first == b'[' { b']' } else { b'}' };
                let next = skip_whitespace(text, i + 1);
                if text.get(next) == Some(&close) {
                    open.pop();
                    i = next + 1;
                } else {
                    i = if first == b'{' { read_member_name(text, next, rules.decoded_strings)?.2 } else { next };
                    continue;
                }
            }
            b'"' => i = read_string(text, i, rules.decoded_strings, None)?,
            b'-' | b'0'..=b'9' => i = read_number(text, i)?,
            b't' => i = read_literal(text, i, b"true")?,
            b'f' => i = read_literal(text, i, b"false")?,
            b'n' => i = read_literal(text, i, b"null")?,
            _ => return Err(JsonError::new("a value was expected", i)),
        }
        // A value ended at `i`: close containers until one continues with a comma.
        loop {
            let Some(&container) = open.last() else {
                return Ok(i);
            };
            i = skip_whitespace(text, i);
            match (text.get(i), container) {
                (Some(b','), b'{') => {
                    i = read_member_name(text, i + 1, rules.decoded_strings)?.2;
                    break;
                }
                (Some(b','), _) => {
                    i += 1;
                    break;
                }
                (Some(b']'), b'[') | (Some(b'}'), b'{') => {
                    open.pop();
                    i += 1;
                }
                (Some(_), b'[') => return Err(JsonError::new("a ',' or ']' was expected", i)),
                (Some(_), _) => return Err(JsonError::new("a ',' or '}' was expected", i)),
                (None, _) => return Err(JsonError::new(UNEXPECTED_END, i)),
            }
        }
    }
}

/// The one value that is the whole of `text`, whitespace around it allowed: its slice without
/// the whitespace.
pub fn whole_value(text: &str, rules: Rules) -> Result<&str, JsonError> {
    let bytes = text.as_bytes();
    let start = skip_whitespace(bytes, 0);
    let end = skip_value(bytes, start, rules)?;
    let rest = skip_whitespace(bytes, end);
    if rest != bytes.len() {
        return Err(JsonError::new("trailing characters after the value", rest));
    }
    // Both ends are at ASCII bytes (or the ends of the text), so they are char boundaries.
    text.get(start..end).ok_or(JsonError::new("a value was expected", start))
}

/// A member name as written (quotes included), compared as decoded text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name<'a>(&'a str);

impl Name<'_> {
    /// Whether the decoded name is `expected`.
    pub fn is(&self, expected: &str) -> bool {
        let inner = self.0.get(1..self.0.len().saturating_sub(1)).unwrap_or("");
        if !inner.contains('\\') {
            return inner == expected;
        }
        string_value(self.0).is_some_and(|name| name == expected)
    }
}

/// Reads the members of one object, in order, as raw slices: the envelope reader.
///
/// The object must be the whole text (whitespace around it allowed). Member values are checked
/// with the given rules (one level less deep); names are always decoded strings. Any syntax
/// error anywhere, trailing text included, is reported by [`Members::next`] before it returns
/// `None`, so a caller that reads to the end has validated the whole text.
#[derive(Debug)]
pub struct Members<'a> {
    text: &'a str,
    at: usize,
    rules: Rules,
    first: bool,
    done: bool,
}

impl<'a> Members<'a> {
    /// Starts reading `text`, whose first value must be an object (any other is an error).
    pub fn of(text: &'a str, rules: Rules) -> Result<Self, JsonError> {
        let start = skip_whitespace(text.as_bytes(), 0);
        match text.as_bytes().get(start) {
            Some(b'{') => {}
            Some(_) => return Err(JsonError::new("an object was expected", start)),
            None => return Err(JsonError::new("a value was expected", start)),
        }
        if rules.max_depth == 0 {
            return Err(JsonError::new("values are nested too deeply", start));
        }
        Ok(Members { text, at: start + 1, rules: rules.inner(), first: true, done: false })
    }

    /// The next member as (name, raw value without surrounding whitespace), or `None` after the
    /// closing brace and a check that nothing but whitespace follows it.
    #[allow(clippy::should_implement_trait)] // fallible, so not an Iterator
    pub fn next(&mut self) -> Result<Option<(Name<'a>, &'a str)>, JsonError> {
        if self.done {
            return Ok(None);
        }
        let bytes = self.text.as_bytes();
        let mut i = skip_whitespace(bytes, self.at);
        match bytes.get(i) {
            Some(b'}') => {
                self.done = true;
                let rest = skip_whitespace(bytes, i + 1);
                if rest != bytes.len() {
                    return Err(JsonError::new("trailing characters after the value", rest));
                }
                return Ok(None);
            }
            Some(b',') if !self.first => i = skip_whitespace(bytes, i + 1),
            Some(_) if self.first => {}
            Some(_) => return Err(JsonError::new("a ',' or '}' was expected", i)),
            None => return Err(JsonError::new(UNEXPECTED_END, i)),
        }
        self.first = false;
        // The object's own names are compared as text, so they must decode.
        let (name_start, name_end, after_colon) = read_member_name(bytes, i, true)?;
        let value_start = skip_whitespace(bytes, after_colon);
        let value_end = skip_value(bytes, value_start, self.rules)?;
        self.at = value_end;
        // Every offset here is at an ASCII byte or the end, so the slices are in bounds.
        let name = self.text.get(name_start..name_end).unwrap_or("\"\"");
        let value = self.text.get(value_start..value_end).unwrap_or("null");
        Ok(Some((Name(name), value)))
    }
}

/// The elements of one array that is the whole text, as raw slices, in order. `None` when the
/// text is not an array of valid values (raw rules).
pub fn array_elements(text: &str) -> Option<Vec<&str>> {
    let bytes = text.as_bytes();
    let mut i = skip_whitespace(bytes, 0);
    if bytes.get(i) != Some(&b'[') {
        return None;
    }
    let mut elements = Vec::new();
    i = skip_whitespace(bytes, i + 1);
    if bytes.get(i) == Some(&b']') {
        return (skip_whitespace(bytes, i + 1) == bytes.len()).then_some(elements);
    }
    loop {
        let start = skip_whitespace(bytes, i);
        let end = skip_value(bytes, start, Rules::RAW).ok()?;
        elements.push(text.get(start..end)?);
        i = skip_whitespace(bytes, end);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return (skip_whitespace(bytes, i + 1) == bytes.len()).then_some(elements),
            _ => return None,
        }
    }
}

/// The decoded text of a raw value that is exactly one string; `None` for anything else,
/// including strings with a lone surrogate escape.
pub fn string_value(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let end = read_string(bytes, 0, true, Some(&mut out)).ok()?;
    if end != bytes.len() {
        return None;
    }
    // Decoding copies whole UTF-8 sequences from valid text and encodes chars, so the bytes
    // are UTF-8; the check costs nothing next to the copy and keeps this free of `unsafe`.
    String::from_utf8(out).ok()
}

/// The strings of a raw value that is an array of strings; `None` for anything else.
pub fn string_array(raw: &str) -> Option<Vec<String>> {
    array_elements(raw)?.into_iter().map(string_value).collect()
}

/// The value of a raw JSON number that is a non-negative integer in `u64` range, written
/// without fraction or exponent; `None` for anything else (`-0`, `1.0`, `1e2`, too large).
pub fn u64_value(raw: &str) -> Option<u64> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || (bytes[0] == b'0' && bytes.len() > 1) {
        return None;
    }
    let mut value: u64 = 0;
    for byte in bytes {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    Some(value)
}

/// The value of a raw JSON `true` or `false`; `None` for anything else.
pub fn bool_value(raw: &str) -> Option<bool> {
    match raw {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"` and `\` with a
/// backslash, the control characters with their short escape or `\u00XX` (lower-case hex),
/// everything else (non-ASCII included) as it is.
pub fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(text.len() + 2);
    out.push('"');
    let mut copied = 0;
    for (index, byte) in text.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `index` is at an ASCII byte, so both slices end on char boundaries.
        out.push_str(text.get(copied..index).unwrap_or(""));
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        } else {
            out.push_str(short);
        }
        copied = index + 1;
    }
    out.push_str(text.get(copied..).unwrap_or(""));
    out.push('"');
}

/// Appends an array of JSON strings.
pub fn push_string_array(out: &mut String, items: &[String]) {
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        push_string(out, item);
    }
    out.push(']');
}

/// Appends the decimal digits of `value`.
pub fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for digit in &digits[start..] {
        out.push(*digit as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_are_found_without_their_whitespace() {
        assert_eq!(whole_value(" [1, {\"a\": null}] \n", Rules::RAW), Ok("[1, {\"a\": null}]"));
        assert_eq!(whole_value("\"x\"", Rules::RAW), Ok("\"x\""));
        assert_eq!(whole_value("-0.5e+3", Rules::RAW), Ok("-0.5e+3"));
    }

    #[test]
    fn bad_text_is_an_error_with_its_offset() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "a value was expected", 0),
            ("[1,]", "a value was expected", 3),
            ("{\"a\":1,}", "a property name must be a string", 7),
            ("{\"a\" 1}", "a ':' was expected", 5),
            ("01", "an invalid number", 1),
            ("1.", "an invalid number", 2),
            ("tru", "an invalid literal", 0),
            ("\"a\u{1}\"", "a control character in a string", 2),
            ("\"\\x\"", "an invalid escape in a string", 2),
            ("[1 2]", "a ',' or ']' was expected", 3),
            ("{} x", "trailing characters after the value", 3),
            ("[[", "a value was expected", 2),
            ("[1", UNEXPECTED_END, 2),
            ("\"ab", UNEXPECTED_END, 3),
        ];
        for (text, what, at) in cases {
            assert_eq!(whole_value(text, Rules::RAW), Err(JsonError { what, at: *at }), "{text:?}");
        }
    }

    #[test]
    fn surrogates_must_pair_only_where_strings_are_decoded() {
        for text in ["\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\""] {
            assert!(whole_value(text, Rules::RAW).is_ok(), "{text}");
            assert!(whole_value(text, Rules::TREE).is_err(), "{text}");
            assert_eq!(string_value(text), None, "{text}");
        }
        assert_eq!(string_value("\"\\ud83d\\ude00 \\u00e9\\n\\/\""), Some("\u{1f600} \u{e9}\n/".into()));
    }

    #[test]
    fn depth_is_unbounded_for_raw_values_and_bounded_for_trees() {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        assert!(whole_value(&deep, Rules::RAW).is_ok());
        let at_limit = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(whole_value(&at_limit, Rules::TREE).is_ok());
        let over = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert_eq!(whole_value(&over, Rules::TREE), Err(JsonError { what: "values are nested too deeply", at: 127 }));
    }

    #[test]
    fn members_come_in_order_with_decoded_names() {
        let mut members = Members::of(" {\"a\" : [1] , \"b\\u0063\":\"x\"} ", Rules::RAW).unwrap();
        let (name, value) = members.next().unwrap().unwrap();
        assert!(name.is("a") && value == "[1]");
        let (name, value) = members.next().unwrap().unwrap();
        assert!(name.is("bc") && !name.is("b\\u0063") && value == "\"x\"");
        assert_eq!(members.next(), Ok(None));
        assert_eq!(members.next(), Ok(None));
        let mut trailing = Members::of("{}{}", Rules::RAW).unwrap();
        assert!(trailing.next().is_err());
        assert!(Members::of("[]", Rules::RAW).is_err());
    }

    #[test]
    fn integers_follow_the_json_number_rules() {
        assert_eq!(u64_value("0"), Some(0));
        assert_eq!(u64_value("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "-0", "-1", "01", "1.0", "1e2", "18446744073709551616", "null", "\"1\""] {
            assert_eq!(u64_value(bad), None, "{bad}");
        }
    }

    #[test]
    fn arrays_of_strings() {
        assert_eq!(string_array(" [ \"a\" , \"b\" ] "), Some(vec!["a".into(), "b".into()]));
        assert_eq!(string_array("[]"), Some(vec![]));
        for bad in ["[1]", "[\"a\",]", "\"a\"", "[\"a\"] x", "[null]"] {
            assert_eq!(string_array(bad), None, "{bad}");
        }
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c\u{1e}\n\t\u{8}\u{c}\r\u{7f}/☃");
        assert_eq!(out, "\"a\\\"b\\\\c\\u001e\\n\\t\\b\\f\\r\u{7f}/☃\"");
        assert_eq!(string_value(&out).as_deref(), Some("a\"b\\c\u{1e}\n\t\u{8}\u{c}\r\u{7f}/☃"));
        let mut number = String::new();
        push_u64(&mut number, 0);
        push_u64(&mut number, u64::MAX);
        assert_eq!(number, "018446744073709551615");
    }
}
