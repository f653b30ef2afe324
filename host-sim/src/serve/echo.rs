//! `host-sim echo`: a backend that answers every request with what it received, as one line of
//! JSON (its name, the method, path, authority, protocol, headers and body size), over HTTP/1.1
//! or HTTP/2 prior knowledge. It stands in for the Services behind `serve` in the quick start
//! and in the tests, where it shows the header edits that reached the backend.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::json;
use tokio::net::TcpListener;

/// Serves on `address` until the process is stopped; prints the bound address on stderr.
///
/// # Errors
///
/// When the address cannot be bound.
pub fn run(address: SocketAddr, name: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let name = name.to_owned();
    runtime.block_on(async move {
        let socket = TcpListener::bind(address)
            .await
            .with_context(|| format!("failed to listen on {address}"))?;
        eprintln!("echo: {name} listening on http://{}", socket.local_addr()?);
        loop {
            let Ok((stream, _)) = socket.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let name = name.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(name.clone(), request));
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

async fn answer(
    name: String,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (header, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(header.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    let authority = parts
        .uri
        .authority()
        .map(ToString::to_string)
        .or_else(|| headers.get("host").cloned());
    let line = json!({
        "name": name,
        "method": parts.method.as_str(),
        "path": parts.uri.path_and_query().map(ToString::to_string),
        "authority": authority,
        "protocol": format!("{:?}", parts.version),
        "headers": headers,
        "body_bytes": body.len(),
    });
    let mut response = hyper::Response::new(Full::new(Bytes::from(format!("{line}\n"))));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}
