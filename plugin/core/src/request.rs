//! The request as the matcher sees it: pseudo-headers split out, Host normalised, headers and
//! query parameters looked up the way Envoy's router does.
//!
//! Everything is read from byte slices the caller owns; nothing here assumes UTF-8, so header
//! values with obs-text never fail a request (DESIGN.md, "Rules that keep it alive").

use std::borrow::Cow;

use crate::hostname::normalize_host;

/// Request header pairs as Envoy hands them over: lowercase names, raw value bytes, repeats kept,
/// pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`) included.
pub type HeaderPairs<'a> = [(&'a str, &'a [u8])];

/// Borrows header pairs held as owned names and values, the form tests and tools build.
pub fn borrow_pairs(pairs: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    pairs
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect()
}

/// One request, ready for matching.
#[derive(Debug)]
pub struct RequestView<'a> {
    /// `:method`.
    pub method: &'a [u8],
    /// `:scheme`, empty when absent.
    pub scheme: &'a [u8],
    /// `:authority` exactly as received.
    pub authority: &'a [u8],
    /// Host from `:authority`, port removed, lowercased.
    pub host: String,
    /// `:path` exactly as received, query included.
    pub full_path: &'a [u8],
    /// Path without query or fragment.
    pub path: &'a [u8],
    /// Query without the leading `?`, without fragment.
    pub query: &'a [u8],
    /// Port the request arrived on (Envoy's `destination.port`), when known.
    pub port: Option<u16>,
    /// Every header, pseudo-headers included.
    pub headers: &'a HeaderPairs<'a>,
    /// TLS SNI of the connection (Envoy's `connection.requested_server_name`), lowercased;
    /// `None` for plaintext or when unknown.
    pub sni: Option<String>,
    /// The time, in Unix seconds, when the caller knows it (session timeouts need it).
    pub now: Option<u64>,
    /// The client's address (Envoy's `source.address`), when the caller knows it (Ingress
    /// source ranges need it).
    pub client: Option<std::net::IpAddr>,
}

impl<'a> RequestView<'a> {
    /// Builds the view from Envoy's header pairs and the listener port.
    pub fn new(headers: &'a HeaderPairs<'a>, port: Option<u16>) -> Self {
        let pseudo = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(&[][..], |(_, v)| *v)
        };
        let authority = match pseudo(":authority") {
            [] => pseudo("host"),
            a => a,
        };
        let full_path = pseudo(":path");
        let without_fragment = split_at_byte(full_path, b'#').0;
        let (path, query) = split_at_byte(without_fragment, b'?');
        Self {
            method: pseudo(":method"),
            scheme: pseudo(":scheme"),
            authority,
            host: normalize_host(authority),
            full_path,
            path,
            query,
            port,
            headers,
            sni: None,
            now: None,
            client: None,
        }
    }

    /// The same request, on a TLS connection whose SNI was `sni` (empty means none).
    #[must_use]
    pub fn with_sni(mut self, sni: &[u8]) -> Self {
        self.sni = (!sni.is_empty()).then(|| String::from_utf8_lossy(sni).to_ascii_lowercase());
        self
    }

    /// The value of a header, repeated values joined with `,` as Envoy's router joins them
    /// (reference §3.3). `name` must be lowercase. Pseudo-headers are never returned.
    pub fn header(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| !n.starts_with(':') && n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v);
        let first = values.next()?;
        let Some(second) = values.next() else {
            return Some(Cow::Borrowed(first));
        };
        let mut joined = [first, second].join(&b","[..]);
        for value in values {
            joined.push(b',');
            joined.extend_from_slice(value);
        }
        Some(Cow::Owned(joined))
    }

    /// Whether this is a gRPC request (`content-type: application/grpc`, `+proto` and the like).
    pub fn is_grpc(&self) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.starts_with(b"application/grpc"))
    }

    /// The first value of a query parameter, percent-decoded; names compare exactly after
    /// decoding (reference §3.4).
    pub fn query_param(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        self.query
            .split(|&b| b == b'&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| split_at_byte(pair, b'='))
            .find(|(n, _)| percent_decode(n).as_ref() == name.as_bytes())
            .map(|(_, v)| percent_decode(v))
    }
}

/// Splits at the first `byte`, dropping it; the second part is empty when it is absent.
fn split_at_byte(bytes: &[u8], byte: u8) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == byte) {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &[]),
    }
}

/// Decodes `%XX` escapes; malformed escapes are kept literally.
fn percent_decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        let escaped = match tail {
            [hi, lo, ..] if b == b'%' => hex(*hi).zip(hex(*lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                rest = &tail[2..];
            }
            None => {
                out.push(b);
                rest = tail;
            }
        }
    }
    Cow::Owned(out)
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{percent_decode, RequestView};

    fn headers<'a>(pairs: &[(&'a str, &'a [u8])]) -> Vec<(&'a str, &'a [u8])> {
        pairs.to_vec()
    }

    #[test]
    fn pseudo_headers_are_split_out() {
        let h = headers(&[
            (":method", b"GET"),
            (":scheme", b"https"),
            (":authority", b"App.Example.com:8443"),
            (":path", b"/api/v2?q=1&x=%41#frag"),
        ]);
        let r = RequestView::new(&h, Some(443));
        assert_eq!(r.method, b"GET");
        assert_eq!(r.host, "app.example.com");
        assert_eq!(r.path, b"/api/v2");
        assert_eq!(r.query, b"q=1&x=%41");
        assert_eq!(r.full_path, b"/api/v2?q=1&x=%41#frag");
    }

    #[test]
    fn repeated_headers_are_joined_with_commas() {
        let h = headers(&[
            (":path", b"/"),
            ("x-a", b"1"),
            ("X-A", b"2"),
            ("x-b", b"\xff"),
            ("x-a", b"3"),
        ]);
        let r = RequestView::new(&h, None);
        assert_eq!(r.header("x-a").unwrap().as_ref(), b"1,2,3");
        assert_eq!(r.header("x-b").unwrap().as_ref(), b"\xff");
        assert!(r.header("x-c").is_none());
        assert!(r.header(":path").is_none());
    }

    #[test]
    fn query_params_first_value_decoded_and_case_sensitive() {
        let h = headers(&[(
            ":path",
            b"/?animal=whale&animal=dolphin&ANIMAL=Orca&sp%61ce=a%20b&flag",
        )]);
        let r = RequestView::new(&h, None);
        assert_eq!(r.query_param("animal").unwrap().as_ref(), b"whale");
        assert_eq!(r.query_param("ANIMAL").unwrap().as_ref(), b"Orca");
        assert_eq!(r.query_param("space").unwrap().as_ref(), b"a b");
        assert_eq!(r.query_param("flag").unwrap().as_ref(), b"");
        assert!(r.query_param("Animal").is_none());
    }

    #[test]
    fn malformed_escapes_stay_literal() {
        assert_eq!(percent_decode(b"100%").as_ref(), b"100%");
        assert_eq!(percent_decode(b"%zz%4").as_ref(), b"%zz%4");
        assert_eq!(percent_decode(b"%2F").as_ref(), b"/");
    }
}
