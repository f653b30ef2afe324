//! What the fuzz targets in `fuzz/` reach of the core beyond its public API: the configuration
//! reader's JSON tree and its integer reader, so they can be compared with `serde_json`.
//!
//! Compiled only with the `fuzzing` feature; the filter never builds it. The route-table oracle
//! is [`crate::baseline`], which the `fuzzing` feature turns on too.

pub use crate::config::json::JsonTree;
use crate::config::json::{self, JsonError};

/// Parses `bytes` as the configuration reader does, the whole tree built.
///
/// # Errors
///
/// The reader's error for text that is not one JSON value.
pub fn parse_json(bytes: &[u8]) -> Result<JsonTree, JsonError> {
    json::tree(bytes, usize::MAX)
}

/// Parses `bytes` building only the top `levels` of containers; deeper ones are checked and kept
/// as [`JsonTree::Raw`], as the plugin configuration's `resources` are.
///
/// # Errors
///
/// As [`parse_json`]: checking must refuse exactly what building refuses.
pub fn parse_json_levels(bytes: &[u8], levels: usize) -> Result<JsonTree, JsonError> {
    json::tree(bytes, levels)
}

/// Reads the number `text` as an integer field (a port, a weight) does: written as an integer,
/// from 0 to `u32::MAX`.
///
/// # Errors
///
/// The reader's message for anything else.
pub fn read_u32(text: &str) -> Result<u32, JsonError> {
    json::from_json(text, json::u32)
}
