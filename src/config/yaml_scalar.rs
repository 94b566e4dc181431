//! YAML scalars and tags: the YAML 1.2 core schema's resolution of plain scalars (`null`, `~`,
//! `true`/`True`/`TRUE`, integers with `0x`/`0o`, floats, `.inf`, `.nan`; `yes`/`no`/`on`/`off`
//! stay strings), and which tags are accepted (the core schema's `!!str`, `!!int`… only).
//! Building the tree is `from_yaml`'s business.

use std::borrow::Cow;

use saphyr_parser::{ScalarStyle, Tag};

use super::from_yaml::YamlErrorKind;
use super::node::NodeValue;

/// The YAML core schema's tag prefix, which `!!` abbreviates.
const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// The core schema's name for a tag, when it is one (`!!int` → `int`).
fn core_tag(tag: &Tag) -> Option<&str> {
    if tag.is_yaml_core_schema() {
        Some(&tag.suffix)
    } else if tag.handle.is_empty() && tag.suffix == "!" {
        // The non-specific tag `!` means "a string" for scalars.
        Some("str")
    } else if tag.handle.is_empty() {
        tag.suffix.strip_prefix(CORE_PREFIX)
    } else {
        None
    }
}

/// A tag as the user would write it: `!!int`, `!local`, `!<tag:example.com:x>`.
fn tag_text(tag: &Tag) -> String {
    if let Some(name) = tag.is_yaml_core_schema().then_some(&tag.suffix) {
        format!("!!{name}")
    } else if tag.handle.is_empty() {
        format!("!<{}>", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// A tag on a mapping key: only string tags fit.
pub(super) fn check_key_tag(tag: &Tag) -> Result<(), YamlErrorKind> {
    match core_tag(tag) {
        Some("str") => Ok(()),
        Some(_) => Err(YamlErrorKind::TagMismatch { tag: tag_text(tag) }),
        None => Err(YamlErrorKind::UnsupportedTag { tag: tag_text(tag) }),
    }
}

/// A tag on a list (`seq`) or mapping (`map`): only its own core tag fits.
pub(super) fn check_collection_tag(tag: &Tag, expected: &str) -> Result<(), YamlErrorKind> {
    match core_tag(tag) {
        Some(name) if name == expected => Ok(()),
        Some(_) => Err(YamlErrorKind::TagMismatch { tag: tag_text(tag) }),
        None => Err(YamlErrorKind::UnsupportedTag { tag: tag_text(tag) }),
    }
}

/// The value of a scalar: plain ones resolve by the core schema, others are strings, and a
/// core tag asks for one type explicitly.
pub(super) fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Result<NodeValue, YamlErrorKind> {
    let Some(tag) = tag else {
        return if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Ok(NodeValue::String(text.into_owned()))
        };
    };
    let mismatch = || YamlErrorKind::TagMismatch { tag: tag_text(tag) };
    let resolved = match core_tag(tag) {
        None => {
            return Err(YamlErrorKind::UnsupportedTag { tag: tag_text(tag) });
        }
        Some("str") => return Ok(NodeValue::String(text.into_owned())),
        Some(_) => resolve_plain(text)?,
    };
    match (core_tag(tag), resolved) {
        (Some("int"), value @ NodeValue::Integer(_))
        | (Some("float"), value @ NodeValue::Float(_))
        | (Some("bool"), value @ NodeValue::Bool(_))
        | (Some("null"), value @ NodeValue::Null) => Ok(value),
        #[allow(clippy::cast_precision_loss)] // `!!float 3` asks for exactly this conversion
        (Some("float"), NodeValue::Integer(integer)) => Ok(NodeValue::Float(integer as f64)),
        _ => Err(mismatch()),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: Cow<'_, str>) -> Result<NodeValue, YamlErrorKind> {
    Ok(match text.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => NodeValue::Null,
        "true" | "True" | "TRUE" => NodeValue::Bool(true),
        "false" | "False" | "FALSE" => NodeValue::Bool(false),
        ".nan" | ".NaN" | ".NAN" => NodeValue::Float(f64::NAN),
        // Numbers start with a digit, a sign or a dot; most plain scalars are words.
        word if !word.starts_with(|first: char| first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) => {
            NodeValue::String(text.into_owned())
        }
        number => {
            if let Some(integer) = integer(number) {
                return integer
                    .map(NodeValue::Integer)
                    .map_err(|_| YamlErrorKind::IntegerTooLarge { text: number.to_owned() });
            }
            match float(number) {
                Some(value) => NodeValue::Float(value),
                None => NodeValue::String(text.into_owned()),
            }
        }
    })
}

/// `Some(Ok(n))` for a core-schema integer, `Some(Err(_))` for one out of range, `None` when
/// the text is not an integer.
fn integer(text: &str) -> Option<Result<i64, std::num::ParseIntError>> {
    let (digits, radix) = if let Some(octal) = text.strip_prefix("0o") {
        (octal, 8)
    } else if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        return Some(text.strip_prefix('+').unwrap_or(text).parse());
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(i64::from_str_radix(digits, radix))
}

/// A core-schema float: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` or `±.inf`.
fn float(text: &str) -> Option<f64> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(index) => (&unsigned[..index], Some(&unsigned[index + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    let mantissa_ok = match fraction {
        Some(fraction) => all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty()),
        None => !whole.is_empty() && all_digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|exponent| {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        !digits.is_empty() && all_digits(digits)
    });
    // `.` alone and a bare `1` (an integer, handled before) are not floats.
    if !(mantissa_ok && exponent_ok) || (fraction.is_none() && exponent.is_none()) {
        return None;
    }
    text.parse().ok()
}
