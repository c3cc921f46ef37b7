//! The typed record straight from a table: the unified fields are handed to the entity's own
//! `Deserialize` one row at a time, as the entries of a map, so no JSON object of the fields is
//! built (keys allocated, sorted, inserted) only to be taken apart again. Each value is still
//! the row's JSON, deserialized by `serde_json`, so what a record maps to and every error
//! message are those of [`EntityData::from_json`] over [`super::read_fields`].

use std::marker::PhantomData;

use millwright_core::{model::EntityData, Entity};
use serde::{
    de::{self, value::BorrowedStrDeserializer, DeserializeSeed, MapAccess, Visitor},
    forward_to_deserialize_any, Deserializer,
};
use serde_json::{Map, Value};

use super::{read, FieldMap, Source};

/// The record of `entity` that `table` reads from `raw`.
pub(super) fn entity_data<S: Source>(
    entity: Entity,
    table: &'static [FieldMap],
    raw: &Map<String, Value>,
) -> Result<EntityData, serde_json::Error> {
    EntityData::from_fields(
        entity,
        TableFields::<S> {
            rows: table.iter(),
            raw,
            value: None,
            source: PhantomData,
        },
    )
}

/// The rows of a table over one raw object, as a map of the rows that have a value.
struct TableFields<'a, S> {
    rows: std::slice::Iter<'a, FieldMap>,
    raw: &'a Map<String, Value>,
    /// The value of the key just handed out.
    value: Option<Value>,
    source: PhantomData<S>,
}

impl<'de, S: Source> Deserializer<'de> for TableFields<'_, S> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, S: Source> MapAccess<'de> for TableFields<'_, S> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        for row in self.rows.by_ref() {
            if let Some(value) = read::<S>(row, self.raw) {
                self.value = Some(value);
                // Field names are static: the entity's field visitor matches them unallocated.
                return seed
                    .deserialize(BorrowedStrDeserializer::new(row.field))
                    .map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a field value was asked for before its name"))?;
        seed.deserialize(value)
    }
}
