//! Check requests and verdicts against hand-encoded protobuf bytes and HTTP answers.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use super::{AuthAnswer, CheckRequest, Verdict, DENIED, FAILED};
use crate::decision::Action;
use crate::effect::HeaderEdits;
use crate::{compile_bytes, RequestView, RouteTable};

/// A table whose one rule has `externalAuth` (JSON) and forwards to app/web:8080.
fn table(external_auth: &str) -> RouteTable {
    let config = format!(
        r#"{{"gateway": "infra/gw", "resources": [
          {{"kind": "Gateway", "metadata": {{"name": "gw", "namespace": "infra"}},
            "spec": {{"listeners": [{{"name": "http", "port": 80, "protocol": "HTTP", "allowedRoutes": {{"namespaces": {{"from": "All"}}}}}}]}}}},
          {{"kind": "HTTPRoute", "metadata": {{"name": "r", "namespace": "app"}},
            "spec": {{"parentRefs": [{{"name": "gw", "namespace": "infra"}}],
                      "rules": [{{"filters": [{{"type": "ExternalAuth", "externalAuth": {external_auth}}}],
                                  "backendRefs": [{{"name": "web", "port": 8080}}]}}]}}}}]}}"#
    );
    let compiled = compile_bytes(config.as_bytes()).unwrap();
    assert!(compiled.problems.is_empty(), "{:?}", compiled.problems);
    compiled.table
}

fn headers() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (":authority", b"h"),
        (":path", b"/p"),
        (":method", b"GET"),
        (":scheme", b"http"),
        ("x-a", b"1"),
        ("x-b", b"2"),
        ("authorization", b"Bearer t"),
    ]
}

/// Runs `f` with the auth step of the decision for [`headers`].
fn with_check(table: &RouteTable, f: impl FnOnce(&super::AuthCheck<'_>, &RequestView<'_>)) {
    let headers = headers();
    let request = RequestView::new(&headers, Some(80));
    let decision = table.decide(&request, 0);
    let Action::Forward(forward) = decision.action else {
        panic!("not forwarded: {decision:?}");
    };
    f(&forward.auth.unwrap(), &request);
}

const HTTP: &str = r#"{"protocol": "HTTP", "backendRef": {"name": "authz", "port": 9000},
    "http": {"path": "/check", "allowedHeaders": ["X-A"], "allowedResponseHeaders": ["x-user"]}}"#;
const GRPC: &str = r#"{"protocol": "GRPC", "backendRef": {"name": "authz", "port": 9001},
    "grpc": {"allowedHeaders": ["x-a"]}}"#;

#[test]
fn http_check_carries_the_fixed_headers_the_prefix_and_the_allowed_ones() {
    with_check(&table(HTTP), |check, request| {
        let CheckRequest::Http {
            headers: sent,
            body,
        } = check.request(request, b"ignored")
        else {
            panic!("not an HTTP check");
        };
        assert!(body.is_empty(), "no forwardBody, no body");
        let sent: Vec<(&str, &[u8])> = sent.iter().map(|(n, v)| (n.as_str(), &v[..])).collect();
        assert_eq!(
            sent,
            [
                (":method", &b"GET"[..]),
                (":path", b"/check/p"),
                (":authority", b"h"),
                ("content-length", b"0"),
                ("x-a", b"1"),
                ("authorization", b"Bearer t"),
            ]
        );
        assert_eq!(check.server.key, "app/authz:9000");
    });
}

#[test]
fn grpc_check_is_a_check_request_naming_the_cluster() {
    with_check(&table(GRPC), |check, request| {
        let CheckRequest::Grpc { service, message } = check.request(request, b"") else {
            panic!("not a gRPC check");
        };
        let cluster = b"outbound|9001||authz.app.svc.cluster.local";
        let mut want_service = vec![0x0a, cluster.len() as u8 + 2, 0x0a, cluster.len() as u8];
        want_service.extend_from_slice(cluster);
        assert_eq!(service.as_bytes(), want_service);
        // CheckRequest{attributes{request{http{method "GET", headers {"x-a": "1"}, path "/p",
        // host "h", scheme "http"}}}}
        let want: &[u8] = b"\x0a\x20\x22\x1e\x12\x1c\x12\x03GET\x1a\x08\x0a\x03x-a\x12\x011\x22\x02/p\x2a\x01h\x32\x04http";
        assert_eq!(message, want);
    });
}

#[test]
fn grpc_answers_allow_with_header_edits_or_deny_with_the_servers_reply() {
    with_check(&table(GRPC), |check, _| {
        // status {} ; ok_response {headers [{header {key "X-User" value "alice"}}],
        // headers_to_remove ["authorization"]}
        let ok =
            b"\x0a\x00\x1a\x22\x12\x11\x0a\x0f\x0a\x06X-User\x12\x05alice\x2a\x0dauthorization";
        let allow = check.verdict(AuthAnswer::Grpc {
            status: 0,
            message: ok,
        });
        assert_eq!(
            allow,
            Verdict::Allow(HeaderEdits {
                set: vec![("x-user".into(), "alice".into())],
                add: Vec::new(),
                remove: vec!["authorization".into()],
            })
        );
        // status {code 7} ; denied_response {status {code 401}, body "nope"}
        let denied = b"\x0a\x02\x08\x07\x12\x0b\x0a\x03\x08\x91\x03\x1a\x04nope";
        let Verdict::Deny(reply) = check.verdict(AuthAnswer::Grpc {
            status: 0,
            message: denied,
        }) else {
            panic!("not denied");
        };
        assert_eq!((reply.status, reply.details), (401, DENIED));
        assert_eq!(reply.body, b"nope");
        let fails = |status, message: &[u8]| {
            check.verdict(AuthAnswer::Grpc { status, message })
                == Verdict::Deny(super::AuthCheck::failure())
        };
        assert!(fails(14, ok), "a failed call fails closed");
        assert!(fails(0, b"\x0a\x05"), "an unreadable answer fails closed");
        assert!(!fails(0, ok));
    });
}

#[test]
fn http_answers_allow_on_200_deny_otherwise_and_fail_on_5xx() {
    with_check(&table(HTTP), |check, _| {
        let answer = |pairs: &[(&str, &str)]| -> Vec<(String, Vec<u8>)> {
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
                .collect()
        };
        let ok = answer(&[
            (":status", "200"),
            ("x-user", "bob"),
            ("x-other", "1"),
            ("content-length", "0"),
        ]);
        assert_eq!(
            check.verdict(AuthAnswer::Http {
                headers: &ok,
                body: b""
            }),
            Verdict::Allow(HeaderEdits {
                set: vec![("x-user".into(), "bob".into())],
                ..HeaderEdits::default()
            })
        );
        let no = answer(&[
            (":status", "401"),
            ("www-authenticate", "Bearer"),
            ("content-length", "2"),
        ]);
        let Verdict::Deny(reply) = check.verdict(AuthAnswer::Http {
            headers: &no,
            body: b"no",
        }) else {
            panic!("not denied");
        };
        assert_eq!((reply.status, reply.details), (401, DENIED));
        assert_eq!(
            reply.headers,
            [("www-authenticate".to_owned(), "Bearer".to_owned())]
        );
        assert_eq!(reply.body, b"no");
        for failed in [answer(&[(":status", "503")]), Vec::new()] {
            let Verdict::Deny(reply) = check.verdict(AuthAnswer::Http {
                headers: &failed,
                body: b"",
            }) else {
                panic!("not denied");
            };
            assert_eq!((reply.status, reply.details), (403, FAILED));
        }
    });
}

#[test]
fn forward_body_sends_at_most_max_size_bytes_with_their_length() {
    let http = r#"{"protocol": "HTTP", "backendRef": {"name": "authz", "port": 9000}, "http": {},
        "forwardBody": {"maxSize": 4}}"#;
    with_check(&table(http), |check, request| {
        assert_eq!(check.body_limit(), 4);
        let CheckRequest::Http { headers, body } = check.request(request, b"abcdefgh") else {
            panic!("not an HTTP check");
        };
        assert_eq!(body, b"abcd");
        assert!(headers.contains(&("content-length".to_owned(), b"4".to_vec())));
    });
    let grpc = r#"{"protocol": "GRPC", "backendRef": {"name": "authz", "port": 9001},
        "grpc": {"allowedHeaders": ["x-none"]}, "forwardBody": {"maxSize": 2}}"#;
    with_check(&table(grpc), |check, request| {
        let CheckRequest::Grpc { message, .. } = check.request(request, b"xyz") else {
            panic!("not a gRPC check");
        };
        // ... http {method "GET", path "/p", host "h", scheme "http", body "xy"}
        assert!(message.ends_with(b"\x32\x04http\x5a\x02xy"), "{message:?}");
    });
}

#[test]
fn grpc_headers_with_append_are_added_and_a_missing_status_means_ok() {
    with_check(&table(GRPC), |check, _| {
        // ok_response {headers [{header {key "a" value "b"}, append {value true}}]}
        let ok = b"\x1a\x0e\x12\x0c\x0a\x06\x0a\x01a\x12\x01b\x12\x02\x08\x01";
        assert_eq!(
            check.verdict(AuthAnswer::Grpc {
                status: 0,
                message: ok,
            }),
            Verdict::Allow(HeaderEdits {
                add: vec![("a".into(), "b".into())],
                ..HeaderEdits::default()
            })
        );
    });
}
