//! A serde `Deserializer` over a [`Node`], so every error knows its value's place.
//!
//! Beyond placing errors, two things let `decode` report every problem at once: a struct's
//! unknown keys are found up front from the field list serde passes (all of them, each recorded
//! in the [`Context`] and skipped, so decoding goes on), and values the context *masks* are
//! treated as absent, which lets `decode` decode again past an error to find the next one.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::decode_error::{DecodeError, DecodeErrorKind, Place, one_of};
use super::node::{Key, Node, NodeValue};

/// Where a value sits in the file, as a chain of keys and indexes, printed only on error.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldPath<'a> {
    /// The top of the file.
    Root,
    /// A mapping's value.
    Key(&'a FieldPath<'a>, &'a str),
    /// A list's item.
    Index(&'a FieldPath<'a>, usize),
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Key(FieldPath::Root, key) => f.write_str(key),
            Self::Key(parent, key) => write!(f, "{parent}.{key}"),
            Self::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The identity of a value or key in the tree: its address, stable while the tree is borrowed.
pub(crate) fn identity<T>(item: &T) -> usize {
    std::ptr::from_ref(item).addr()
}

/// What one decoding of a value shares across the tree: values to treat as absent, and the
/// unknown keys found on the way.
#[derive(Debug, Default)]
pub(crate) struct Context {
    /// Identities of values (and keys) to skip, each after an error of its own.
    pub(crate) masked: HashSet<usize>,
    /// Unknown keys found so far, each once.
    unknown: RefCell<Vec<DecodeError>>,
    /// Identities of the keys in `unknown`.
    unknown_seen: RefCell<HashSet<usize>>,
}

impl Context {
    fn is_masked(&self, key: &Key, value: &Node) -> bool {
        !self.masked.is_empty() && (self.masked.contains(&identity(key)) || self.masked.contains(&identity(value)))
    }

    fn report_unknown(&self, key: &Key, value: &Node, path: &FieldPath<'_>, fields: &'static [&'static str]) {
        if self.unknown_seen.borrow_mut().insert(identity(key)) {
            let error = DecodeError::new(DecodeErrorKind::UnknownField { field: key.text.clone(), expected: fields });
            self.unknown.borrow_mut().push(error.or_at(|| Place {
                node: identity(value),
                position: key.position,
                path: path.to_string(),
            }));
        }
    }

    /// The unknown keys found, leaving none behind.
    pub(crate) fn take_unknown(&self) -> Vec<DecodeError> {
        std::mem::take(&mut self.unknown.borrow_mut())
    }
}

/// Deserializes one node.
#[derive(Clone, Copy)]
pub(crate) struct NodeDeserializer<'a> {
    node: &'a Node,
    path: &'a FieldPath<'a>,
    context: &'a Context,
}

impl<'a> NodeDeserializer<'a> {
    /// A deserializer for `node`, found at `path`.
    pub(crate) fn new(node: &'a Node, path: &'a FieldPath<'a>, context: &'a Context) -> Self {
        Self { node, path, context }
    }

    fn place(&self) -> Place {
        Place { node: identity(self.node), position: self.node.position, path: self.path.to_string() }
    }

    /// Places an error from a visitor of this node at this node.
    fn placed<T>(&self, result: Result<T, DecodeError>) -> Result<T, DecodeError> {
        result.map_err(|error| error.or_at(|| self.place()))
    }

    fn mismatch(&self, expected: &str) -> DecodeError {
        DecodeError::new(DecodeErrorKind::Mismatch {
            expected: expected.to_owned(),
            found: self.node.describe().to_owned(),
        })
        .or_at(|| self.place())
    }

    fn map_access(&self, entries: &'a [(Key, Node)], fields: Option<&'static [&'static str]>) -> MapAccess<'a> {
        MapAccess { entries: entries.iter(), fields, pending: None, path: self.path, context: self.context }
    }

    fn seq_access(&self, items: &'a [Node]) -> SeqAccess<'a> {
        SeqAccess { items: items.iter().enumerate(), path: self.path, context: self.context }
    }

    /// Turns "missing field" for a field left out after its own error into a suppressed error.
    fn after_map<T>(&self, result: Result<T, DecodeError>) -> Result<T, DecodeError> {
        result.map_err(|error| {
            let error = match (&error.kind, &self.node.value) {
                (DecodeErrorKind::MissingField { field }, NodeValue::Mapping(entries))
                    if error.place.is_none()
                        && entries
                            .iter()
                            .any(|(key, value)| key.text == *field && self.context.is_masked(key, value)) =>
                {
                    DecodeError::new(DecodeErrorKind::Suppressed)
                }
                _ => error,
            };
            error.or_at(|| self.place())
        })
    }

    fn integer<T: TryFrom<i64> + fmt::Display + Copy>(&self, min: T, max: T) -> Result<T, DecodeError> {
        match self.node.value {
            NodeValue::Integer(integer) => T::try_from(integer).map_err(|_| {
                DecodeError::new(DecodeErrorKind::Mismatch {
                    expected: format!("a whole number from {min} to {max}"),
                    found: format!("`{integer}`"),
                })
                .or_at(|| self.place())
            }),
            _ => Err(self.mismatch("a whole number")),
        }
    }
}

/// Deserializes integers of one type, with the type's range in the message when out of it.
macro_rules! deserialize_integer {
    ($($method:ident $visit:ident $type:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
            let value = self.integer(<$type>::MIN, <$type>::MAX)?;
            self.placed(visitor.$visit(value))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match &self.node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(flag) => visitor.visit_bool(*flag),
            NodeValue::Integer(integer) => visitor.visit_i64(*integer),
            NodeValue::Float(float) => visitor.visit_f64(*float),
            NodeValue::String(text) => visitor.visit_str(text),
            NodeValue::Sequence(items) => visitor.visit_seq(self.seq_access(items)),
            NodeValue::Mapping(entries) => {
                return self.after_map(visitor.visit_map(self.map_access(entries, None)));
            }
        };
        self.placed(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.node.value {
            NodeValue::Bool(flag) => self.placed(visitor.visit_bool(flag)),
            _ => Err(self.mismatch("`true` or `false`")),
        }
    }

    deserialize_integer! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let number = match self.node.value {
            NodeValue::Float(float) => float,
            #[allow(clippy::cast_precision_loss)] // a number field written as a whole number
            NodeValue::Integer(integer) => integer as f64,
            _ => return Err(self.mismatch("a number")),
        };
        self.placed(visitor.visit_f64(number))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::String(text) => self.placed(visitor.visit_str(text)),
            _ => Err(self.mismatch("a string")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let result = match self.node.value {
            NodeValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        };
        self.placed(result)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.node.value {
            NodeValue::Null => self.placed(visitor.visit_unit()),
            _ => Err(self.mismatch("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.placed(visitor.visit_newtype_struct(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let items: &[Node] = match &self.node.value {
            NodeValue::Sequence(items) => items,
            // `push:` with nothing after it: YAML's way of writing an empty list.
            NodeValue::Null => &[],
            _ => return Err(self.mismatch("a list")),
        };
        self.placed(visitor.visit_seq(self.seq_access(items)))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _length: usize, visitor: V) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _length: usize,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let entries: &[(Key, Node)] = match &self.node.value {
            NodeValue::Mapping(entries) => entries,
            NodeValue::Null => &[],
            _ => return Err(self.mismatch("a mapping")),
        };
        self.after_map(visitor.visit_map(self.map_access(entries, None)))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        let entries: &[(Key, Node)] = match &self.node.value {
            NodeValue::Mapping(entries) => entries,
            NodeValue::Null => &[],
            _ => return Err(self.mismatch("a mapping")),
        };
        // Every unknown key now, not only the first that serde would stop at.
        let mut has_unknown = false;
        for (key, value) in entries {
            if !fields.contains(&key.text.as_str()) {
                has_unknown = true;
                if !self.context.is_masked(key, value) {
                    self.context.report_unknown(key, value, self.path, fields);
                }
            }
        }
        let skip = has_unknown.then_some(fields);
        self.after_map(visitor.visit_map(self.map_access(entries, skip)))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.node.value {
            NodeValue::String(text) => {
                let variant: StrDeserializer<'_, DecodeError> = text.as_str().into_deserializer();
                self.placed(visitor.visit_enum(variant))
            }
            _ => Err(self.mismatch(&one_of(variants))),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! { i128 u128 bytes byte_buf }
}

/// The entries of a mapping, in file order, masked ones (and a struct's unknown ones) skipped.
struct MapAccess<'a> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    /// For a struct, its fields; other keys were reported already and are skipped.
    fields: Option<&'static [&'static str]>,
    pending: Option<&'a (Key, Node)>,
    path: &'a FieldPath<'a>,
    context: &'a Context,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DecodeError> {
        for entry in self.entries.by_ref() {
            let (key, value) = entry;
            let is_unknown = self.fields.is_some_and(|fields| !fields.contains(&key.text.as_str()));
            if is_unknown || self.context.is_masked(key, value) {
                continue;
            }
            self.pending = Some(entry);
            return seed.deserialize(KeyDeserializer { key }).map(Some).map_err(|error| {
                error.or_at(|| Place { node: identity(key), position: key.position, path: self.path.to_string() })
            });
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DecodeError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("a value was asked for before its key"));
        };
        let path = FieldPath::Key(self.path, &key.text);
        let deserializer = NodeDeserializer::new(value, &path, self.context);
        // A type may refuse a value after reading it (a bad name); the value is still the place.
        seed.deserialize(deserializer).map_err(|error| error.or_at(|| deserializer.place()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The items of a list, masked ones skipped.
struct SeqAccess<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    path: &'a FieldPath<'a>,
    context: &'a Context,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DecodeError> {
        for (index, item) in self.items.by_ref() {
            if !self.context.masked.is_empty() && self.context.masked.contains(&identity(item)) {
                continue;
            }
            let path = FieldPath::Index(self.path, index);
            let deserializer = NodeDeserializer::new(item, &path, self.context);
            return seed.deserialize(deserializer).map(Some).map_err(|error| error.or_at(|| deserializer.place()));
        }
        Ok(None)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A mapping key: always text.
struct KeyDeserializer<'a> {
    key: &'a Key,
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'_> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_str(&self.key.text)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
