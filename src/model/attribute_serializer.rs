//! A spec's top-level fields as [`Attributes`], serialized straight into the sorted map.
//!
//! `serde_json::to_value` would first build a JSON object that keeps insertion order (a hash table
//! beside a vector) only for it to be taken apart and sorted into a `BTreeMap`; in a plan of
//! 10,000 resources that detour was most of the cost of diffing. This serializer accepts a struct
//! only, and turns each field into its JSON value as it comes. Fields the struct skips
//! (`skip_serializing_if`) are absent, as they are from `to_value`.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, SerializeStruct};

use super::resource_spec::Attributes;

/// Why a value has no attributes: it is not a struct, or a field is not representable in JSON.
#[derive(Debug)]
pub(super) struct AttributeError(String);

impl fmt::Display for AttributeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AttributeError {}

impl ser::Error for AttributeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// The attributes of `value`, a struct: each serialized field by name, as `serde_json::to_value`
/// would give them.
pub(super) fn to_attributes<T: Serialize>(value: &T) -> Result<Attributes, AttributeError> {
    value.serialize(StructSerializer)
}

/// Takes a struct; refuses anything else.
struct StructSerializer;

/// Collects a struct's fields.
struct FieldCollector(Attributes);

fn not_a_struct() -> AttributeError {
    AttributeError("only a struct has attributes".to_owned())
}

/// The `Serializer` methods for values that are not structs: each refuses.
macro_rules! refuse {
    ($($method:ident($($argument:ty),*);)*) => {
        $(fn $method(self, $(_: $argument),*) -> Result<Attributes, AttributeError> {
            Err(not_a_struct())
        })*
    };
}

impl ser::Serializer for StructSerializer {
    type Ok = Attributes;
    type Error = AttributeError;
    type SerializeSeq = Impossible<Attributes, AttributeError>;
    type SerializeTuple = Impossible<Attributes, AttributeError>;
    type SerializeTupleStruct = Impossible<Attributes, AttributeError>;
    type SerializeTupleVariant = Impossible<Attributes, AttributeError>;
    type SerializeMap = Impossible<Attributes, AttributeError>;
    type SerializeStruct = FieldCollector;
    type SerializeStructVariant = Impossible<Attributes, AttributeError>;

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<FieldCollector, AttributeError> {
        Ok(FieldCollector(Attributes::new()))
    }

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<Attributes, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<Attributes, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Attributes, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, AttributeError> {
        Err(not_a_struct())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, AttributeError> {
        Err(not_a_struct())
    }
}

impl SerializeStruct for FieldCollector {
    type Ok = Attributes;
    type Error = AttributeError;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), AttributeError> {
        let value = serde_json::to_value(value).map_err(|error| AttributeError(format!("`{key}`: {error}")))?;
        self.0.insert(key.to_owned(), value);
        Ok(())
    }

    fn end(self) -> Result<Attributes, AttributeError> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{ServiceSpec, VmSpec};

    /// The attributes the long way: a JSON object, sorted.
    fn through_json<T: Serialize>(value: &T) -> Attributes {
        let serde_json::Value::Object(fields) = serde_json::to_value(value).unwrap() else { panic!("not an object") };
        fields.into_iter().collect()
    }

    #[test]
    fn fields_are_what_json_makes_of_them() {
        let vm: VmSpec = serde_json::from_value(json!({
            "host": "shoshin",
            "memory": "8GiB",
            "volumes": [{"name": "data", "size": "40GiB", "mount": "/var/lib/gitlab"}],
            "interfaces": [{"type": "tap", "id": "vm-gitlab", "mac": "02:00:00:00:00:01"}],
            "health": {"tcp": "192.0.2.20:22", "timeout": "30s"},
            "needs": ["build.codex"],
        }))
        .unwrap();
        let service: ServiceSpec = serde_json::from_value(json!({
            "type": "postgresql",
            "runs_on": "vm.gitlab",
            "secrets": {"root_password": "env:PG_ROOT"},
            "settings": {"max_connections": 100, "shared_buffers": "128MB"},
        }))
        .unwrap();
        assert_eq!(to_attributes(&vm).unwrap(), through_json(&vm));
        assert_eq!(to_attributes(&service).unwrap(), through_json(&service));
        let attributes = to_attributes(&service).unwrap();
        let names: Vec<&str> = attributes.keys().map(String::as_str).collect();
        assert_eq!(names, ["runs_on", "secrets", "settings", "type"], "skipped fields stay out");
    }

    #[test]
    fn only_structs_have_attributes() {
        assert_eq!(to_attributes(&vec![1, 2]).unwrap_err().to_string(), "only a struct has attributes");
        assert!(to_attributes(&"text").is_err());
        assert!(to_attributes(&Some(4)).is_err());
    }
}
