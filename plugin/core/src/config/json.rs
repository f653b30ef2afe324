//! A small JSON reader for the configuration: text to a tree of [`Value`]s, then typed objects.
//!
//! A document is parsed into a tree that borrows from the text, and each configuration type
//! reads its fields from it by key with the helpers of [`Fields`] (the `read` functions next to
//! the types), which remember the entries they were asked for so that the others can be
//! reported as unknown. Every error carries the field path (`spec.rules[0].backendRefs[0].port`), the
//! offending value, and the line and column. What the values mean is not checked here but in
//! [`crate::compile`]; this module knows JSON's grammar and the shape of the types only.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::lenient;

/// Nesting deeper than this is refused, so that no input can exhaust the stack.
const MAX_DEPTH: usize = 128;

/// Where a value sits in the document, for messages: a chain of keys and indices.
#[derive(Clone, Copy, Debug)]
pub(crate) enum At<'a> {
    /// The document itself.
    Root,
    /// A key of an object.
    Field(&'a At<'a>, &'a str),
    /// An index of an array.
    Index(&'a At<'a>, usize),
}

impl At<'_> {
    /// The path one key further down.
    pub(crate) fn key<'b>(&'b self, key: &'b str) -> At<'b> {
        At::Field(self, key)
    }

    /// The path one index further down.
    pub(crate) fn index(&self, index: usize) -> At<'_> {
        At::Index(self, index)
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => Ok(()),
            At::Field(At::Root, key) => f.write_str(key),
            At::Field(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A value that cannot be read: where, what, and the position in the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message} (line {line}, column {column})", field_prefix(.path))]
pub struct JsonError {
    /// Field path of the value (`spec.rules[0].backendRefs[0].port`); empty for the document.
    pub path: String,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in bytes.
    pub column: usize,
}

/// `path: `, or nothing for the document itself.
pub(crate) fn field_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// Any JSON value the filter accepts but does not interpret, kept as its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawJson(Box<str>);

impl RawJson {
    /// The value's JSON text, exactly as written.
    pub fn get(&self) -> &str {
        &self.0
    }
}

/// Names of the fields an object carried that this version does not know, kept to be reported.
pub type Unknown = BTreeSet<String>;

/// Reads a whole document (one value, then nothing but whitespace) with `read`.
pub(crate) fn from_json<T>(
    text: &str,
    read: impl FnOnce(Node<'_, '_>) -> T,
) -> Result<T, JsonError> {
    let root = parse(text, MAX_DEPTH)?;
    read_root(&root, text, read)
}

/// [`from_json`] for bytes, which must be UTF-8 text. Objects and arrays nested inside arrays or
/// objects `keep_raw_from` levels down are checked but kept as text, to be read later, one at a
/// time.
pub(crate) fn from_json_bytes<T>(
    bytes: &[u8],
    keep_raw_from: usize,
    read: impl FnOnce(Node<'_, '_>) -> T,
) -> Result<T, JsonError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = bytes
                .get(..err.valid_up_to())
                .and_then(|valid| std::str::from_utf8(valid).ok())
                .unwrap_or_default();
            return Err(error_at(
                valid,
                valid.len(),
                At::Root,
                "invalid UTF-8; the text must be UTF-8".to_owned(),
            ));
        }
    };
    let root = parse(text, keep_raw_from)?;
    read_root(&root, text, read)
}

fn read_root<T>(
    root: &Value<'_>,
    doc: &str,
    read: impl FnOnce(Node<'_, '_>) -> T,
) -> Result<T, JsonError> {
    let failure = Cell::new(None);
    let value = read(Node {
        value: root,
        at: At::Root,
        doc,
        failure: &failure,
    });
    match failure.into_inner() {
        Some(err) => Err(err),
        None => Ok(value),
    }
}

/// An error at byte `pos` of `text`.
fn error_at(text: &str, pos: usize, at: At<'_>, message: String) -> JsonError {
    let before = text.as_bytes().get(..pos).unwrap_or(text.as_bytes());
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    JsonError {
        path: at.to_string(),
        message,
        line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
        column: 1 + before.len() - line_start,
    }
}

// === The tree ===

/// One value of a parsed document, borrowing from its text.
#[derive(Debug)]
pub(crate) struct Value<'t> {
    /// The value's text.
    text: &'t str,
    /// Where that text starts in the document, for positions in messages.
    start: usize,
    kind: Kind<'t>,
}

#[derive(Debug)]
enum Kind<'t> {
    Null,
    Bool(bool),
    /// A number, as written (its value is worked out when a field needs it).
    Number,
    String(Cow<'t, str>),
    Array(Vec<Value<'t>>),
    Object(Vec<(Cow<'t, str>, Value<'t>)>),
    /// An object or array below the depth the document was parsed to: checked, not parsed.
    Raw,
}

/// Parses `text` into a tree; containers `keep_raw_from` levels down stay text.
fn parse(text: &str, keep_raw_from: usize) -> Result<Value<'_>, JsonError> {
    let mut parser = Parser {
        text,
        pos: 0,
        depth: 0,
        keep_raw_from,
    };
    let value = parser.value(At::Root, true)?;
    if parser.peek().is_some() {
        return Err(parser.syntax(At::Root, "the end of the text"));
    }
    Ok(value)
}

/// A position in a JSON text being parsed.
struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
    keep_raw_from: usize,
}

impl<'t> Parser<'t> {
    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
        bytes.get(self.pos).copied()
    }

    /// Consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    /// A grammar error at the current position.
    fn syntax(&mut self, at: At<'_>, expected: &str) -> JsonError {
        let message = match self.peek() {
            None => format!("the text ends where {expected} should follow"),
            Some(_) => {
                let found = self.text.get(self.pos..).unwrap_or_default().chars().next();
                format!("expected {expected}, found {:?}", found.unwrap_or_default())
            }
        };
        self.error(self.pos, at, message)
    }

    fn error(&self, pos: usize, at: At<'_>, message: String) -> JsonError {
        error_at(self.text, pos, at, message)
    }

    /// Parses one value; with `build` false it is only checked, and containers come back empty.
    fn value(&mut self, at: At<'_>, build: bool) -> Result<Value<'t>, JsonError> {
        let next = self.peek();
        let start = self.pos;
        let kind = match next {
            Some(b'{' | b'[') if build && self.depth >= self.keep_raw_from => {
                self.value(at, false)?;
                Kind::Raw
            }
            Some(b'{') => {
                let mut entries = Vec::new();
                self.nest(at, b'}', &mut |parser| {
                    if parser.peek() != Some(b'"') {
                        return Err(parser.syntax(at, "a key in double quotes"));
                    }
                    let key = parser.string(at)?;
                    if !parser.eat(b':') {
                        return Err(parser.syntax(at, "`:`"));
                    }
                    let value = parser.value(At::Field(&at, &key), build)?;
                    if build {
                        entries.push((key, value));
                    }
                    Ok(())
                })?;
                Kind::Object(entries)
            }
            Some(b'[') => {
                let mut items = Vec::new();
                let mut index = 0;
                self.nest(at, b']', &mut |parser| {
                    let value = parser.value(At::Index(&at, index), build)?;
                    index += 1;
                    if build {
                        items.push(value);
                    }
                    Ok(())
                })?;
                Kind::Array(items)
            }
            Some(b'"') => Kind::String(self.string(at)?),
            Some(b't') => self.literal(at, "true", Kind::Bool(true))?,
            Some(b'f') => self.literal(at, "false", Kind::Bool(false))?,
            Some(b'n') => self.literal(at, "null", Kind::Null)?,
            _ => self.number(at)?,
        };
        Ok(Value {
            text: self.text.get(start..self.pos).unwrap_or_default(),
            start,
            kind,
        })
    }

    fn literal(&mut self, at: At<'_>, word: &str, kind: Kind<'t>) -> Result<Kind<'t>, JsonError> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        if !rest.starts_with(word) {
            return Err(self.syntax(at, "a value"));
        }
        self.pos += word.len();
        Ok(kind)
    }

    /// The shared part of objects and arrays: the opening byte (already seen), the entries
    /// separated by commas, the `close` byte, and the depth limit.
    fn nest(
        &mut self,
        at: At<'_>,
        close: u8,
        entry: &mut dyn FnMut(&mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error(
                self.pos,
                at,
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.depth += 1;
        self.pos += 1;
        if !self.eat(close) {
            loop {
                entry(self)?;
                if self.eat(close) {
                    break;
                }
                if !self.eat(b',') {
                    let expected = if close == b'}' {
                        "`,` or `}`"
                    } else {
                        "`,` or `]`"
                    };
                    return Err(self.syntax(at, expected));
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Reads a string (the opening quote comes next), borrowed from the text unless it has
    /// escapes.
    fn string(&mut self, at: At<'_>) -> Result<Cow<'t, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'"' => {
                    let text = self.text.get(start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    return Ok(Cow::Borrowed(text));
                }
                b'\\' => break,
                0..=0x1f => return Err(self.control_character(at)),
                _ => self.pos += 1,
            }
        }
        let mut text = self
            .text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_owned();
        loop {
            let rest = self.text.get(self.pos..).unwrap_or_default();
            match rest.chars().next() {
                None => return Err(self.syntax(at, "`\"`")),
                Some('"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(text));
                }
                Some('\\') => {
                    self.pos += 1;
                    text.push(self.escape(at)?);
                }
                Some(c) if c < ' ' => return Err(self.control_character(at)),
                Some(c) => {
                    self.pos += c.len_utf8();
                    text.push(c);
                }
            }
        }
    }

    fn control_character(&self, at: At<'_>) -> JsonError {
        self.error(
            self.pos,
            at,
            "control character in a string; write it as an escape such as \\n".to_owned(),
        )
    }

    /// The character an escape stands for; the backslash is consumed.
    fn escape(&mut self, at: At<'_>) -> Result<char, JsonError> {
        let byte = self.text.as_bytes().get(self.pos).copied();
        self.pos += 1;
        Ok(match byte {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let first = self.hex4(at)?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if !self
                        .text
                        .get(self.pos..)
                        .unwrap_or_default()
                        .starts_with("\\u")
                    {
                        return Err(self.bad_escape(at));
                    }
                    self.pos += 2;
                    let second = self.hex4(at)?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.bad_escape(at));
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                char::from_u32(code).ok_or_else(|| self.bad_escape(at))?
            }
            _ => return Err(self.bad_escape(at)),
        })
    }

    fn hex4(&mut self, at: At<'_>) -> Result<u32, JsonError> {
        let digits = self.text.get(self.pos..self.pos + 4).unwrap_or_default();
        let code = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()));
        self.pos += 4;
        code.ok_or_else(|| self.bad_escape(at))
    }

    fn bad_escape(&self, at: At<'_>) -> JsonError {
        self.error(
            self.pos.saturating_sub(1),
            at,
            "invalid escape in a string".to_owned(),
        )
    }

    /// Checks a number against JSON's grammar and consumes it.
    fn number(&mut self, at: At<'_>) -> Result<Kind<'t>, JsonError> {
        let bytes = self.text.as_bytes();
        let digits = |pos: &mut usize| {
            let first = *pos;
            while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            *pos > first
        };
        let mut pos = self.pos;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        let mut valid = match bytes.get(pos) {
            Some(b'0') => {
                pos += 1;
                true
            }
            _ => digits(&mut pos),
        };
        if valid && bytes.get(pos) == Some(&b'.') {
            pos += 1;
            valid = digits(&mut pos);
        }
        if valid && matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            valid = digits(&mut pos);
        }
        self.pos = pos;
        if !valid {
            return Err(self.syntax(at, "a value"));
        }
        Ok(Kind::Number)
    }
}

/// Parses a whole document (UTF-8 bytes) into a plain tree, for comparing the reader with
/// another JSON implementation; `keep_raw_from` as in [`from_json_bytes`].
#[cfg(feature = "fuzzing")]
pub(crate) fn tree(
    bytes: &[u8],
    keep_raw_from: usize,
) -> Result<crate::fuzzing::JsonTree, JsonError> {
    fn convert(value: &Value<'_>) -> crate::fuzzing::JsonTree {
        use crate::fuzzing::JsonTree;
        match &value.kind {
            Kind::Null => JsonTree::Null,
            Kind::Bool(b) => JsonTree::Bool(*b),
            Kind::Number => JsonTree::Number(value.text.to_owned()),
            Kind::String(s) => JsonTree::String(s.to_string()),
            Kind::Array(items) => JsonTree::Array(items.iter().map(convert).collect()),
            Kind::Object(entries) => JsonTree::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), convert(v)))
                    .collect(),
            ),
            Kind::Raw => JsonTree::Raw(value.text.to_owned()),
        }
    }
    from_json_bytes(bytes, keep_raw_from, |node| convert(node.value))
}

// === Reading the tree ===

/// A value being read, with where it sits (for messages), the document's text (for positions)
/// and where the first error goes.
///
/// Readers never stop early: a value that cannot be read gives its type's default, the first
/// error is kept in `failure`, and the caller of the outermost read reports it
/// ([`Node::checked`], [`from_json`]). Without early returns, a reader needs no code to drop
/// what it read so far, which keeps the many small readers small.
#[derive(Clone, Copy)]
pub(crate) struct Node<'v, 't> {
    value: &'v Value<'t>,
    at: At<'v>,
    doc: &'t str,
    failure: &'v Cell<Option<JsonError>>,
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

// === Readers for the values inside configuration types, to pass to [`Fields`] ===

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
    entries: &'v [(Cow<'t, str>, Value<'t>)],
    at: At<'v>,
    doc: &'t str,
    failure: &'v Cell<Option<JsonError>>,
    /// The entries a lookup matched: bit `i` for entry `i` below 64, the others listed (objects
    /// that large are rare, so reading an object allocates nothing for this).
    used: u64,
    used_beyond: Vec<usize>,
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

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{bool, from_json, raw, string, strings, u32, Node};

    #[test]
    fn values_of_every_kind_are_read() {
        let string = from_json(r#" "a\"b\u00e9\ud83d\ude00" "#, string).unwrap();
        assert_eq!(string, "a\"bé😀");
        assert_eq!(
            from_json("[1, 2 ,3]", |n| n.list(u32)).unwrap(),
            vec![1, 2, 3]
        );
        assert!(from_json("true", bool).unwrap());
        let raw = from_json(r#"[{"a": [1, {"b": null}]}, -1.5e3]"#, |n| n.list(raw)).unwrap();
        assert_eq!(raw[0].get(), r#"{"a": [1, {"b": null}]}"#);
        assert_eq!(raw[1].get(), "-1.5e3");
    }

    #[test]
    fn fields_read_by_key_and_report_the_rest() {
        let read = |node: Node<'_, '_>| {
            let mut fields = node.object();
            (
                fields.string("name"),
                fields.opt_u32("port"),
                fields.unknown(),
            )
        };
        let (name, port, unknown) = from_json(
            r#"{"name": "a", "extra": 1, "name": "b", "port": null}"#,
            read,
        )
        .unwrap();
        assert_eq!((name.as_str(), port), ("b", None));
        assert_eq!(unknown.into_iter().collect::<Vec<_>>(), ["extra"]);

        // Past the 64 entries tracked by bits.
        let many: Vec<String> = (0..70).map(|i| format!("\"k{i}\": {i}")).collect();
        let text = format!("{{{}, \"name\": \"c\"}}", many.join(", "));
        let (name, _, unknown) = from_json(&text, read).unwrap();
        assert_eq!(name, "c");
        assert_eq!(unknown.len(), 70);
    }

    #[test]
    fn type_errors_name_the_path_the_value_and_the_position() {
        let strings = |n: Node<'_, '_>| n.list(strings);
        let err = from_json("[[\"a\"],\n [\"b\", 3.5]]", strings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "[1][1]: invalid type: floating point `3.5`, expected a string (line 2, column 8)"
        );
        let err = from_json("[-1]", |n| n.list(u32)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "[0]: expected a non-negative integer, found -1 (line 1, column 2)"
        );
        let err = from_json("80.0", u32).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid type: floating point `80.0`, expected an integer (line 1, column 1)"
        );
    }

    #[test]
    fn grammar_errors_are_refused_with_their_position() {
        for (text, message) in [
            ("", "the text ends where a value should follow (line 1, column 1)"),
            ("[1,]", "[1]: expected a value, found ']' (line 1, column 4)"),
            ("[1 2]", "expected `,` or `]`, found '2' (line 1, column 4)"),
            ("[01]", "expected `,` or `]`, found '1' (line 1, column 3)"),
            ("[1.]", "[0]: expected a value, found ']' (line 1, column 4)"),
            (
                "[\"a\nb\"]",
                "[0]: control character in a string; write it as an escape such as \\n (line 1, column 4)",
            ),
            ("[\"\\x\"]", "[0]: invalid escape in a string (line 1, column 4)"),
            ("[\"\\ud800\"]", "[0]: invalid escape in a string (line 1, column 8)"),
            ("[tru]", "[0]: expected a value, found 't' (line 1, column 2)"),
            ("[] x", "expected the end of the text, found 'x' (line 1, column 4)"),
            ("[\"a", "[0]: the text ends where `\"` should follow (line 1, column 4)"),
        ] {
            let err = from_json(text, raw).unwrap_err().to_string();
            assert_eq!(err, message, "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = from_json(&deep, raw).unwrap_err().to_string();
        assert!(err.contains("nested more than 128 levels deep"), "{err}");
    }
}
