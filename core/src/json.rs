//! The JSON tree the config validator walks, and a small reader for builds without
//! serde_json.
//!
//! With the `serde_json` feature (the default) the text is parsed by serde_json, whose
//! messages name the line and column, and its tree is copied into this one. Without it (the
//! WebAssembly banner, where serde_json's parser and `Value` are a fifth of the download)
//! [`parse`] reads the text: it accepts the same documents as serde_json (a property test
//! compares the two) except numbers too large for an `f64`, which it keeps as "not a whole
//! number" — no config field takes a fraction, so such a config is refused either way.
//!
//! Objects keep their keys sorted, as serde_json's `BTreeMap`-backed `Map` does, so problems
//! come out in the same order from both. A key given twice in one object is refused, by both,
//! after the second one: serde_json's `Value` would keep the last silently, so a
//! service's second `"cookies"` would drop its first list from the declaration unseen.

use crate::prelude::*;
use alloc::collections::BTreeMap;
/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// What the validator needs to know of a number: the config only has whole numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// A whole number from 0 to `u64::MAX`.
    PosInt(u64),
    /// A negative whole number that fits an `i64`.
    NegInt(i64),
    /// Anything else: a fraction, an exponent, or a whole number out of those ranges.
    Float,
}

/// An object: keys sorted, each once.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Map(Vec<(String, Value)>);

impl Map {
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        self.0.get(i).map(|(_, v)| v)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = core::iter::Map<
        core::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Value {
    pub(crate) fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(Number::PosInt(n)) => Some(*n),
            _ => None,
        }
    }

    /// A whole number that fits an `i64` (as serde_json's `is_i64`).
    pub(crate) fn is_i64(&self) -> bool {
        match self {
            Value::Number(Number::PosInt(n)) => i64::try_from(*n).is_ok(),
            Value::Number(Number::NegInt(_)) => true,
            _ => false,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub(crate) fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }
}

/// An object's members as they are read: a key given twice is refused, and building it takes
/// `O(n log n)` however many keys a hostile document holds (inserting into the sorted `Map`
/// one by one would take `O(n²)`).
#[derive(Default)]
struct Members(BTreeMap<String, Value>);

impl Members {
    /// Whether `key` was read already in this object.
    fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn insert(&mut self, key: String, value: Value) {
        self.0.insert(key, value);
    }

    fn into_value(self) -> Value {
        // A `BTreeMap` iterates in key order: the `Map` is sorted as it needs to be.
        Value::Object(Map(self.0.into_iter().collect()))
    }
}

/// `duplicate key "<key>"`, the key written as [`push_quoted`] writes it.
fn duplicate_key(key: &str) -> String {
    let mut out = String::from("duplicate key ");
    push_quoted(&mut out, key);
    out
}

/// `text` as a JSON string, its quotes and backslashes escaped, and every character that a
/// terminal or a browser would not show as itself written as `\uXXXX`: control characters
/// (a newline would start a line that reads as another problem, an escape sequence would
/// drive the terminal), and the invisible and bidirectional formatting ones (U+202E would
/// show the rest of the line backwards).
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || is_invisible(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str("\\u");
                    for shift in [12, 8, 4, 0] {
                        let digit = u32::from((*unit >> shift) & 0xF);
                        out.push(char::from_digit(digit, 16).unwrap_or('0'));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters that take no room or reorder what follows: the soft hyphen, zero-width ones,
/// bidirectional marks, embeddings, overrides and isolates, the line and paragraph
/// separators, invisible operators, and the byte order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// serde_json reads a document into this tree directly: a duplicate key is an error at the
/// key, with serde_json's line and column.
#[cfg(feature = "serde_json")]
impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Visitor)
    }
}

#[cfg(feature = "serde_json")]
struct Visitor;

#[cfg(feature = "serde_json")]
impl<'de> serde::de::Visitor<'de> for Visitor {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::PosInt(n)))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(match u64::try_from(n) {
            Ok(n) => Number::PosInt(n),
            Err(_) => Number::NegInt(n),
        }))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Number(Number::Float))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Members::default();
        while let Some(key) = map.next_key::<String>()? {
            if members.has(&key) {
                return Err(serde::de::Error::custom(duplicate_key(&key)));
            }
            let value = map.next_value()?;
            members.insert(key, value);
        }
        Ok(members.into_value())
    }
}

#[cfg(feature = "serde_json")]
impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Number::PosInt(u),
                (None, Some(i)) => Number::NegInt(i),
                (None, None) => Number::Float,
            }),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                // serde_json's map iterates in key order: pushing keeps ours sorted.
                Value::Object(Map(o.iter().map(|(k, v)| (k.clone(), v.into())).collect()))
            }
        }
    }
}

/// The text of a JSON document's bytes: UTF-8 (RFC 8259, section 8.1), without the byte
/// order mark some editors write first, which is no part of the JSON and which a parser may
/// ignore (the RFC's words), as `consent validate` always did.
///
/// # Errors
/// UTF-16 (what "Unicode" means to Windows Notepad), or the place the bytes stop being
/// UTF-8, counted as [`SyntaxError::message`] counts (the line and column after the mark).
pub(crate) fn text(bytes: &[u8]) -> Result<&str, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("UTF-16 text: save the file as UTF-8".to_owned());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    core::str::from_utf8(bytes).map_err(|e| {
        let mut out = String::from("invalid UTF-8");
        push_position(&mut out, bytes, e.valid_up_to() + 1);
        out.push_str(": save the file as UTF-8");
        out
    })
}

/// `" at line L column C"` for the byte before `offset`: serde_json's wording and position
/// (the column counts the bytes of the line read so far, the offending one included).
/// Written without `core::fmt`, which the browser build leaves out.
fn push_position(out: &mut String, bytes: &[u8], offset: usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count();
    out.push_str(" at line ");
    out.push_str(crate::digits::Decimal::new(line as u64).as_str());
    out.push_str(" column ");
    out.push_str(crate::digits::Decimal::new(column as u64).as_str());
}

/// Where a document stops being JSON, and why.
#[cfg(any(test, not(feature = "serde_json")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    what: &'static str,
    offset: usize,
    /// For a key given twice in an object, the key (the message then names it).
    duplicate: Option<String>,
}

#[cfg(any(test, not(feature = "serde_json")))]
impl SyntaxError {
    /// `"<what> at line L column C"`, serde_json's wording and position.
    pub(crate) fn message(&self, text: &str) -> String {
        let mut out = match &self.duplicate {
            Some(key) => duplicate_key(key),
            None => String::from(self.what),
        };
        push_position(&mut out, text.as_bytes(), self.offset);
        out
    }
}

/// Parses a JSON document (RFC 8259, nested at most 127 deep as serde_json allows).
///
/// # Errors
/// The first place the text is not JSON.
#[cfg(any(test, not(feature = "serde_json")))]
pub(crate) fn parse(text: &str) -> Result<Value, SyntaxError> {
    let mut p = Parser {
        bytes: text.as_bytes(),
        pos: 0,
        depth: 128,
    };
    let value = p.value()?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.peek_error("trailing characters"));
    }
    Ok(value)
}

#[cfg(any(test, not(feature = "serde_json")))]
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Containers that may still be opened (serde_json's recursion limit).
    depth: u8,
}

#[cfg(any(test, not(feature = "serde_json")))]
impl Parser<'_> {
    /// An error after reading the offending byte (or at the end).
    fn error(&self, what: &'static str) -> SyntaxError {
        SyntaxError {
            what,
            offset: self.pos,
            duplicate: None,
        }
    }

    /// An error at the byte not read yet.
    fn peek_error(&self, what: &'static str) -> SyntaxError {
        SyntaxError {
            what,
            offset: (self.pos + 1).min(self.bytes.len()),
            duplicate: None,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        self.pos += usize::from(b.is_some());
        b
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, SyntaxError> {
        for &want in word {
            match self.next() {
                Some(b) if b == want => {}
                Some(_) => return Err(self.error("expected ident")),
                None => return Err(self.error("EOF while parsing a value")),
            }
        }
        Ok(value)
    }

    fn value(&mut self) -> Result<Value, SyntaxError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => {
                self.pos += 1;
                self.string().map(Value::String)
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            Some(b'[') => self.container(b']', Self::array),
            Some(b'{') => self.container(b'}', Self::object),
            Some(_) => Err(self.peek_error("expected value")),
        }
    }

    /// Opens a container within the depth limit and reads it with `body`.
    fn container(
        &mut self,
        close: u8,
        body: fn(&mut Self, u8) -> Result<Value, SyntaxError>,
    ) -> Result<Value, SyntaxError> {
        self.depth -= 1;
        if self.depth == 0 {
            return Err(self.error("recursion limit exceeded"));
        }
        self.pos += 1;
        let value = body(self, close)?;
        self.depth += 1;
        Ok(value)
    }

    /// After an item: `,` and more, or the closing bracket. `Ok(true)` when closed.
    fn separator(&mut self, close: u8, eof: &'static str) -> Result<bool, SyntaxError> {
        self.skip_ws();
        match self.next() {
            Some(b',') => Ok(false),
            Some(b) if b == close => Ok(true),
            Some(_) => Err(self.error(if close == b']' {
                "expected `,` or `]`"
            } else {
                "expected `,` or `}`"
            })),
            None => Err(self.error(eof)),
        }
    }

    fn array(&mut self, close: u8) -> Result<Value, SyntaxError> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            if self.separator(close, "EOF while parsing a list")? {
                return Ok(Value::Array(items));
            }
            self.skip_ws();
            if self.peek() == Some(close) {
                return Err(self.peek_error("trailing comma"));
            }
        }
    }

    fn object(&mut self, close: u8) -> Result<Value, SyntaxError> {
        let mut members = Members::default();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(members.into_value());
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => self.pos += 1,
                Some(b) if b == close => return Err(self.peek_error("trailing comma")),
                Some(_) => return Err(self.peek_error("key must be a string")),
                None => return Err(self.error("EOF while parsing an object")),
            }
            let key = self.string()?;
            self.skip_ws();
            // Where serde_json names it: after the key and the blanks after it.
            if members.has(&key) {
                return Err(SyntaxError {
                    duplicate: Some(key),
                    ..self.error("duplicate key")
                });
            }
            match self.next() {
                Some(b':') => {}
                Some(_) => return Err(self.error("expected `:`")),
                None => return Err(self.error("EOF while parsing an object")),
            }
            let value = self.value()?;
            members.insert(key, value);
            if self.separator(close, "EOF while parsing an object")? {
                return Ok(members.into_value());
            }
        }
    }

    /// The rest of a string after its opening quote.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let mut out = Vec::new();
        loop {
            let Some(b) = self.next() else {
                return Err(self.error("EOF while parsing a string"));
            };
            match b {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                0..=0x1f => {
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
                _ => out.push(b),
            }
        }
        // The input is a `str` and escapes write whole UTF-8 sequences, so this holds.
        String::from_utf8(out).map_err(|_| self.error("invalid unicode code point"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), SyntaxError> {
        let c = match self.next() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => self.unicode()?,
            Some(_) => return Err(self.error("invalid escape")),
            None => return Err(self.error("EOF while parsing a string")),
        };
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = match self.next() {
                Some(b) => char::from(b).to_digit(16),
                None => return Err(self.error("EOF while parsing a string")),
            };
            n = n * 16 + digit.ok_or_else(|| self.error("invalid escape"))?;
        }
        Ok(n)
    }

    /// `\uXXXX`, with surrogate pairs joined; a lone surrogate is an error, as in serde_json.
    fn unicode(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        let code = match first {
            0xDC00..=0xDFFF => return Err(self.error("lone leading surrogate in hex escape")),
            0xD800..=0xDBFF => {
                if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                    return Err(self.error("unexpected end of hex escape"));
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            n => n,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Number, SyntaxError> {
        let negative = self.peek() == Some(b'-');
        self.pos += usize::from(negative);
        let start = self.pos;
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.peek_error("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            Some(_) => return Err(self.error("invalid number")),
            None => return Err(self.error("EOF while parsing a value")),
        }
        let end = self.pos;
        let mut whole = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            whole = false;
            if self.digits() == 0 {
                return Err(self.error(if self.peek().is_some() {
                    "invalid number"
                } else {
                    "EOF while parsing a value"
                }));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            whole = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(if self.peek().is_some() {
                    "invalid number"
                } else {
                    "EOF while parsing a value"
                }));
            }
        }
        if !whole {
            return Ok(Number::Float);
        }
        let mut n: u64 = 0;
        for &d in self.bytes.get(start..end).unwrap_or_default() {
            match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
            {
                Some(m) => n = m,
                None => return Ok(Number::Float),
            }
        }
        Ok(match (negative, n) {
            (false, n) => Number::PosInt(n),
            // serde_json reads -0 as a float.
            (true, 0) => Number::Float,
            // Down to i64::MIN, whose magnitude 2^63 wraps to itself.
            (true, n) if n <= 1 << 63 => Number::NegInt((n as i64).wrapping_neg()),
            (true, _) => Number::Float,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(text: &str) -> Option<Value> {
        parse(text).ok()
    }

    /// serde_json's parser, into the tree (which refuses a key given twice).
    fn theirs(text: &str) -> Option<Value> {
        serde_json::from_str::<Value>(text).ok()
    }

    /// serde_json refuses numbers beyond `f64`; ours reads them as fractions (module docs).
    fn out_of_range(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text)
            .is_err_and(|e| e.to_string().starts_with("number out of range"))
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "12",
            "-12",
            "1.5",
            "1e3",
            "1E+3",
            "-1.5e-3",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            r#""a\"b\\c\/d\b\f\n\r\t\u00e4\ud83d\ude00""#,
            r#"{"b": 1, "a": [1, {"c": null, "b": 2}]}"#,
            "[]",
            "{}",
            "[[[]]]",
        ] {
            assert_eq!(ours(text), theirs(text), "{text}");
            assert!(ours(text).is_some(), "{text}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for text in [
            "",
            " ",
            "nul",
            "tru",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "01",
            "1.",
            "1e",
            "-",
            "+1",
            ".5",
            "\"a",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\u{1}\"",
            "[1] x",
            "{\"a\":1}}",
            "NaN",
            "\"\\u12\"",
        ] {
            assert_eq!(ours(text), None, "{text:?}");
            assert_eq!(theirs(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_key_given_twice_is_refused_where_it_ends() {
        for (text, want) in [
            (
                "{\"b\": 1, \"a\": 2, \"b\": 3}",
                "duplicate key \"b\" at line 1 column 20",
            ),
            (
                "[{\"a\": {\"x\": 1}},\n {\"a\": {\"x\": 1,\n   \"x\" : 2}}]",
                "duplicate key \"x\" at line 3 column 7",
            ),
            (
                "{\"\\n\\u001b[2J\\u202e\": 1, \"\\n\\u001b[2J\\u202e\": 2}",
                "duplicate key \"\\u000a\\u001b[2J\\u202e\" at line 1 column 44",
            ),
        ] {
            let ours = parse(text).err().map(|e| e.message(text));
            let theirs = serde_json::from_str::<Value>(text)
                .err()
                .map(|e| e.to_string());
            assert_eq!(ours.as_deref(), Some(want), "{text}");
            assert_eq!(theirs.as_deref(), Some(want), "{text}");
        }
        // In separate objects, a key is no duplicate.
        assert!(ours("[{\"a\": 1}, {\"a\": 1}]").is_some());
        // Many keys, in one object: read in O(n log n).
        let many: Vec<String> = (0..20_000).map(|i| format!("\"k{i}\": {i}")).collect();
        let many = format!("{{{}}}", many.join(","));
        assert_eq!(ours(&many), theirs(&many));
        assert!(ours(&many).is_some());
    }

    #[test]
    fn nesting_limit_is_serde_jsons() {
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(ours(&ok).is_some() && theirs(&ok).is_some());
        assert!(ours(&deep).is_none() && theirs(&deep).is_none());
    }

    #[test]
    fn messages_are_serde_jsons() {
        for text in [
            "{\n  \"a\": tru\n}",
            "{\"a\": 1 \"b\"}",
            "[1, 2,]",
            "{\"a\" 1}",
            "{1: 2}",
            "[1] x",
            "\n\n  ?",
            "",
            "[01]",
            "\"\u{1}\"",
            "{\"a\": [1, 2 3]}",
        ] {
            let ours = parse(text).err().map(|e| e.message(text));
            let theirs = serde_json::from_str::<serde_json::Value>(text)
                .err()
                .map(|e| e.to_string());
            assert_eq!(ours, theirs, "{text:?}");
        }
        let text = "{\n  \"a\": tru\n}";
        assert_eq!(
            parse(text).err().map(|e| e.message(text)).as_deref(),
            Some("expected ident at line 3 column 0")
        );
    }

    #[test]
    fn text_is_utf8_without_its_byte_order_mark() {
        assert_eq!(text(b"\xEF\xBB\xBF{}"), Ok("{}"));
        assert_eq!(
            text("{\"a\": \"\u{e4}\"}".as_bytes()),
            Ok("{\"a\": \"\u{e4}\"}")
        );
        // Latin-1's 0xE4, on the second line, the third byte of it; the mark not counted.
        assert_eq!(
            text(b"\xEF\xBB\xBF{\n \"\xE4\": 1}"),
            Err("invalid UTF-8 at line 2 column 3: save the file as UTF-8".to_owned())
        );
        // A sequence cut short at the end is refused too.
        assert!(text(b"[\"\xC3").is_err());
        for utf16 in [&b"\xFF\xFE{\x00}\x00"[..], b"\xFE\xFF\x00{\x00}"] {
            assert_eq!(
                text(utf16),
                Err("UTF-16 text: save the file as UTF-8".to_owned())
            );
        }
    }

    #[test]
    fn example_config_reads_the_same() {
        assert_eq!(ours(crate::EXAMPLE_CONFIG), theirs(crate::EXAMPLE_CONFIG));
    }

    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
            any::<String>().prop_map(|s| serde_json::Value::String(s).to_string()),
            "[ -~]{0,6}".prop_map(|s| s),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-c]{1,2}", inner), 0..4).prop_map(|v| {
                    let fields: Vec<String> = v
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\" : {v}"))
                        .collect();
                    format!("{{{}}}", fields.join(" ,"))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json(text in json_text()) {
            prop_assume!(!out_of_range(&text));
            prop_assert_eq!(ours(&text), theirs(&text));
        }

        #[test]
        fn agrees_with_serde_json_on_any_text(text in "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,24}") {
            prop_assume!(!out_of_range(&text));
            prop_assert_eq!(ours(&text), theirs(&text));
        }
    }
}
