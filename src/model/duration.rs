//! Durations with units: `30s`, `5m`, `1h`, combinable as `1m30s`.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written with `s`, `m` or `h`, kept in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Duration {
    seconds: u64,
}

impl Duration {
    /// A duration of `seconds` seconds.
    #[cfg(test)]
    pub(crate) fn from_seconds(seconds: u64) -> Self {
        Self { seconds }
    }

    /// As a standard library duration.
    pub(crate) fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }

    /// Parses `30s`, `5m`, `1h`, `1h30m`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a duration; write a number and a unit: `30s`, `5m` or `1h`");
        let mut seconds: u64 = 0;
        let mut digits = String::new();
        for character in text.trim().chars() {
            if character.is_ascii_digit() {
                digits.push(character);
                continue;
            }
            let unit = match character {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return Err(bad()),
            };
            let number: u64 = digits.parse().map_err(|_| bad())?;
            seconds = number.checked_mul(unit).and_then(|part| seconds.checked_add(part)).ok_or_else(bad)?;
            digits.clear();
        }
        if !digits.is_empty() || text.trim().is_empty() {
            return Err(bad());
        }
        Ok(Self { seconds })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes, seconds) = (self.seconds / 3600, self.seconds / 60 % 60, self.seconds % 60);
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        if seconds > 0 || self.seconds == 0 {
            write!(f, "{seconds}s")?;
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: numbers with `h`, `m` or `s`, like `30s`, `5m`, `1h30m`.",
            "type": "string",
            "pattern": "^([0-9]+[hms])+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(Duration::parse("120s").unwrap().to_string(), "2m");
        assert_eq!(Duration::parse("1h30m").unwrap(), Duration::from_seconds(5400));
        assert!(Duration::parse("10").is_err());
        assert!(Duration::parse("5d").is_err());
        assert!(Duration::parse("").is_err());
    }
}
