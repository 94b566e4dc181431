//! Sizes with units: `512MiB`, `8GiB`, or a bare integer meaning MiB.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MIB: u64 = 1024 * 1024;
/// Units accepted after the number, largest first so printing picks the largest exact one.
const UNITS: [(&str, u64); 4] = [("TiB", MIB * 1024 * 1024), ("GiB", MIB * 1024), ("MiB", MIB), ("KiB", 1024)];

/// A size in bytes, written with a binary unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Size {
    bytes: u64,
}

impl Size {
    /// A size of `mebibytes` MiB.
    pub(crate) fn from_mebibytes(mebibytes: u64) -> Self {
        Self { bytes: mebibytes.saturating_mul(MIB) }
    }

    /// The size in whole MiB, rounded up (what hypervisors take).
    pub(crate) fn mebibytes(self) -> u64 {
        self.bytes.div_ceil(MIB)
    }

    /// Parses `512MiB`, `8GiB`, `1TiB`, `64KiB` or a bare integer of MiB.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let number: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not a size; write a whole number and a unit, like `512MiB` or `8GiB`"))?;
        let multiplier = if unit.is_empty() {
            MIB
        } else {
            UNITS
                .iter()
                .find(|(name, _)| *name == unit.trim())
                .map(|(_, multiplier)| *multiplier)
                .ok_or_else(|| format!("`{unit}` is not a size unit; use KiB, MiB, GiB or TiB"))?
        };
        number.checked_mul(multiplier).map(|bytes| Self { bytes }).ok_or_else(|| format!("`{text}` is too large"))
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match UNITS.iter().find(|(_, multiplier)| self.bytes >= *multiplier && self.bytes.is_multiple_of(*multiplier)) {
            Some((unit, multiplier)) => write!(f, "{}{unit}", self.bytes / multiplier),
            None => write!(f, "{}B", self.bytes),
        }
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size like `512MiB` or `8GiB`, or a whole number of MiB")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Size, E> {
                Ok(Size::from_mebibytes(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Size, E> {
                u64::try_from(value)
                    .map(Size::from_mebibytes)
                    .map_err(|_| E::custom(format!("a size cannot be negative, got {value}")))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Size, E> {
                Size::parse(value).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: a whole number and a binary unit (`512MiB`, `8GiB`), or a bare integer of MiB.",
            "oneOf": [
                { "type": "string", "pattern": "^[0-9]+(KiB|MiB|GiB|TiB)?$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(Size::parse("8GiB").unwrap().to_string(), "8GiB");
        assert_eq!(Size::parse("512").unwrap(), Size::from_mebibytes(512));
        assert_eq!(Size::parse("1024MiB").unwrap().to_string(), "1GiB");
        assert_eq!(Size::parse("1536MiB").unwrap().to_string(), "1536MiB");
        assert!(Size::parse("8GB").unwrap_err().contains("not a size unit"));
        assert!(Size::parse("x").is_err());
        assert!(Size::parse("99999999999999999999TiB").is_err());
    }
}
