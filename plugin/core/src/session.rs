//! Session persistence: a client that came back with its session token goes to the backend it
//! was given before (reference §6.3, experimental channel).
//!
//! The token names the backend by a hash of `namespace/name:port` (no service names reach
//! clients) and carries when the session was issued and last used, in Unix seconds:
//! `<hash>.<issued>.<last>`. The filter sends it back on every forwarded response (a cookie or a
//! header), so an idle timeout counts from the last request. A token that names no valid backend
//! of the rule, or has outlived a timeout, starts a new session by weight.

use crate::effect::HeaderEdits;
use crate::request::RequestView;

/// How the session token travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Carrier {
    /// `Set-Cookie` on responses, `Cookie` on requests.
    Cookie,
    /// The same header both ways.
    Header,
}

/// A rule's compiled `sessionPersistence`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Persistence {
    pub(crate) carrier: Carrier,
    /// Cookie name, or lowercase header name.
    pub(crate) name: String,
    pub(crate) absolute_secs: Option<u64>,
    pub(crate) idle_secs: Option<u64>,
    /// `Permanent` cookies carry `Max-Age` (the absolute timeout).
    pub(crate) permanent: bool,
    /// Cookie attributes in place of `Path=/` (ingress-nginx's path, `Max-Age`, `SameSite`).
    pub(crate) cookie_attributes: Option<Box<str>>,
}

/// A valid session from the request: the backend hash and when it was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) backend: u64,
    pub(crate) issued: u64,
}

impl Persistence {
    /// The session the request carries, when its token parses and has not expired.
    pub(crate) fn session(&self, request: &RequestView<'_>) -> Option<Session> {
        let token = match self.carrier {
            Carrier::Header => String::from_utf8_lossy(&request.header(&self.name)?).into_owned(),
            Carrier::Cookie => cookie(
                &String::from_utf8_lossy(&request.header("cookie")?),
                &self.name,
            )?
            .to_owned(),
        };
        let mut parts = token.split('.');
        let backend = u64::from_str_radix(parts.next()?, 16).ok()?;
        let issued: u64 = parts.next()?.parse().ok()?;
        let last: u64 = parts.next()?.parse().ok()?;
        if let Some(now) = request.now {
            let expired = |since: u64, limit: Option<u64>| {
                limit.is_some_and(|limit| now.saturating_sub(since) > limit)
            };
            if expired(issued, self.absolute_secs) || expired(last, self.idle_secs) {
                return None;
            }
        }
        Some(Session { backend, issued })
    }

    /// The response header that hands the client its (renewed) token.
    pub(crate) fn response_headers(
        &self,
        backend_key: &str,
        issued: Option<u64>,
        now: Option<u64>,
    ) -> HeaderEdits {
        let now = now.unwrap_or(0);
        let token = format!(
            "{:016x}.{}.{now}",
            backend_hash(backend_key),
            issued.unwrap_or(now)
        );
        match self.carrier {
            Carrier::Header => HeaderEdits {
                set: vec![(self.name.clone(), token)],
                ..HeaderEdits::default()
            },
            Carrier::Cookie => {
                let attributes = self.cookie_attributes.as_deref().unwrap_or("Path=/");
                let mut cookie = format!("{}={token}; {attributes}; HttpOnly", self.name);
                if let (true, Some(max_age)) = (self.permanent, self.absolute_secs) {
                    cookie.push_str(&format!("; Max-Age={max_age}"));
                }
                HeaderEdits {
                    add: vec![(String::from("set-cookie"), cookie)],
                    ..HeaderEdits::default()
                }
            }
        }
    }
}

/// FNV-1a of a backend's `namespace/name:port`: stable across proxies and configurations.
pub(crate) fn backend_hash(key: &str) -> u64 {
    crate::fnv::hash(key.as_bytes())
}

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`).
pub(crate) fn cookie<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header
        .split([';', ','])
        .map(str::trim)
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{backend_hash, cookie, Carrier, Persistence, Session};
    use crate::RequestView;

    const COOKIE: Persistence = Persistence {
        carrier: Carrier::Cookie,
        name: String::new(),
        absolute_secs: Some(100),
        idle_secs: Some(10),
        permanent: true,
        cookie_attributes: None,
    };

    fn with_cookie(value: &str) -> Vec<(&'static str, &[u8])> {
        vec![(":path", b"/"), ("cookie", value.as_bytes())]
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        assert_eq!(cookie("a=1; sess=x.1.2; b=3", "sess"), Some("x.1.2"));
        assert_eq!(cookie("session=1", "sess"), None);
    }

    #[test]
    fn tokens_expire_by_absolute_and_idle_timeouts() {
        let p = Persistence {
            name: String::from("s"),
            ..COOKIE
        };
        let hash = backend_hash("app/v2:80");
        let value = format!("s={hash:016x}.1000.1095");
        let h = with_cookie(&value);
        let at = |now| RequestView {
            now: Some(now),
            ..RequestView::new(&h, None)
        };
        assert_eq!(
            p.session(&at(1100)),
            Some(Session {
                backend: hash,
                issued: 1000
            })
        );
        assert_eq!(p.session(&at(1101)), None, "absolute timeout of 100 s");
        let value = format!("s={hash:016x}.1000.1050");
        let h = with_cookie(&value);
        assert_eq!(
            p.session(&RequestView {
                now: Some(1061),
                ..RequestView::new(&h, None)
            }),
            None,
            "idle for 11 s"
        );
    }

    #[test]
    fn permanent_cookies_carry_max_age() {
        let p = Persistence {
            name: String::from("s"),
            ..COOKIE
        };
        let edits = p.response_headers("app/v2:80", Some(5), Some(9));
        let want = format!(
            "s={:016x}.5.9; Path=/; HttpOnly; Max-Age=100",
            backend_hash("app/v2:80")
        );
        assert_eq!(edits.add, [(String::from("set-cookie"), want)]);
    }
}
