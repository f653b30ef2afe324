//! A minimal protocol-buffers wire codec: enough to write and read the few messages of Envoy's
//! `envoy.service.auth.v3.Authorization/Check` (reference §4.8) without a protobuf crate.
//!
//! Writing covers varints and length-delimited fields (strings, bytes, nested messages);
//! reading walks one message's fields and skips the wire types it does not need. Message
//! layouts (which field number means what) live with their users, in [`crate::auth`].

/// One field as read off the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// Wire type 0: an integer, bool or enum.
    Varint(u64),
    /// Wire type 2: a string, bytes or a nested message.
    Bytes(&'a [u8]),
    /// Wire types 1 and 5: fixed-width numbers, skipped.
    Fixed,
}

/// Appends a varint.
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-delimited field (string, bytes or an encoded message).
pub fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from(field) << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a varint field; zero is left out, as proto3 does for defaults.
pub fn put_varint(out: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        varint(out, u64::from(field) << 3);
        varint(out, value);
    }
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The fields of one message, in wire order; `None` when the bytes are not a valid message.
pub fn fields(message: &[u8]) -> Option<Vec<(u32, Field<'_>)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let key = read_varint(message, &mut at)?;
        let number = u32::try_from(key >> 3).ok()?;
        let field = match key & 7 {
            0 => Field::Varint(read_varint(message, &mut at)?),
            1 | 5 => {
                at += if key & 7 == 1 { 8 } else { 4 };
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(read_varint(message, &mut at)?).ok()?;
                let end = at.checked_add(len)?;
                let bytes = message.get(at..end)?;
                at = end;
                Field::Bytes(bytes)
            }
            _ => return None,
        };
        if at > message.len() {
            return None;
        }
        out.push((number, field));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{fields, put_bytes, put_varint, Field};

    #[test]
    fn writes_the_protobuf_wire_format() {
        // The encoding guide's own examples: field 1 = 150 is 08 96 01; field 2 = "testing".
        let mut out = Vec::new();
        put_varint(&mut out, 1, 150);
        put_bytes(&mut out, 2, b"testing");
        assert_eq!(out, b"\x08\x96\x01\x12\x07testing");
        let mut zero = Vec::new();
        put_varint(&mut zero, 1, 0);
        assert!(zero.is_empty());
    }

    #[test]
    fn reads_fields_and_skips_fixed_widths() {
        let message =
            b"\x08\x96\x01\x11\x01\x02\x03\x04\x05\x06\x07\x08\x1a\x02hi\x25\x00\x00\x00\x00";
        assert_eq!(
            fields(message),
            Some(vec![
                (1, Field::Varint(150)),
                (2, Field::Fixed),
                (3, Field::Bytes(b"hi")),
                (4, Field::Fixed),
            ])
        );
    }

    #[test]
    fn refuses_truncated_or_unknown_wire_types() {
        assert_eq!(fields(b"\x1a\x05hi"), None);
        assert_eq!(fields(b"\x08"), None);
        assert_eq!(fields(b"\x0b"), None); // wire type 3 (group)
        assert_eq!(fields(b"\x11\x01"), None);
        assert_eq!(fields(b""), Some(Vec::new()));
    }
}
