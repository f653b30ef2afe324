//! A small JSON reader that fills the configuration types field by field, straight from the text.
//!
//! There is no intermediate tree: each type reads the keys it knows as they come (the
//! `impl_from_json!` invocations next to the types list them), skips the rest, and records the names
//! of unknown ones. Every error carries the field path (`spec.rules[0].backendRefs[0].port`), the
//! offending value and the line and column. What the values mean is not checked here but in
//! [`crate::compile`]; this module knows JSON's grammar and the shape of the types only.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

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

/// A type the reader can fill from the value at the reader's position.
pub(crate) trait FromJson: Sized {
    /// Reads one value, which sits at `at`.
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError>;
}

/// Reads a whole document into `T`: one value and nothing after it but whitespace.
pub(crate) fn from_json<T: FromJson>(text: &str) -> Result<T, JsonError> {
    let mut json = Json::new(text);
    let value = T::read(&mut json, At::Root)?;
    json.end()?;
    Ok(value)
}

/// [`from_json`] for bytes, which must be UTF-8 text.
pub(crate) fn from_json_bytes<T: FromJson>(bytes: &[u8]) -> Result<T, JsonError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => from_json(text),
        Err(err) => {
            let valid = bytes
                .get(..err.valid_up_to())
                .and_then(|valid| std::str::from_utf8(valid).ok())
                .unwrap_or_default();
            Err(Json::new(valid).error_at(
                valid.len(),
                At::Root,
                "invalid UTF-8; the text must be UTF-8".to_owned(),
            ))
        }
    }
}

/// A position in a JSON text.
pub(crate) struct Json<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
}

impl<'t> Json<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        Self {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
        bytes.get(self.pos).copied()
    }

    /// Whether the next value starts with `byte` (`{` for an object, `"` for a string...).
    pub(crate) fn next_is(&mut self, byte: u8) -> bool {
        self.peek() == Some(byte)
    }

    /// Consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    /// An error at byte `pos` of the text.
    fn error_at(&self, pos: usize, at: At<'_>, message: String) -> JsonError {
        let pos = pos.min(self.text.len());
        let before = self.text.as_bytes().get(..pos).unwrap_or_default();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        JsonError {
            path: at.to_string(),
            message,
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: 1 + pos - line_start,
        }
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
        self.error_at(self.pos, at, message)
    }

    /// The value at the current position has the wrong type: names it and what was expected.
    fn invalid_type(&mut self, at: At<'_>, expected: &str) -> JsonError {
        let next = self.peek();
        let start = self.pos;
        let found = match next {
            Some(b'{') => "map".to_owned(),
            Some(b'[') => "sequence".to_owned(),
            Some(b'"') => match self.string(at) {
                Ok(text) => format!("string {text:?}"),
                Err(err) => return err,
            },
            Some(b't' | b'f' | b'n') => match self.skip(at) {
                Ok("null") => "null".to_owned(),
                Ok(literal) => format!("boolean `{literal}`"),
                Err(err) => return err,
            },
            _ => match self.number(at) {
                Ok(number) if number.contains(['.', 'e', 'E']) => {
                    format!("floating point `{number}`")
                }
                Ok(number) => format!("integer `{number}`"),
                Err(err) => return err,
            },
        };
        self.error_at(
            start,
            at,
            format!("invalid type: {found}, expected {expected}"),
        )
    }

    /// Fails unless only whitespace is left.
    fn end(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.syntax(At::Root, "the end of the text")),
        }
    }

    /// Consumes `null` if it comes next.
    pub(crate) fn null(&mut self) -> Result<bool, JsonError> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(At::Root, "null")?;
        Ok(true)
    }

    fn literal(&mut self, at: At<'_>, word: &str) -> Result<(), JsonError> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        if !rest.starts_with(word) {
            return Err(self.syntax(at, "a value"));
        }
        self.pos += word.len();
        Ok(())
    }

    /// Reads an object, calling `field` for each key with the reader on its value; `field` must
    /// consume that value.
    pub(crate) fn object(
        &mut self,
        at: At<'_>,
        field: &mut dyn FnMut(&mut Self, &str, At<'_>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        if self.peek() != Some(b'{') {
            return Err(self.invalid_type(at, "an object"));
        }
        self.nest(at, b'}', &mut |json| {
            if json.peek() != Some(b'"') {
                return Err(json.syntax(at, "a key in double quotes"));
            }
            let key = json.string(at)?;
            if !json.eat(b':') {
                return Err(json.syntax(at, "`:`"));
            }
            field(json, &key, At::Field(&at, &key))
        })
    }

    /// Reads an array, calling `item` with the reader on each element; `item` must consume it.
    pub(crate) fn array(
        &mut self,
        at: At<'_>,
        item: &mut dyn FnMut(&mut Self, At<'_>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        if self.peek() != Some(b'[') {
            return Err(self.invalid_type(at, "a sequence"));
        }
        let mut index = 0;
        self.nest(at, b']', &mut |json| {
            item(json, At::Index(&at, index))?;
            index += 1;
            Ok(())
        })
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
            return Err(self.error_at(
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

    /// Reads a string, borrowed from the text unless it has escapes.
    pub(crate) fn string(&mut self, at: At<'_>) -> Result<Cow<'t, str>, JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid_type(at, "a string"));
        }
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
            let mut chars = rest.chars();
            match chars.next() {
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
        self.error_at(
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
        self.error_at(
            self.pos.saturating_sub(1),
            at,
            "invalid escape in a string".to_owned(),
        )
    }

    /// Reads a string, or skips a value of another type and returns `None`.
    pub(crate) fn string_or_skip(&mut self, at: At<'_>) -> Result<Option<String>, JsonError> {
        if self.next_is(b'"') {
            return self.string(at).map(|text| Some(text.into_owned()));
        }
        self.skip(at)?;
        Ok(None)
    }

    /// Reads a number and returns its text as written.
    pub(crate) fn number(&mut self, at: At<'_>) -> Result<&'t str, JsonError> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let digits = |pos: &mut usize| {
            let first = *pos;
            while bytes.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            *pos > first
        };
        let mut pos = start;
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
        if !valid {
            self.pos = pos;
            return Err(self.syntax(at, "a value"));
        }
        self.pos = pos;
        Ok(self.text.get(start..pos).unwrap_or_default())
    }

    /// Reads a whole number from 0 to `u32::MAX`. Unless `lenient`, it must be written as an
    /// integer; leniently, any number with an integral value is accepted (`8080.0`, `8.08e3`).
    pub(crate) fn whole_number(&mut self, at: At<'_>, lenient: bool) -> Result<u32, JsonError> {
        let next = self.peek();
        let start = self.pos;
        if !matches!(next, Some(b'-' | b'0'..=b'9')) {
            return Err(self.invalid_type(at, "a non-negative integer"));
        }
        let number = self.number(at)?;
        if !lenient && number.contains(['.', 'e', 'E']) {
            self.pos = start;
            return Err(self.invalid_type(at, "an integer"));
        }
        whole_value(number).map_err(|problem| {
            let message = match problem {
                NotWhole::TooLarge => format!("{number} is too large"),
                NotWhole::Negative | NotWhole::Fraction => {
                    format!("expected a non-negative integer, found {number}")
                }
            };
            self.error_at(start, at, message)
        })
    }

    /// Consumes one value of any kind, checking its grammar, and returns its text.
    pub(crate) fn skip(&mut self, at: At<'_>) -> Result<&'t str, JsonError> {
        let start = match self.peek() {
            Some(_) => self.pos,
            None => return Err(self.syntax(at, "a value")),
        };
        match self.peek() {
            Some(b'{') => self.object(at, &mut |json, _, at| json.skip(at).map(drop))?,
            Some(b'[') => self.array(at, &mut |json, at| json.skip(at).map(drop))?,
            Some(b'"') => {
                self.string(at)?;
            }
            Some(b't') => self.literal(at, "true")?,
            Some(b'f') => self.literal(at, "false")?,
            Some(b'n') => self.literal(at, "null")?,
            _ => {
                self.number(at)?;
            }
        }
        Ok(self.text.get(start..self.pos).unwrap_or_default())
    }

    /// Skips the value of a key the type does not know, and records the key.
    pub(crate) fn unknown(
        &mut self,
        key: &str,
        at: At<'_>,
        unknown: &mut Unknown,
    ) -> Result<(), JsonError> {
        self.skip(at)?;
        unknown.insert(key.to_owned());
        Ok(())
    }
}

/// Why a number is not a whole number in `u32`'s range.
enum NotWhole {
    Negative,
    Fraction,
    TooLarge,
}

/// The value of a JSON number's text (already checked against the grammar), when it is a whole
/// number from 0 to `u32::MAX`; exact for any spelling, without going through floating point.
fn whole_value(number: &str) -> Result<u32, NotWhole> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = unsigned.split_once(['e', 'E']).unwrap_or((unsigned, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // An exponent too long to parse is far out of range either way.
    let exponent: i64 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    });
    let digits: String = whole.chars().chain(fraction.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    if negative {
        return Err(NotWhole::Negative);
    }
    let fraction_len = i64::try_from(fraction.len()).unwrap_or(i64::MAX);
    let shift = exponent.saturating_sub(fraction_len);
    let digits = match usize::try_from(shift.unsigned_abs()) {
        Ok(dropped_len) if shift < 0 => {
            let keep = digits
                .len()
                .checked_sub(dropped_len)
                .ok_or(NotWhole::Fraction)?;
            let (kept, dropped) = digits.split_at_checked(keep).ok_or(NotWhole::Fraction)?;
            if !dropped.bytes().all(|b| b == b'0') {
                return Err(NotWhole::Fraction);
            }
            Cow::Borrowed(kept)
        }
        Ok(zeros) if zeros <= 10 => Cow::Owned(format!("{digits}{}", "0".repeat(zeros))),
        _ if shift < 0 => return Err(NotWhole::Fraction),
        _ => return Err(NotWhole::TooLarge),
    };
    if digits.len() > 10 {
        return Err(NotWhole::TooLarge);
    }
    digits.parse().map_err(|_| NotWhole::TooLarge)
}

/// `path: `, or nothing for the document itself.
pub(crate) fn field_prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// [`FromJson::read`] kept out of line: the readers of all the structs share one copy per
/// field type instead of each inlining it.
#[inline(never)]
pub(crate) fn read_field<T: FromJson>(
    slot: &mut T,
    json: &mut Json<'_>,
    at: At<'_>,
) -> Result<(), JsonError> {
    *slot = T::read(json, at)?;
    Ok(())
}

// === impl FromJson for the value types the configuration uses ===

impl FromJson for String {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        json.string(at).map(Cow::into_owned)
    }
}

impl FromJson for bool {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        match json.peek() {
            Some(b't') => json.literal(at, "true").map(|()| true),
            Some(b'f') => json.literal(at, "false").map(|()| false),
            _ => Err(json.invalid_type(at, "a boolean")),
        }
    }
}

impl FromJson for u32 {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        json.whole_number(at, false)
    }
}

impl FromJson for RawJson {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        json.skip(at).map(|text| Self(text.into()))
    }
}

/// `null` reads as `None`, like an absent field.
impl<T: FromJson> FromJson for Option<T> {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        if json.null()? {
            return Ok(None);
        }
        T::read(json, at).map(Some)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        let mut items = Vec::new();
        json.array(at, &mut |json, at| {
            items.push(T::read(json, at)?);
            Ok(())
        })?;
        Ok(items)
    }
}

impl FromJson for BTreeMap<String, String> {
    fn read(json: &mut Json<'_>, at: At<'_>) -> Result<Self, JsonError> {
        let mut map = BTreeMap::new();
        json.object(at, &mut |json, key, at| {
            map.insert(key.to_owned(), String::read(json, at)?);
            Ok(())
        })?;
        Ok(map)
    }
}

/// Implements [`FromJson`] for a configuration struct (which must implement `Default`): each
/// `"key" => field` reads that key into that field with the field type's [`FromJson`], or with
/// `"key" => field (reader)` through `reader(json, at)`. `Type, unknown: field { ... }` names the
/// [`Unknown`] field that records keys not listed; without it they are skipped silently. Absent
/// keys keep the field's default.
macro_rules! impl_from_json {
    ($type:ty $(, unknown: $unknown:ident)? { $($key:literal => $field:ident $(($reader:path))?),* $(,)? }) => {
        impl $crate::config::json::FromJson for $type {
            fn read(
                json: &mut $crate::config::json::Json<'_>,
                at: $crate::config::json::At<'_>,
            ) -> Result<Self, $crate::config::json::JsonError> {
                let mut out = Self::default();
                json.object(at, &mut |json, key, at| {
                    match key {
                        $($key => $crate::config::json::impl_from_json!(@read json, at, out.$field $(, $reader)?),)*
                        _ => $crate::config::json::impl_from_json!(@rest json, key, at, out $(, $unknown)?),
                    }
                    Ok(())
                })?;
                Ok(out)
            }
        }
    };
    (@read $json:ident, $at:ident, $slot:expr) => { $crate::config::json::read_field(&mut $slot, $json, $at)? };
    (@read $json:ident, $at:ident, $slot:expr, $reader:path) => { $slot = $reader($json, $at)? };
    (@rest $json:ident, $key:ident, $at:ident, $out:ident) => {{ $json.skip($at)?; }};
    (@rest $json:ident, $key:ident, $at:ident, $out:ident, $unknown:ident) => {
        $json.unknown($key, $at, &mut $out.$unknown)?
    };
}
pub(crate) use impl_from_json;

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{from_json, RawJson};

    #[test]
    fn values_of_every_kind_are_read() {
        assert_eq!(
            from_json::<String>(r#" "a\"b\u00e9\ud83d\ude00" "#).unwrap(),
            "a\"bé😀"
        );
        assert_eq!(from_json::<Vec<u32>>("[1, 2 ,3]").unwrap(), vec![1, 2, 3]);
        assert_eq!(from_json::<Option<bool>>("null").unwrap(), None);
        assert_eq!(from_json::<Option<bool>>("true").unwrap(), Some(true));
        let raw = from_json::<Vec<RawJson>>(r#"[{"a": [1, {"b": null}]}, -1.5e3]"#).unwrap();
        assert_eq!(raw[0].get(), r#"{"a": [1, {"b": null}]}"#);
        assert_eq!(raw[1].get(), "-1.5e3");
    }

    #[test]
    fn type_errors_name_the_path_the_value_and_the_position() {
        let err = from_json::<Vec<Vec<String>>>("[[\"a\"],\n [\"b\", 3.5]]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "[1][1]: invalid type: floating point `3.5`, expected a string (line 2, column 8)"
        );
        let err = from_json::<Vec<u32>>("[-1]").unwrap_err().to_string();
        assert_eq!(
            err,
            "[0]: expected a non-negative integer, found -1 (line 1, column 2)"
        );
        let err = from_json::<u32>("80.0").unwrap_err().to_string();
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
            let err = from_json::<Vec<RawJson>>(text).unwrap_err().to_string();
            assert_eq!(err, message, "{text:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = from_json::<RawJson>(&deep).unwrap_err().to_string();
        assert!(err.contains("nested more than 128 levels deep"), "{err}");
    }
}
