//! Reading the tree into configuration types: a [`Node`] per value, [`Fields`] per object
//! (which remembers the keys asked for, so the others are reported as unknown), and the small
//! readers for the values inside the types.
//!
//! The grammar is `tree`'s; what the values mean is checked in `crate::compile`.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;

use super::tree::{Kind, Value};
use super::{error_at, At, JsonError, RawJson, Unknown};
use crate::config::lenient;

/// A value being read, with where it sits (for messages), the document's text (for positions)
/// and where the first error goes.
///
/// Readers never stop early: a value that cannot be read gives its type's default, the first
/// error is kept in `failure`, and the caller of the outermost read reports it
/// ([`Node::checked`], [`from_json`]). Without early returns, a reader needs no code to drop
/// what it read so far, which keeps the many small readers small.
#[derive(Clone, Copy)]
pub(crate) struct Node<'v, 't> {
    pub(super) value: &'v Value<'t>,
    pub(super) at: At<'v>,
    pub(super) doc: &'t str,
    pub(super) failure: &'v Cell<Option<JsonError>>,
}

impl<'v, 't> Node<'v, 't> {
    /// Keeps `message` about this value, unless an earlier error was kept.
    fn fail(self, message: String) {
        let first = self.failure.take();
        let err = || error_at(self.doc, self.value.start, self.at, message);
        self.failure.set(Some(first.unwrap_or_else(err)));
    }

    /// This value has the wrong type: names it and what was expected.
    fn invalid_type(self, expected: &str) {
        let found = match &self.value.kind {
            Kind::Null => "null".to_owned(),
            Kind::Bool(b) => format!("boolean `{b}`"),
            Kind::Number if self.value.text.contains(['.', 'e', 'E']) => {
                format!("floating point `{}`", self.value.text)
            }
            Kind::Number => format!("integer `{}`", self.value.text),
            Kind::String(s) => format!("string {s:?}"),
            Kind::Object(_) => "map".to_owned(),
            Kind::Array(_) => "sequence".to_owned(),
            Kind::Raw if self.value.text.starts_with('{') => "map".to_owned(),
            Kind::Raw => "sequence".to_owned(),
        };
        self.fail(format!("invalid type: {found}, expected {expected}"));
    }

    /// Reads this value with `read`, reporting the first error in it.
    pub(crate) fn checked<T>(self, read: fn(Node<'_, 't>) -> T) -> Result<T, JsonError> {
        let failure = Cell::new(None);
        let value = read(Node {
            failure: &failure,
            ..self
        });
        match failure.into_inner() {
            Some(err) => Err(err),
            None => Ok(value),
        }
    }

    /// The string, if this is one.
    pub(crate) fn as_str(self) -> Option<&'v str> {
        match &self.value.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// Reads a whole number from 0 to `u32::MAX`. Unless `lenient`, it must be written as an
    /// integer; leniently, any number with an integral value is accepted ([`lenient`]).
    pub(crate) fn whole_number(self, lenient: bool) -> u32 {
        let number = self.value.text;
        match self.value.kind {
            Kind::Number if lenient || !number.contains(['.', 'e', 'E']) => {
                lenient::whole_value(number).unwrap_or_else(|problem| {
                    self.fail(problem.message(number));
                    0
                })
            }
            Kind::Number => {
                self.invalid_type("an integer");
                0
            }
            _ => {
                self.invalid_type("a non-negative integer");
                0
            }
        }
    }

    /// Reads an array, each element with `read`.
    pub(crate) fn list<T>(self, read: fn(Node<'_, 't>) -> T) -> Vec<T> {
        let Kind::Array(items) = &self.value.kind else {
            self.invalid_type("a sequence");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (index, value) in items.iter().enumerate() {
            out.push(read(Node {
                value,
                at: At::Index(&self.at, index),
                ..self
            }));
        }
        out
    }

    /// Starts reading an object field by field.
    #[inline(never)]
    pub(crate) fn object(self) -> Fields<'v, 't> {
        let entries = match &self.value.kind {
            Kind::Object(entries) => entries.as_slice(),
            _ => {
                self.invalid_type("an object");
                &[]
            }
        };
        Fields {
            entries,
            at: self.at,
            doc: self.doc,
            failure: self.failure,
            used: 0,
            used_beyond: Vec::new(),
        }
    }

    /// The elements, each as written, when this is an array (none otherwise).
    pub(crate) fn items(self) -> Vec<RawJson> {
        match &self.value.kind {
            Kind::Array(items) => items.iter().map(|item| RawJson(item.text.into())).collect(),
            _ => Vec::new(),
        }
    }

    /// The keys, when this is an object (none otherwise).
    pub(crate) fn keys(self) -> Vec<String> {
        match &self.value.kind {
            Kind::Object(entries) => entries.iter().map(|(key, _)| key.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    /// The value of `key` when this is an object that has it, for lenient lookups: messages
    /// about it would not name its path.
    pub(crate) fn get(self, key: &str) -> Option<Node<'v, 't>> {
        let Kind::Object(entries) = &self.value.kind else {
            return None;
        };
        let (_, value) = entries.iter().rev().find(|(k, _)| k == key)?;
        Some(Node {
            value,
            at: At::Root,
            ..self
        })
    }
}

/// Reads a string.
pub(crate) fn string(node: Node<'_, '_>) -> String {
    match node.as_str() {
        Some(s) => s.to_owned(),
        None => {
            node.invalid_type("a string");
            String::new()
        }
    }
}

/// Reads a boolean.
pub(crate) fn bool(node: Node<'_, '_>) -> bool {
    match node.value.kind {
        Kind::Bool(b) => b,
        _ => {
            node.invalid_type("a boolean");
            false
        }
    }
}

/// Reads a whole number from 0 to `u32::MAX`, written as an integer.
pub(crate) fn u32(node: Node<'_, '_>) -> u32 {
    node.whole_number(false)
}

/// Any value, kept as its text.
pub(crate) fn raw(node: Node<'_, '_>) -> RawJson {
    RawJson(node.value.text.into())
}

/// Reads an array of strings.
pub(crate) fn strings(node: Node<'_, '_>) -> Vec<String> {
    node.list(string)
}

/// Reads an object whose values are all strings.
pub(crate) fn string_map(node: Node<'_, '_>) -> BTreeMap<String, String> {
    let fields = node.object();
    let mut map = BTreeMap::new();
    for (key, value) in fields.entries {
        map.insert(key.to_string(), string(fields.node(key, value)));
    }
    map
}

/// An object being read into a configuration type. Each lookup marks the entries it matched, so
/// that [`Fields::unknown`] can name the others; a key written twice reads its last value. Absent
/// keys, and `null` for optional ones, give the field's default.
///
/// The helpers every field read calls (`lookup`, `opt_string`, `string`, ... and
/// [`Node::object`]) are kept out of line: inlined into the readers of all the types, each of
/// the configuration's couple of hundred fields would carry its own copy.
pub(crate) struct Fields<'v, 't> {
    pub(super) entries: &'v [(Cow<'t, str>, Value<'t>)],
    pub(super) at: At<'v>,
    pub(super) doc: &'t str,
    pub(super) failure: &'v Cell<Option<JsonError>>,
    /// The entries a lookup matched: bit `i` for entry `i` below 64, the others listed (objects
    /// that large are rare, so reading an object allocates nothing for this).
    pub(super) used: u64,
    pub(super) used_beyond: Vec<usize>,
}

impl<'v, 't> Fields<'v, 't> {
    fn node<'a>(&'a self, key: &'a str, value: &'v Value<'t>) -> Node<'a, 't>
    where
        'v: 'a,
    {
        Node {
            value,
            at: At::Field(&self.at, key),
            doc: self.doc,
            failure: self.failure,
        }
    }

    /// The last value of `key`, marking every entry with that key as used.
    #[inline(never)]
    fn lookup(&mut self, key: &'static str) -> Option<&'v Value<'t>> {
        let mut found = None;
        for (index, (k, value)) in self.entries.iter().enumerate() {
            if k == key {
                found = Some(value);
                match bit(index) {
                    Some(bit) => self.used |= bit,
                    None => self.used_beyond.push(index),
                }
            }
        }
        found
    }

    /// Reads `key` with `read`; `None` when it is absent or `null`.
    pub(crate) fn opt<T>(&mut self, key: &'static str, read: fn(Node<'_, 't>) -> T) -> Option<T> {
        match self.lookup(key) {
            Some(value) if !matches!(value.kind, Kind::Null) => Some(read(self.node(key, value))),
            _ => None,
        }
    }

    /// Reads `key` with `read`; the default when it is absent (but not when it is `null`).
    pub(crate) fn or_default<T: Default>(
        &mut self,
        key: &'static str,
        read: fn(Node<'_, 't>) -> T,
    ) -> T {
        match self.lookup(key) {
            Some(value) => read(self.node(key, value)),
            None => T::default(),
        }
    }

    /// A list, each element read with `read`; empty when absent.
    pub(crate) fn list<T>(&mut self, key: &'static str, read: fn(Node<'_, 't>) -> T) -> Vec<T> {
        match self.lookup(key) {
            Some(value) => self.node(key, value).list(read),
            None => Vec::new(),
        }
    }

    /// An optional string.
    #[inline(never)]
    pub(crate) fn opt_string(&mut self, key: &'static str) -> Option<String> {
        self.opt(key, string)
    }

    /// A string, empty when absent.
    #[inline(never)]
    pub(crate) fn string(&mut self, key: &'static str) -> String {
        self.or_default(key, string)
    }

    /// A list of strings, empty when absent.
    #[inline(never)]
    pub(crate) fn strings(&mut self, key: &'static str) -> Vec<String> {
        self.or_default(key, strings)
    }

    /// An optional whole number that may be written as an integral double ([`lenient`]).
    #[inline(never)]
    pub(crate) fn opt_u32(&mut self, key: &'static str) -> Option<u32> {
        self.opt(key, |node| node.whole_number(true))
    }

    /// The keys no lookup asked for: fields this version does not know.
    pub(crate) fn unknown(&self) -> Unknown {
        let mut unknown = Unknown::new();
        for (index, (key, _)) in self.entries.iter().enumerate() {
            let used = match bit(index) {
                Some(bit) => self.used & bit != 0,
                None => self.used_beyond.contains(&index),
            };
            if !used {
                unknown.insert(key.to_string());
            }
        }
        unknown
    }
}

/// The bit for entry `index` in [`Fields::used`], for the first 64 entries.
fn bit(index: usize) -> Option<u64> {
    u32::try_from(index)
        .ok()
        .and_then(|shift| 1_u64.checked_shl(shift))
}
