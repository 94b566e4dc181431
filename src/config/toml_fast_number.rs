//! Numbers for the fast TOML reader (`toml_fast`): decimal integers and floats written with
//! digits, valued exactly as `from_toml` values what `toml` reads; anything else (other bases,
//! `inf`, `nan`, dates, malformed numbers) is declined.

use super::node::NodeValue;

/// The integer or float `token` is, written as TOML allows; `None` for anything else, and for an
/// integer outside 64 bits (which `from_toml` reports).
pub(super) fn number(token: &str) -> Option<NodeValue> {
    let bytes = token.as_bytes();
    let sign = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let integer_end = digits(bytes, sign)?;
    // A leading zero only stands alone.
    if bytes[sign] == b'0' && integer_end > sign + 1 {
        return None;
    }
    let mut end = integer_end;
    if bytes.get(end) == Some(&b'.') {
        end = digits(bytes, end + 1)?;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let exponent = end + 1 + usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        end = digits(bytes, exponent)?;
    }
    if end != bytes.len() {
        return None;
    }
    if end == integer_end {
        return integer(bytes[0] == b'-', &bytes[sign..]).map(NodeValue::Integer);
    }
    let float = if token.contains('_') { token.replace('_', "").parse() } else { token.parse() };
    float.ok().map(NodeValue::Float)
}

/// Where the digits from `start` end, single underscores allowed between them; `None` when there
/// is no digit at `start`.
fn digits(bytes: &[u8], start: usize) -> Option<usize> {
    if !bytes.get(start)?.is_ascii_digit() {
        return None;
    }
    let mut end = start + 1;
    loop {
        match bytes.get(end) {
            Some(byte) if byte.is_ascii_digit() => end += 1,
            Some(b'_') if bytes.get(end + 1).is_some_and(u8::is_ascii_digit) => end += 2,
            _ => return Some(end),
        }
    }
}

/// The value of decimal `digits` (underscores skipped), negated when `negative`; `None` outside
/// 64 bits. Counted below zero, so that the most negative integer fits.
fn integer(negative: bool, digits: &[u8]) -> Option<i64> {
    let mut value: i64 = 0;
    for &digit in digits.iter().filter(|&&digit| digit != b'_') {
        value = value.checked_mul(10)?.checked_sub(i64::from(digit - b'0'))?;
    }
    if negative { Some(value) } else { value.checked_neg() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_floats_read_as_toml_reads_them() {
        assert_eq!(number("0"), Some(NodeValue::Integer(0)));
        assert_eq!(number("-0"), Some(NodeValue::Integer(0)));
        assert_eq!(number("+17"), Some(NodeValue::Integer(17)));
        assert_eq!(number("1_000"), Some(NodeValue::Integer(1000)));
        assert_eq!(number("-9223372036854775808"), Some(NodeValue::Integer(i64::MIN)));
        assert_eq!(number("9223372036854775807"), Some(NodeValue::Integer(i64::MAX)));
        assert_eq!(number("1.5"), Some(NodeValue::Float(1.5)));
        assert_eq!(number("-2e-3"), Some(NodeValue::Float(-0.002)));
        assert_eq!(number("1_0.2_5E1_0"), Some(NodeValue::Float(10.25e10)));
    }

    #[test]
    fn everything_else_is_declined() {
        for token in [
            "",
            "-",
            "+",
            "01",
            "-01",
            "00",
            "0_0",
            "1_",
            "_1",
            "1__0",
            "1.",
            ".5",
            "1.e5",
            "1e",
            "1e+",
            "1_e5",
            "1e_5",
            "0x10",
            "0o7",
            "0b1",
            "inf",
            "-inf",
            "nan",
            "1979-05-27",
            "07:32:00",
            "1.5.6",
            "1,5",
            "--1",
            "9223372036854775808",
            "-9223372036854775809",
            "true",
            "1 ",
        ] {
            assert_eq!(number(token), None, "{token}");
        }
    }
}
