//! A small JSON reader for the configuration: text to a tree of values, then typed objects.
//!
//! A document is parsed into a tree that borrows from the text (`tree`, the grammar), and each
//! configuration type reads its fields from it by key with the helpers of `read` (called by the
//! `read` functions next to the types), which remember the entries they were asked for so that
//! the others can be reported as unknown. Every error carries the field path
//! (`spec.rules[0].backendRefs[0].port`), the offending value, and the line and column. What the values mean is not checked here but in
//! [`crate::compile`]; this module knows JSON's grammar and the shape of the types only.

mod read;
mod tree;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fmt;

pub(crate) use read::{bool, raw, string_map, strings, u32, Node};
use tree::{parse, Value, MAX_DEPTH};

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

/// A JSON document as the configuration reader sees it (the fuzz targets compare it with
/// `serde_json`'s, through `crate::fuzzing`).
#[cfg(feature = "fuzzing")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonTree {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, exactly as written: the reader works out a value only when a field needs one.
    Number(String),
    /// A string, escapes resolved.
    String(String),
    /// An array.
    Array(Vec<JsonTree>),
    /// An object's entries in written order, repeated keys included (a field reads the last).
    Object(Vec<(String, JsonTree)>),
    /// An object or array below the depth the document was parsed to, checked and kept as text.
    Raw(String),
}

/// Parses a whole document (UTF-8 bytes) into a plain tree, for comparing the reader with
/// another JSON implementation; `keep_raw_from` as in [`from_json_bytes`].
#[cfg(feature = "fuzzing")]
pub(crate) fn tree(bytes: &[u8], keep_raw_from: usize) -> Result<JsonTree, JsonError> {
    fn convert(value: &Value<'_>) -> JsonTree {
        use tree::Kind;
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

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::from_json;
    use super::read::{bool, raw, string, strings, u32, Node};

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
