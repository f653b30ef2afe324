//! The configuration reader against `serde_json` as the oracle: for any bytes, both accept or
//! both refuse, and an accepted document is the same tree in both.
//!
//! Decisions pinned here (and by the reader's unit tests):
//! - numbers are kept as written; their value equals serde_json's exact parse, and an integer
//!   field reads a number written without `.`/`e` whose value is a whole number up to
//!   `u32::MAX` (`-0` reads as 0);
//! - numbers beyond `f64`'s range (`1e400`) are accepted, serde_json refuses them: the reader
//!   needs a number's value only for integer fields, which refuse it there;
//! - escapes, surrogate pairs and lone surrogates (refused) agree with serde_json;
//! - a key written twice keeps every entry, and fields read the last one, as serde_json's map;
//! - nesting: the reader takes 128 levels, serde_json 127.

#![no_main]

use std::collections::BTreeMap;

use gatewasm_core::fuzzing::{parse_json, parse_json_levels, read_u32, JsonTree};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let ours = parse_json(data);
    // `resources` are checked without being built, then read one at a time: checking refuses
    // exactly what building refuses.
    for levels in 0..3 {
        assert_eq!(
            parse_json_levels(data, levels).is_ok(),
            ours.is_ok(),
            "building {levels} levels disagrees with building all"
        );
    }
    match (ours, serde_json::from_slice::<Value>(data)) {
        (Ok(tree), Ok(value)) => same(&tree, &value),
        (Err(_), Err(_)) => {}
        (Ok(tree), Err(theirs)) => assert!(
            known_difference(&tree, &theirs.to_string()),
            "accepted what serde_json refuses ({theirs}): {tree:?}"
        ),
        (Err(ours), Ok(value)) => panic!("refused what serde_json accepts ({ours}): {value:?}"),
    }
});

/// Asserts that the reader's tree is serde_json's value.
fn same(tree: &JsonTree, value: &Value) {
    match (tree, value) {
        (JsonTree::Null, Value::Null) => {}
        (JsonTree::Bool(a), Value::Bool(b)) => assert_eq!(a, b),
        (JsonTree::String(a), Value::String(b)) => assert_eq!(a, b),
        (JsonTree::Number(text), Value::Number(number)) => same_number(text, number),
        (JsonTree::Array(items), Value::Array(values)) => {
            assert_eq!(items.len(), values.len());
            items.iter().zip(values).for_each(|(a, b)| same(a, b));
        }
        (JsonTree::Object(entries), Value::Object(map)) => {
            // The last entry of a repeated key is the one fields read.
            let last: BTreeMap<&str, &JsonTree> =
                entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
            assert_eq!(last.len(), map.len(), "keys differ: {last:?} / {map:?}");
            for (key, value) in map {
                let ours = last.get(key.as_str());
                assert!(ours.is_some(), "key {key:?} missing");
                if let Some(ours) = ours {
                    same(ours, value);
                }
            }
        }
        _ => panic!("different values: {tree:?} / {value:?}"),
    }
}

fn same_number(text: &str, number: &serde_json::Number) {
    let theirs = number.as_f64();
    let ours = text.parse::<f64>().ok();
    assert_eq!(ours, theirs, "number {text}");
    let integral = theirs.filter(|v| {
        !text.contains(['.', 'e', 'E'])
            && v.fract() == 0.0
            && *v >= 0.0
            && *v <= f64::from(u32::MAX)
    });
    match (read_u32(text), integral) {
        (Ok(read), Some(value)) => assert_eq!(f64::from(read), value, "number {text}"),
        (Err(_), None) => {}
        (read, value) => panic!("integer field reads {text} as {read:?}, its value is {value:?}"),
    }
}

/// serde_json refuses what the reader accepts on purpose: a number beyond `f64`, or 128 levels.
fn known_difference(tree: &JsonTree, theirs: &str) -> bool {
    (theirs.starts_with("number out of range") && has_huge_number(tree))
        || (theirs.starts_with("recursion limit exceeded") && depth(tree) == 128)
}

fn has_huge_number(tree: &JsonTree) -> bool {
    match tree {
        JsonTree::Number(text) => text.parse::<f64>().is_ok_and(f64::is_infinite),
        JsonTree::Array(items) => items.iter().any(has_huge_number),
        JsonTree::Object(entries) => entries.iter().any(|(_, v)| has_huge_number(v)),
        _ => false,
    }
}

fn depth(tree: &JsonTree) -> usize {
    match tree {
        JsonTree::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        JsonTree::Object(entries) => 1 + entries.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}
