//! The listeners: each accepted connection is given to the next worker, as Envoy balances
//! connections across its workers, and served as HTTP/1.1 or HTTP/2 (prior knowledge, or ALPN
//! over TLS) by hyper. The admin listener answers `/stats`.

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::handler::{self, Connection, Listener};
use super::tls;
use super::worker::{Worker, Workers};
use super::{Body, Shared};
use crate::cli::ServeArgs;

/// Binds every listener (and the admin one), prints where each is, and starts accepting.
///
/// # Errors
///
/// When an address cannot be bound.
pub(super) async fn bind_all(
    args: &ServeArgs,
    shared: &Arc<Shared>,
    workers: &Arc<Workers>,
) -> Result<Vec<JoinHandle<Result<()>>>> {
    let mut tasks = Vec::new();
    for listen in &args.listeners {
        let socket = TcpListener::bind(listen.address)
            .await
            .with_context(|| format!("failed to listen on {}", listen.address))?;
        let bound = socket.local_addr()?;
        let listener = Listener {
            gateway_port: listen.gateway_port.unwrap_or(bound.port()),
            https: listen.tls.is_some(),
        };
        let scheme = if listener.https { "https" } else { "http" };
        eprintln!(
            "serve: listening on {scheme}://{bound} (Gateway port {})",
            listener.gateway_port
        );
        let tls = listen.tls.as_ref().map(tls::acceptor).transpose()?;
        let (shared, workers) = (Arc::clone(shared), Arc::clone(workers));
        tasks.push(tokio::spawn(accept(socket, listener, tls, shared, workers)));
    }
    if let Some(address) = args.admin {
        let socket = TcpListener::bind(address)
            .await
            .with_context(|| format!("failed to listen on {address} (--admin)"))?;
        eprintln!("serve: admin on http://{}/stats", socket.local_addr()?);
        tasks.push(tokio::spawn(admin(socket, Arc::clone(shared))));
    }
    Ok(tasks)
}

async fn accept(
    socket: TcpListener,
    listener: Listener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    workers: Arc<Workers>,
) -> Result<()> {
    loop {
        let Ok((stream, peer)) = socket.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let worker = workers.next();
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        tokio::spawn(async move {
            let Some(tls) = tls else {
                let connection = Connection { peer, sni: None };
                serve_connection(stream, listener, connection, shared, worker).await;
                return;
            };
            let Ok(stream) = tls.accept(stream).await else {
                return;
            };
            let sni = stream.get_ref().1.server_name().map(str::to_owned);
            let connection = Connection { peer, sni };
            serve_connection(stream, listener, connection, shared, worker).await;
        });
    }
}

/// HTTP/1.1 or HTTP/2 on one connection, every request through `worker`.
async fn serve_connection<S>(
    stream: S,
    listener: Listener,
    connection: Connection,
    shared: Arc<Shared>,
    worker: Worker,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        handler::handle(
            Arc::clone(&shared),
            worker.clone(),
            listener,
            connection.clone(),
            request,
        )
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// `GET /stats` (text) and `GET /stats?format=json`.
async fn admin(socket: TcpListener, shared: Arc<Shared>) -> Result<()> {
    loop {
        let Ok((stream, _)) = socket.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let shared = Arc::clone(&shared);
                async move {
                    let json = request.uri().query() == Some("format=json");
                    let (status, text) = match request.uri().path() {
                        "/stats" if json => (200, format!("{:#}\n", shared.stats.to_json())),
                        "/stats" => (200, shared.stats.to_text()),
                        _ => (
                            404,
                            String::from("admin: try /stats or /stats?format=json\n"),
                        ),
                    };
                    let mut response = hyper::Response::new(text_body(text));
                    *response.status_mut() =
                        hyper::StatusCode::from_u16(status).unwrap_or_default();
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn text_body(text: String) -> Body {
    Full::new(Bytes::from(text))
        .map_err(|never| match never {})
        .boxed()
}
