//! Building a simulated HTTP request from what a user types: `METHOD URL` plus headers.
//!
//! The URL gives `:scheme`, `:authority` (port kept, as a client sends it) and `:path` (query
//! kept); the listener port defaults to the URL's port, else 80 for http and 443 for https.
//! Header names are lowercased, as Envoy's codecs deliver them.

use anyhow::{bail, Result};

use crate::envoy::HttpRequest;

/// A request as the user describes it.
#[derive(Clone, Debug, Default)]
pub struct RequestSpec {
    /// `GET` unless given.
    pub method: String,
    /// `scheme://host[:port]/path?query`.
    pub url: String,
    /// Listener port; derived from the URL when absent.
    pub port: Option<u16>,
    /// Extra headers in order; repeats allowed.
    pub headers: Vec<(String, String)>,
    /// Headers the simulated backend answers with (`:status: 200` is added).
    pub response_headers: Vec<(String, String)>,
    /// TLS SNI the client sent (Envoy's `connection.requested_server_name`).
    pub sni: Option<String>,
    /// Request body; `None` means the headers end the request.
    pub body: Option<String>,
    /// The client's address (Envoy's `source.address`); [`DEFAULT_CLIENT`] when absent.
    pub client: Option<String>,
}

/// The client address of simulated requests unless one is given: a host on the proxy's own
/// network, as a request from a laptop or a test pod would come.
pub const DEFAULT_CLIENT: &str = "10.0.0.10";

impl RequestSpec {
    /// The simulated request Envoy would hand the filter.
    ///
    /// # Errors
    ///
    /// When the URL is not `http://` or `https://` with a host.
    pub fn build(&self) -> Result<HttpRequest> {
        let (scheme, rest) = match self.url.split_once("://") {
            Some((scheme @ ("http" | "https"), rest)) => (scheme, rest),
            _ => bail!(
                "request URL {:?} must start with http:// or https://",
                self.url
            ),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_owned()),
            Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
            None => (rest, String::from("/")),
        };
        if authority.is_empty() {
            bail!("request URL {:?} has no host", self.url);
        }
        let url_port = authority
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok());
        let port = self
            .port
            .or(url_port)
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let method = if self.method.is_empty() {
            "GET"
        } else {
            self.method.as_str()
        };
        let mut headers = vec![
            (":method".to_owned(), method.as_bytes().to_vec()),
            (":scheme".to_owned(), scheme.as_bytes().to_vec()),
            (":authority".to_owned(), authority.as_bytes().to_vec()),
            (":path".to_owned(), path.into_bytes()),
        ];
        headers.extend(
            self.headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec())),
        );
        let response_headers = std::iter::once((":status".to_owned(), b"200".to_vec()))
            .chain(
                self.response_headers
                    .iter()
                    .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec())),
            )
            .collect();
        let client = self.client.as_deref().unwrap_or(DEFAULT_CLIENT);
        let client: std::net::IpAddr = client
            .parse()
            .map_err(|_| anyhow::anyhow!("client {client:?} is not an IP address"))?;
        let properties = self
            .sni
            .iter()
            .map(|sni| {
                (
                    vec!["connection".to_owned(), "requested_server_name".to_owned()],
                    sni.as_bytes().to_vec(),
                )
            })
            .chain(std::iter::once((
                vec!["source".to_owned(), "address".to_owned()],
                std::net::SocketAddr::new(client, 40_000)
                    .to_string()
                    .into_bytes(),
            )))
            .collect();
        Ok(HttpRequest {
            headers,
            destination_port: Some(port),
            response_headers,
            properties,
            body: self.body.as_ref().map(|b| b.as_bytes().to_vec()),
            ..HttpRequest::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::RequestSpec;

    fn pseudo(spec: &RequestSpec) -> (Vec<(String, String)>, Option<u16>) {
        let r = spec.build().unwrap();
        let headers = r
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        (headers, r.destination_port)
    }

    #[test]
    fn url_becomes_pseudo_headers_and_port() {
        let spec = RequestSpec {
            url: "https://App.example.com/api/v2?q=1".into(),
            headers: vec![("X-Canary".into(), "true".into())],
            ..Default::default()
        };
        let (headers, port) = pseudo(&spec);
        assert_eq!(port, Some(443));
        assert_eq!(headers[0], (":method".into(), "GET".into()));
        assert_eq!(headers[2], (":authority".into(), "App.example.com".into()));
        assert_eq!(headers[3], (":path".into(), "/api/v2?q=1".into()));
        assert_eq!(headers[4], ("x-canary".into(), "true".into()));
        let (headers, port) = pseudo(&RequestSpec {
            url: "http://foo.com:8080?x=1".into(),
            ..Default::default()
        });
        assert_eq!(port, Some(8080));
        assert_eq!(headers[3].1, "/?x=1");
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(RequestSpec {
            url: "ftp://x/".into(),
            ..Default::default()
        }
        .build()
        .is_err());
        assert!(RequestSpec {
            url: "http:///x".into(),
            ..Default::default()
        }
        .build()
        .is_err());
    }
}
