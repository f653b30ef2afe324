//! The compact form of the plugin configuration: the plain JSON compressed with zlib and carried
//! as base64 inside a small JSON object, so that large route sets fit in a Kubernetes object.
//!
//! ```json
//! {"compressed": "zlib", "size": 1694139, "data": "eNrtfWt..."}
//! ```
//!
//! `size` is the byte length of the plain JSON: the filter allocates exactly that once (linear
//! memory never shrinks, so no buffer is grown by doubling) and refuses a size above
//! [`MAX_EXPANDED`] before allocating anything. zlib's Adler-32 checksum and the size together
//! catch a damaged or truncated `data`. Producing the compact form is `host-sim config`'s job;
//! reading the plain JSON that comes out is [`super::parse`]'s.

use super::json::Node;
use super::parse::ConfigError;

/// The one compression format the filter reads (`compressed`).
pub const COMPRESSED_FORMAT: &str = "zlib";

/// The largest plain configuration a compact one may expand to: 64 MiB, about 370,000 rules of
/// `host-sim bench`'s route sets and far above what a proxy's memory serves.
pub const MAX_EXPANDED: u32 = 64 << 20;

/// What to do when a compact configuration cannot be read.
const FIX: &str = "write it again with `host-sim config --compact`";

/// A compact configuration as written, before it is expanded.
pub(crate) struct Compact {
    format: String,
    size: Option<u32>,
    data: String,
    /// A field beside the three above: the plain fields must be inside `data`.
    stray: Option<String>,
}

impl Compact {
    /// Whether the configuration object is the compact form (it has `compressed`).
    pub(crate) fn is_compact(node: Node<'_, '_>) -> bool {
        node.get("compressed").is_some()
    }

    pub(crate) fn read(node: Node<'_, '_>) -> Self {
        let mut fields = node.object();
        Self {
            format: fields.string("compressed"),
            size: fields.opt_u32("size"),
            data: fields.string("data"),
            stray: fields.unknown().into_iter().next(),
        }
    }

    /// The plain JSON the compact form carries.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Compact`] naming the field: an unknown format, a missing or too large
    /// `size`, `data` that is not base64 or not zlib, a checksum or a length that does not match,
    /// or a field beside the three the compact form has.
    pub(crate) fn expand(&self) -> Result<Vec<u8>, ConfigError> {
        if let Some(field) = &self.stray {
            return Err(compact_error(
                field,
                "a compressed configuration carries every field inside data; \
                 compress the whole plain configuration"
                    .to_owned(),
            ));
        }
        if self.format != COMPRESSED_FORMAT {
            return Err(compact_error(
                "compressed",
                format!(
                    "{:?} is not a format this filter reads (only {COMPRESSED_FORMAT:?})",
                    self.format
                ),
            ));
        }
        let size = match self.size {
            None => {
                return Err(compact_error(
                    "size",
                    "missing: the plain configuration's length in bytes".to_owned(),
                ))
            }
            Some(size) if size > MAX_EXPANDED => {
                return Err(compact_error(
                    "size",
                    format!("{size} bytes is more than the {MAX_EXPANDED} a filter expands"),
                ))
            }
            Some(size) => size as usize,
        };
        let zlib = base64_decode(self.data.as_bytes()).map_err(|at| {
            compact_error(
                "data",
                format!("not base64: an unexpected character at offset {at}"),
            )
        })?;
        let mut plain = Vec::new();
        if plain.try_reserve_exact(size).is_err() {
            return Err(compact_error(
                "size",
                format!("{size} bytes cannot be allocated"),
            ));
        }
        plain.resize(size, 0);
        let written = miniz_oxide::inflate::decompress_slice_iter_to_slice(
            &mut plain,
            std::iter::once(zlib.as_slice()),
            true,
            false,
        )
        .map_err(|status| {
            compact_error(
                "data",
                format!(
                    "not zlib data of at most {size} bytes, or damaged ({status:?}); \
                     the base64 text may have been cut or changed"
                ),
            )
        })?;
        if written != size {
            return Err(compact_error(
                "size",
                format!("{size}, but data expands to {written} bytes"),
            ));
        }
        Ok(plain)
    }
}

fn compact_error(field: &str, mut problem: String) -> ConfigError {
    problem.push_str("; ");
    problem.push_str(FIX);
    ConfigError::Compact {
        field: field.to_owned(),
        problem,
    }
}

/// Decodes standard base64 (`+`, `/`, `=` padding optional); ASCII whitespace is skipped, since
/// YAML tools may fold a long string. The error is the offset of the first other character.
fn base64_decode(text: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut bits, mut count) = (0u32, 0u32);
    let mut padding = false;
    for (at, &c) in text.iter().enumerate() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            c if c.is_ascii_whitespace() => continue,
            _ => return Err(at),
        };
        if padding {
            return Err(at);
        }
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{base64_decode, MAX_EXPANDED};
    use crate::PluginConfig;

    /// `{"gateway":"infra/gw"}` compressed with zlib (level 9), and its base64.
    const ZLIB: &str = "eNqrVkpPLEktT6xUslLKzEsrStRPL1eqBQBabAfK";

    fn compact(size: &str, data: &str) -> String {
        format!(r#"{{"compressed": "zlib", "size": {size}, "data": "{data}"}}"#)
    }

    #[test]
    fn base64_reads_the_standard_alphabet_with_or_without_padding() {
        assert_eq!(base64_decode(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode(b"aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode(b"aGVs\n bG8=").unwrap(), b"hello");
        assert_eq!(base64_decode(b"+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64_decode(b"aGV*bG8="), Err(3));
        assert_eq!(base64_decode(b"aG=Vs"), Err(3));
    }

    #[test]
    fn a_compact_configuration_reads_as_its_plain_form() {
        let config = PluginConfig::parse(compact("22", ZLIB).as_bytes()).unwrap();
        assert_eq!(config.gateway.as_deref(), Some("infra/gw"));
        // Istio hands numbers over as doubles.
        let config = PluginConfig::parse(compact("2.2e1", ZLIB).as_bytes()).unwrap();
        assert_eq!(config.gateway.as_deref(), Some("infra/gw"));
    }

    #[test]
    fn damage_is_named_with_its_field_and_the_fix() {
        let err = |text: String| {
            PluginConfig::parse(text.as_bytes())
                .unwrap_err()
                .to_string()
        };
        let cut = &ZLIB[..ZLIB.len() - 8];
        assert_eq!(
            err(compact("22", cut)),
            "configuration: data: not zlib data of at most 22 bytes, or damaged \
             (FailedCannotMakeProgress); the base64 text may have been cut or changed; \
             write it again with `host-sim config --compact`"
        );
        let changed = ZLIB.replace("StRPL", "StRPM");
        assert!(err(compact("22", &changed)).starts_with("configuration: data: not zlib"));
        assert_eq!(
            err(compact("23", ZLIB)),
            "configuration: size: 23, but data expands to 22 bytes; \
             write it again with `host-sim config --compact`"
        );
        assert!(err(compact("21", ZLIB))
            .starts_with("configuration: data: not zlib data of at most 21"));
        assert!(err(compact("22", "eNq!"))
            .contains("data: not base64: an unexpected character at offset 3"));
        assert!(
            err(compact(&(u64::from(MAX_EXPANDED) + 1).to_string(), ZLIB))
                .contains("size: 67108865 bytes is more than the 67108864 a filter expands")
        );
        let zstd = compact("22", ZLIB).replace("zlib", "zstd");
        assert!(err(zstd)
            .contains(r#"compressed: "zstd" is not a format this filter reads (only "zlib")"#));
        let stray = compact("22", ZLIB).replace('{', r#"{"gateway": "infra/gw", "#);
        assert!(
            err(stray).starts_with("configuration: gateway: a compressed configuration carries")
        );
        let no_size = format!(r#"{{"compressed": "zlib", "data": "{ZLIB}"}}"#);
        assert!(err(no_size).starts_with("configuration: size: missing"));
    }
}
