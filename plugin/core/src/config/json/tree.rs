//! JSON's grammar: a document's text to a tree of [`Value`]s that borrow from it, every
//! syntax error with its position and field path.
//!
//! Reading typed objects out of the tree is `read`'s job; this file never looks at keys.

use std::borrow::Cow;

use super::{error_at, At, JsonError};

/// Nesting deeper than this is refused, so that no input can exhaust the stack.
pub(super) const MAX_DEPTH: usize = 128;

/// One value of a parsed document, borrowing from its text.
#[derive(Debug)]
pub(super) struct Value<'t> {
    /// The value's text.
    pub(super) text: &'t str,
    /// Where that text starts in the document, for positions in messages.
    pub(super) start: usize,
    pub(super) kind: Kind<'t>,
}

#[derive(Debug)]
pub(super) enum Kind<'t> {
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
pub(super) fn parse(text: &str, keep_raw_from: usize) -> Result<Value<'_>, JsonError> {
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
pub(super) struct Parser<'t> {
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
