//! Live configuration: the files behind the configuration are looked at every interval (size
//! and modification time; polling works the same on every file system, editors' atomic
//! renames included), and a change is read and delivered to every worker. A configuration that
//! cannot be read or that the filter rejects is reported with its problems, and the last good
//! one keeps serving.

use std::sync::Arc;
use std::time::Duration;

use super::configuration::{self, Generation};
use super::worker::Workers;
use super::{describe, print_problems, Shared};
use crate::cli::{Source, UpstreamSpec};

/// What to watch.
pub(super) struct Watched {
    /// The configuration's source.
    pub(super) source: Source,
    /// The `--upstream` mappings, applied to every reading.
    pub(super) upstreams: Vec<UpstreamSpec>,
    /// How often to look.
    pub(super) interval: Duration,
}

/// Watches until the process ends.
pub(super) async fn watch(
    watched: Watched,
    first: Arc<Generation>,
    workers: Arc<Workers>,
    shared: Arc<Shared>,
) {
    let mut stamp = configuration::stamp(&watched.source);
    let (mut current, mut number) = (first.number, first.number);
    let source = describe(&watched.source);
    loop {
        tokio::time::sleep(watched.interval).await;
        let now = configuration::stamp(&watched.source);
        if now == stamp {
            continue;
        }
        stamp = now;
        number += 1;
        let (from, upstreams) = (watched.source.clone(), watched.upstreams.clone());
        let loaded =
            tokio::task::spawn_blocking(move || Generation::load(number, &from, &upstreams)).await;
        let generation = match loaded {
            Ok(Ok(generation)) => Arc::new(generation),
            Ok(Err(err)) => {
                shared.stats.reload(None);
                eprintln!(
                    "serve: configuration {number} from {source} rejected, configuration \
                     {current} keeps serving: {err:#}"
                );
                continue;
            }
            Err(_) => continue,
        };
        print_problems(&generation);
        match workers.reconfigure(&generation).await {
            Ok(()) => {
                current = number;
                shared.stats.reload(Some(number));
                eprintln!("serve: configuration {number} from {source} applied");
            }
            Err(err) => {
                shared.stats.reload(None);
                eprintln!(
                    "serve: configuration {number} from {source} rejected by the filter, \
                     configuration {current} keeps serving: {err}"
                );
                for entry in &err.logs {
                    eprintln!("serve:   wasm log {:?}: {}", entry.level, entry.message);
                }
            }
        }
    }
}
