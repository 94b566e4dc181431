//! Resource identity: the kind, the name, and the `kind.name` address the user writes.
//!
//! Addresses appear in the file (`runs_on: vm.gitlab`, `needs: [service.postgres]`), in plan output,
//! in state and in `--target`. Parsing and printing them lives here and nowhere else.

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kinds of resource a file can declare, in the order the file's sections appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ResourceKind {
    /// `caches:`: a binary cache that builds are pushed to.
    Cache,
    /// `builders:`: a remote Nix builder.
    Builder,
    /// `builds:`: a flake output built and pushed.
    Build,
    /// `hosts:`: a machine reached over SSH, or the local one.
    Host,
    /// `vms:`: a microVM on a host.
    Vm,
    /// `containers:`: a NixOS container on a host.
    Container,
    /// `services:`: a service placed on a host, VM or container.
    Service,
}

impl ResourceKind {
    /// Every kind, in file order.
    pub(crate) const ALL: [ResourceKind; 7] =
        [Self::Cache, Self::Builder, Self::Build, Self::Host, Self::Vm, Self::Container, Self::Service];

    /// The prefix used in addresses: `vm` in `vm.gitlab`.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Self::Cache => "cache",
            Self::Builder => "builder",
            Self::Build => "build",
            Self::Host => "host",
            Self::Vm => "vm",
            Self::Container => "container",
            Self::Service => "service",
        }
    }

    /// The section of the file that declares this kind: `vms` for `vm`.
    pub(crate) fn section(self) -> &'static str {
        match self {
            Self::Cache => "caches",
            Self::Builder => "builders",
            Self::Build => "builds",
            Self::Host => "hosts",
            Self::Vm => "vms",
            Self::Container => "containers",
            Self::Service => "services",
        }
    }

    /// The kind whose address prefix is `prefix`.
    pub(crate) fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.prefix() == prefix)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// A resource name: `[a-z0-9][a-z0-9_-]*`, at most 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Name(String);

/// Why a string is not a valid [`Name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameError {
    /// The string is empty.
    Empty,
    /// Longer than 63 characters.
    TooLong {
        /// Its length in characters.
        length: usize,
    },
    /// A character outside `[a-z0-9_-]`, or a first character outside `[a-z0-9]`.
    BadCharacter {
        /// The offending character.
        character: char,
        /// Whether it is the first character.
        is_first: bool,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "a name cannot be empty"),
            Self::TooLong { length } => {
                write!(f, "a name has at most 63 characters, this one has {length}")
            }
            Self::BadCharacter { character, is_first: true } => {
                write!(f, "a name starts with a lowercase letter or a digit, not `{character}`")
            }
            Self::BadCharacter { character, is_first: false } => {
                write!(f, "a name holds only lowercase letters, digits, `_` and `-`, not `{character}`")
            }
        }
    }
}

impl Name {
    /// The longest name allowed, in characters.
    pub(crate) const MAX_LENGTH: usize = 63;

    /// Checks `text` and wraps it.
    pub(crate) fn new(text: &str) -> Result<Self, NameError> {
        let mut chars = text.chars();
        let Some(first) = chars.next() else {
            return Err(NameError::Empty);
        };
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err(NameError::BadCharacter { character: first, is_first: true });
        }
        if let Some(character) =
            chars.find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
        {
            return Err(NameError::BadCharacter { character, is_first: false });
        }
        if text.len() > Self::MAX_LENGTH {
            return Err(NameError::TooLong { length: text.len() });
        }
        Ok(Self(text.to_owned()))
    }

    /// The name as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Name::new(&text).map_err(|error| serde::de::Error::custom(format!("invalid name `{text}`: {error}")))
    }
}

impl JsonSchema for Name {
    fn schema_name() -> Cow<'static, str> {
        "Name".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A name: lowercase letters, digits, `_` and `-`, starting with a letter or digit, at most 63 characters.",
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"
        })
    }
}

/// A resource's identity, written `kind.name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ResourceId {
    /// Which section declares it.
    pub(crate) kind: ResourceKind,
    /// Its key in that section.
    pub(crate) name: Name,
}

/// Why a string is not a valid `kind.name` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AddressError {
    /// No `.` in it.
    MissingDot,
    /// The part before the dot is not a kind.
    UnknownKind {
        /// What was written before the dot.
        prefix: String,
    },
    /// The part after the dot is not a valid name.
    BadName(NameError),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingDot => write!(f, "an address is written `kind.name`, like `vm.gitlab`"),
            Self::UnknownKind { prefix } => {
                let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|kind| kind.prefix()).collect();
                write!(f, "`{prefix}` is not a kind; kinds are {}", kinds.join(", "))
            }
            Self::BadName(error) => error.fmt(f),
        }
    }
}

impl ResourceId {
    /// The address of `name` in `kind`.
    pub(crate) fn new(kind: ResourceKind, name: Name) -> Self {
        Self { kind, name }
    }
}

impl FromStr for ResourceId {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (prefix, name) = text.split_once('.').ok_or(AddressError::MissingDot)?;
        let kind =
            ResourceKind::from_prefix(prefix).ok_or_else(|| AddressError::UnknownKind { prefix: prefix.to_owned() })?;
        let name = Name::new(name).map_err(AddressError::BadName)?;
        Ok(Self { kind, name })
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind.prefix(), self.name)
    }
}

impl Serialize for ResourceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|error| serde::de::Error::custom(format!("invalid address `{text}`: {error}")))
    }
}

impl JsonSchema for ResourceId {
    fn schema_name() -> Cow<'static, str> {
        "Address".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A resource address, `kind.name`: `vm.gitlab`, `service.nats`.",
            "type": "string",
            "pattern": "^(cache|builder|build|host|vm|container|service)\\.[a-z0-9][a-z0-9_-]{0,62}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        let id: ResourceId = "vm.gitlab".parse().unwrap();
        assert_eq!(id.kind, ResourceKind::Vm);
        assert_eq!(id.to_string(), "vm.gitlab");
    }

    #[test]
    fn bad_addresses_say_why() {
        assert_eq!("gitlab".parse::<ResourceId>(), Err(AddressError::MissingDot));
        assert!(matches!("vms.gitlab".parse::<ResourceId>(), Err(AddressError::UnknownKind { .. })));
        assert!(matches!("vm.Git".parse::<ResourceId>(), Err(AddressError::BadName(_))));
    }

    #[test]
    fn names_are_checked() {
        assert!(Name::new("a0_b-c").is_ok());
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert!(matches!(Name::new("-a"), Err(NameError::BadCharacter { is_first: true, .. })));
        assert!(matches!(Name::new(&"a".repeat(64)), Err(NameError::TooLong { length: 64 })));
        assert!(Name::new(&"a".repeat(63)).is_ok());
    }
}
