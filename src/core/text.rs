//! Texts built without `core::fmt`: error and log messages are static text joined with values
//! (`[..].concat()`), and numbers are written by [`push_decimal`] and [`push_float`].
//! Formatting through `format!` pulls the formatting machinery (and, for floats, several KB of
//! float-to-decimal code) into the wasm module; these few helpers are all the texts need.

/// Appends `n` in decimal (no sign, no separators), as `Display` writes it.
pub fn push_decimal(out: &mut String, n: u128) {
    // u128 covers every integer the texts show (ms as u128 from `Duration::as_millis`); the
    // widest, u128::MAX, has 39 digits. Divided by 10 as four 32-bit limbs in u64 arithmetic,
    // so no 128-bit division routine is linked for the few texts that show one.
    let mut limbs = [(n >> 96) as u32, (n >> 64) as u32, (n >> 32) as u32, n as u32];
    let mut digits = [0u8; 39];
    let mut at = digits.len();
    loop {
        let mut remainder = 0u64;
        for limb in &mut limbs {
            let value = (remainder << 32) | u64::from(*limb);
            *limb = (value / 10) as u32;
            remainder = value % 10;
        }
        at -= 1;
        digits[at] = b'0' + remainder as u8;
        if limbs == [0; 4] {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(digit as char);
    }
}

/// `n` in decimal.
pub fn decimal(n: impl Into<u128>) -> String {
    let mut out = String::new();
    push_decimal(&mut out, n.into());
    out
}

/// Appends `byte` as two lower-case hex digits.
pub fn push_hex_byte(out: &mut String, byte: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push(DIGITS[usize::from(byte >> 4)] as char);
    out.push(DIGITS[usize::from(byte & 0xf)] as char);
}

/// Appends `x` as `Display` writes a float, without `core::fmt`'s float formatting (several KB
/// of the wasm module, with no other user there): `NaN`, `inf`, `-inf`, and finite values as
/// the shortest plain decimal that reads back as `x` (and of those the nearest), so `-0.5`,
/// `-1`, `0.30000000000000004`, `9007199254740991`.
///
/// Exact for every `x` below 2^53 in size whose shortest decimal has at most 17 fraction
/// digits (the arithmetic fits a `u128`, without division). Others, which only absurd
/// settings give, are written in exponent form to 15 significant digits (`1e300`,
/// `4.94065645841247e-324`), where `Display` would spell out every digit.
pub fn push_float(out: &mut String, x: f64) {
    if x.is_nan() {
        return out.push_str("NaN");
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    let x = x.abs();
    if x.is_infinite() {
        return out.push_str("inf");
    }
    if x == 0.0 {
        return out.push('0');
    }
    match shortest_decimal(x) {
        Some((digits, fraction)) => push_fixed(out, digits, fraction),
        None => push_exponent_form(out, x),
    }
}

/// The shortest decimal that reads back as `x` (finite, not zero, not negative), as `digits /
/// 10^fraction`, when it is within the exact range of [`push_float`]. `x` is `m * 2^e`; a
/// decimal reads back as `x` when it lies within half a step of `m` (a quarter step below,
/// where `m` is a power of two and the step below is half as wide); one exactly halfway reads
/// back as the even neighbour, so it counts only when `m` is even.
fn shortest_decimal(x: f64) -> Option<(u128, u32)> {
    let bits = x.to_bits();
    let exponent_bits = ((bits >> 52) & 0x7ff) as i32;
    let fraction_bits = u128::from(bits & ((1 << 52) - 1));
    let (m, e) = if exponent_bits == 0 {
        (fraction_bits, -1074)
    } else {
        (fraction_bits | (1 << 52), exponent_bits - 1075)
    };
    let narrow_below = fraction_bits == 0 && exponent_bits > 1;
    // Whether a decimal `v` reads back as `m`, given `2 * v` and `2 * m` on one scale and the
    // float's step on that scale.
    let even = m % 2 == 0;
    let within = |distance: u128, step: u128| distance < step || (distance == step && even);
    let reads_back = |twice_v: u128, twice_m: u128, step: u128| {
        if twice_v >= twice_m {
            within(twice_v - twice_m, step)
        } else {
            let below = twice_m - twice_v;
            within(if narrow_below { 2 * below } else { below }, step)
        }
    };
    if e > 0 {
        // 2^53 or more: outside the exact range.
        return None;
    }
    if e == 0 {
        return Some((m, 0));
    }
    // x = m / 2^k. For d fraction digits the nearest decimal is r = round(m * 10^d / 2^k), and
    // it reads back when |r * 2^k - m * 10^d| is at most half of 10^d.
    let k = (-e) as u32;
    if k > 110 {
        // x < 2^53 / 2^110 < 1e-17: no decimal with 17 fraction digits reads back as x.
        return None;
    }
    let mut scale = 1u128;
    for fraction in 0..=17u32 {
        let scaled = m * scale;
        let digits = (scaled + (1u128 << (k - 1))) >> k;
        if reads_back(2 * (digits << k), 2 * scaled, scale) {
            return Some((digits, fraction));
        }
        scale *= 10;
    }
    None
}

/// Exponent form to 15 significant digits: scale into [1, 10) (by 10^22 at a time, an exact
/// power, so the few roundings stay far below the 15th digit).
fn push_exponent_form(out: &mut String, x: f64) {
    let mut exponent: i32 = 0;
    let mut scaled = x;
    while scaled >= 1e22 {
        scaled /= 1e22;
        exponent += 22;
    }
    while scaled >= 10.0 {
        scaled /= 10.0;
        exponent += 1;
    }
    while scaled > 0.0 && scaled < 1e-22 {
        scaled *= 1e22;
        exponent -= 22;
    }
    while scaled > 0.0 && scaled < 1.0 {
        scaled *= 10.0;
        exponent -= 1;
    }
    let mut digits = (scaled * 1e14).round() as u64;
    let mut fraction = 14;
    if digits >= 1_000_000_000_000_000 {
        digits /= 10;
        exponent += 1;
    }
    while fraction > 0 && digits.is_multiple_of(10) {
        digits /= 10;
        fraction -= 1;
    }
    push_fixed(out, u128::from(digits), fraction);
    out.push('e');
    if exponent < 0 {
        out.push('-');
    }
    push_decimal(out, u128::from(exponent.unsigned_abs()));
}

/// Appends `digits / 10^fraction` in plain decimal notation, trailing zeros of the fraction
/// dropped by the caller's choice of the fewest digits.
fn push_fixed(out: &mut String, digits: u128, fraction: u32) {
    let mut text = String::new();
    push_decimal(&mut text, digits);
    let fraction = fraction as usize;
    if fraction == 0 {
        return out.push_str(&text);
    }
    if text.len() <= fraction {
        out.push_str("0.");
        for _ in text.len()..fraction {
            out.push('0');
        }
        out.push_str(&text);
    } else {
        let (whole, part) = text.split_at(text.len() - fraction);
        // Three push_str calls, not String::extend of an array (its own generic instance).
        out.push_str(whole);
        out.push('.');
        out.push_str(part);
    }
}

/// `x` as [`push_float`] writes it.
pub fn float(x: f64) -> String {
    let mut out = String::new();
    push_float(&mut out, x);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_match_display() {
        for n in [0u128, 1, 9, 10, 99, 100, 12_345, u64::MAX as u128, u128::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        assert_eq!(decimal(7u32), "7");
    }

    #[test]
    fn floats_match_display_in_the_exact_range() {
        let fixed = [0.0, -0.0, 1.0, -1.0, -0.5, 0.1, -0.3, 1.1, -123.456, 2_147_483_648.0, -5e-7, 0.001, 1e15,
            -9_007_199_254_740_991.0, -33.333333333333336, 0.30000000000000004];
        for x in fixed {
            assert_eq!(float(x), x.to_string(), "{x:e}");
        }
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(f64::INFINITY), "inf");
        assert_eq!(float(f64::NEG_INFINITY), "-inf");
        // Random values of every kind an app passes: whole and decimal numbers, and any bits.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut compared = 0;
        for round in 0..200_000u32 {
            let x = match round % 3 {
                0 => (next() % 10_000_000) as f64 / 10f64.powi((next() % 12) as i32),
                1 => -((next() % 1_000_000_000_000) as f64) / 1000.0,
                _ => f64::from_bits(next() >> 2) * if next() % 2 == 0 { 1.0 } else { -1.0 },
            };
            let text = float(x);
            if !x.is_finite() {
                continue;
            }
            if shortest_decimal(x.abs()).is_some() {
                assert_eq!(text, x.to_string(), "{x:e}");
                compared += 1;
            }
        }
        assert!(compared > 100_000, "only {compared} values compared");
    }

    #[test]
    fn floats_outside_the_exact_range_use_an_exponent() {
        assert_eq!(float(-1e300), "-1e300");
        assert_eq!(float(5e-324), "4.94065645841247e-324");
        assert_eq!(float(-1.5e-20), "-1.5e-20");
        assert_eq!(float(1.7976931348623157e308), "1.79769313486232e308");
        assert_eq!(float(1.7976931348623157e-25), "1.79769313486232e-25");
        assert_eq!(float(1e16), "1e16");
        assert_eq!(float(-2f64.powi(60)), "-1.15292150460685e18");
        assert_eq!(float(1e-6), "0.000001");
    }

    #[test]
    fn hex_bytes_match_format() {
        for byte in [0u8, 9, 10, 0x1e, 0x7f, 0xff] {
            let mut out = String::new();
            push_hex_byte(&mut out, byte);
            assert_eq!(out, format!("{byte:02x}"));
        }
    }
}
