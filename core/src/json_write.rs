//! Compact JSON text from `Serialize` types, byte for byte what `serde_json::to_string`
//! writes for the types of this crate (a test compares them), without serde_json.
//!
//! The crate writes JSON text without serde_json in its `no_std` build: the config's canonical
//! form, hashed into every decision record's `shown_hash`, and the banner's texts per
//! language ([`bundle`](crate::bundle)). serde_json's serializer brings its error and I/O
//! machinery along; this writer is only what those need. Floats, tuples and enum variants with
//! fields, which no type here has, are errors.

use crate::prelude::*;
use serde::ser::{self, Serialize};

/// Writes `value` as compact JSON.
///
/// # Errors
/// [`Unsupported`] for floats, tuples and enum variants with fields, or a type's own error.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Unsupported> {
    let mut w = Writer(String::new());
    value.serialize(&mut w)?;
    Ok(w.0)
}

/// A value this writer does not write (no type of this crate has one).
#[derive(Debug)]
pub(crate) struct Unsupported;

impl core::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a value JSON text of this crate does not hold")
    }
}

impl core::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: core::fmt::Display>(_: T) -> Self {
        Unsupported
    }
}

struct Writer(String);

impl Writer {
    fn string(&mut self, s: &str) {
        crate::text::json_string(&mut self.0, s);
    }

    fn unsigned(&mut self, n: u64) {
        self.0.push_str(crate::digits::Decimal::new(n).as_str());
    }

    fn signed(&mut self, n: i64) {
        if n < 0 {
            self.0.push('-');
        }
        self.unsigned(n.unsigned_abs());
    }
}

/// A map, struct or list being written: `first` until its first item.
pub(crate) struct Compound<'a> {
    w: &'a mut Writer,
    first: bool,
    close: char,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if !self.first {
            self.w.0.push(',');
        }
        self.first = false;
    }

    fn end(self) {
        self.w.0.push(self.close);
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = ser::Impossible<(), Unsupported>;
    type SerializeTupleStruct = ser::Impossible<(), Unsupported>;
    type SerializeTupleVariant = ser::Impossible<(), Unsupported>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = ser::Impossible<(), Unsupported>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.signed(v.into());
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.signed(v.into());
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.signed(v.into());
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.signed(v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.unsigned(v.into());
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.unsigned(v.into());
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.unsigned(v.into());
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.unsigned(v);
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        let mut buf = [0; 4];
        self.string(v.encode_utf8(&mut buf));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.string(v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unsupported> {
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), Unsupported> {
        self.0.push_str("null");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Unsupported> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        self.0.push('[');
        Ok(Compound {
            w: self,
            first: true,
            close: ']',
        })
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Unsupported> {
        self.0.push('{');
        Ok(Compound {
            w: self,
            first: true,
            close: '}',
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Unsupported> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.comma();
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Unsupported> {
        Compound::end(self);
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.comma();
        // Keys of this crate's maps are strings; anything else is refused, as serde_json
        // refuses non-string keys other than numbers.
        let key = to_string(key)?;
        if !key.starts_with('"') {
            return Err(Unsupported);
        }
        self.w.0.push_str(&key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.w.0.push(':');
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Unsupported> {
        Compound::end(self);
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Unsupported;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.comma();
        self.w.string(key);
        self.w.0.push(':');
        value.serialize(&mut *self.w)
    }
    fn end(self) -> Result<(), Unsupported> {
        Compound::end(self);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_what_serde_json_writes() {
        let config = crate::Config::from_json(crate::EXAMPLE_CONFIG).ok();
        assert!(config.is_some());
        assert_eq!(to_string(&config).ok(), serde_json::to_string(&config).ok());
        let state = crate::doc_state();
        let record = config
            .as_ref()
            .map(|c| crate::DecisionRecord::new(c, &state, None, crate::Channel::Banner));
        assert_eq!(to_string(&record).ok(), serde_json::to_string(&record).ok());
        let values = (
            -5i64,
            7u8,
            u64::MAX,
            i64::MIN,
            true,
            None::<u8>,
            'x',
            "\u{7f}é\u{1f}\u{0}",
        );
        // Tuples are refused here (no type of this crate has one); their parts are not.
        assert!(to_string(&values).is_err());
        assert_eq!(
            to_string(&values.0).ok(),
            serde_json::to_string(&values.0).ok()
        );
        assert_eq!(
            to_string(&values.2).ok(),
            serde_json::to_string(&values.2).ok()
        );
        assert_eq!(
            to_string(&values.3).ok(),
            serde_json::to_string(&values.3).ok()
        );
        assert_eq!(
            to_string(&values.7).ok(),
            serde_json::to_string(&values.7).ok()
        );
        assert!(to_string(&1.5f64).is_err());
    }

    proptest! {
        #[test]
        fn strings_and_maps_as_serde_json(
            map in prop::collection::btree_map(any::<String>(), any::<Vec<u32>>(), 0..4),
        ) {
            prop_assert_eq!(to_string(&map).ok(), serde_json::to_string(&map).ok());
        }
    }
}
