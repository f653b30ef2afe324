//! Envoy's worker threads: each owns one [`Proxy`] (its own VM, started with a canary as Envoy
//! does) and runs the filter's callbacks for the requests of the connections given to it. The
//! async side talks to a worker through messages; streams in flight wait on the worker, set
//! aside, while other requests and configuration updates run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use tokio::sync::{mpsc, oneshot};

use super::configuration::Generation;
use crate::envoy::{
    AwaitedCall, CalloutAnswer, HttpCall, HttpRequest, LogEntry, PendingStream, PluginOptions,
    Proxy, StartError, StreamOutcome, Upstream, WasmModule,
};

/// What the request phase ended with.
pub(super) enum Begun {
    /// The filter answered (or reset, or stalled) the request: the stream is complete.
    Ended(Box<StreamOutcome>),
    /// The request goes upstream; [`Worker::finish`] with `id` delivers the response.
    Upstream {
        /// The stream's key on its worker.
        id: u64,
        /// The request as it leaves for the upstream.
        upstream: Upstream,
        /// Copies the filter dispatched (mirrors), to send now.
        calls: Vec<HttpCall>,
        /// The configuration the stream runs under.
        generation: Arc<Generation>,
    },
    /// The request waits for the answer to a callout (an authorization check);
    /// [`Worker::answer`] with `id` delivers it.
    Callout {
        /// The stream's key on its worker.
        id: u64,
        /// The call to send.
        call: Option<AwaitedCall>,
        /// The configuration the stream runs under.
        generation: Arc<Generation>,
    },
}

enum Job {
    Begin(Box<HttpRequest>, oneshot::Sender<Begun>),
    Finish(u64, Vec<(String, Vec<u8>)>, oneshot::Sender<StreamOutcome>),
    Answer(u64, CalloutAnswer, oneshot::Sender<Begun>),
    Reconfigure(Arc<Generation>, oneshot::Sender<Result<(), StartError>>),
}

/// One worker thread, as a connection's handle on it.
#[derive(Clone)]
pub(super) struct Worker {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Worker {
    /// Runs the request phase.
    ///
    /// # Errors
    ///
    /// When the worker thread is gone.
    pub(super) async fn begin(&self, request: HttpRequest) -> Result<Begun> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Begin(Box::new(request), tx))?;
        rx.await.map_err(|_| gone())
    }

    /// Delivers the answer to the callout stream `id` waits on; the request phase goes on.
    ///
    /// # Errors
    ///
    /// When the worker thread is gone.
    pub(super) async fn answer(&self, id: u64, answer: CalloutAnswer) -> Result<Begun> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Answer(id, answer, tx))?;
        rx.await.map_err(|_| gone())
    }

    /// Runs the response phase of stream `id` with the upstream's response headers, then its
    /// access log and destruction.
    ///
    /// # Errors
    ///
    /// When the worker thread is gone.
    pub(super) async fn finish(
        &self,
        id: u64,
        response_headers: Vec<(String, Vec<u8>)>,
    ) -> Result<StreamOutcome> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Finish(id, response_headers, tx))?;
        rx.await.map_err(|_| gone())
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| gone())
    }
}

fn gone() -> anyhow::Error {
    anyhow!("the worker thread stopped")
}

/// Every worker, handed out to connections in turn.
pub(super) struct Workers {
    workers: Vec<Worker>,
    next: AtomicUsize,
}

impl Workers {
    /// Starts `count` worker threads, each booting its VM with `generation`'s configuration.
    ///
    /// # Errors
    ///
    /// When a VM does not start or rejects the configuration (with what it logged).
    pub(super) fn start(
        module: &WasmModule,
        options: &PluginOptions,
        generation: &Arc<Generation>,
        count: usize,
    ) -> Result<Self> {
        let mut workers = Vec::new();
        let mut started = Vec::new();
        for index in 0..count {
            let (jobs, queue) = mpsc::unbounded_channel();
            let (ready, ready_rx) = std::sync::mpsc::channel();
            let module = module.clone();
            let options = PluginOptions {
                configuration: generation.configuration.clone(),
                random_seed: options.random_seed.wrapping_add(index as u64),
                ..options.clone()
            };
            let generation = Arc::clone(generation);
            std::thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn(move || match Proxy::start(&module, options) {
                    Ok(proxy) => {
                        let _ = ready.send(Ok(()));
                        run(index, proxy, generation, queue);
                    }
                    Err(err) => {
                        let _ = ready.send(Err(err));
                    }
                })?;
            workers.push(Worker { jobs });
            started.push(ready_rx);
        }
        for (index, ready) in started.into_iter().enumerate() {
            match ready.recv() {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    print_logs(index, &err.logs);
                    bail!("the filter did not start: {err}");
                }
                Err(_) => bail!("worker {index} stopped while starting"),
            }
        }
        Ok(Self {
            workers,
            next: AtomicUsize::new(0),
        })
    }

    /// The worker for the next connection (round robin, as Envoy balances connections).
    pub(super) fn next(&self) -> Worker {
        let at = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len().max(1);
        self.workers
            .get(at)
            .or(self.workers.first())
            .cloned()
            .unwrap_or_else(|| Worker {
                jobs: mpsc::unbounded_channel().0,
            })
    }

    /// Delivers a new configuration to every worker, as an xDS update: each tries it on a canary
    /// VM first and keeps its current one when the canary rejects it.
    ///
    /// # Errors
    ///
    /// The first rejection, with what the VM logged.
    pub(super) async fn reconfigure(&self, generation: &Arc<Generation>) -> Result<(), StartError> {
        let mut answers = Vec::new();
        for worker in &self.workers {
            let (tx, rx) = oneshot::channel();
            if worker
                .send(Job::Reconfigure(Arc::clone(generation), tx))
                .is_ok()
            {
                answers.push(rx);
            }
        }
        let mut result = Ok(());
        for answer in answers {
            let outcome = answer.await.unwrap_or_else(|_| {
                Err(StartError {
                    reason: "the worker thread stopped".to_owned(),
                    logs: Vec::new(),
                })
            });
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    }
}

/// A worker's loop: one job at a time, in arrival order.
fn run(
    index: usize,
    mut proxy: Proxy,
    mut generation: Arc<Generation>,
    mut queue: mpsc::UnboundedReceiver<Job>,
) {
    let mut in_flight: HashMap<u64, PendingStream> = HashMap::new();
    let mut logged = proxy.logs().len();
    print_logs(index, proxy.logs());
    let mut clock = std::time::Instant::now();
    while let Some(job) = queue.blocking_recv() {
        // The VM's clock runs at real speed (from host-sim's fixed start date), so session
        // timeouts and durations the plugin measures are real.
        let now = std::time::Instant::now();
        proxy.advance_time(now.duration_since(clock));
        clock = now;
        match job {
            Job::Begin(request, reply) => {
                let pending = proxy.begin_stream(&request);
                let begun = set_aside(index, &mut proxy, pending, &mut in_flight, &generation);
                let _ = reply.send(begun);
            }
            Job::Answer(id, answer, reply) => {
                let Some(pending) = in_flight.remove(&id) else {
                    continue;
                };
                let pending = proxy.answer_callout(pending, &answer);
                let begun = set_aside(index, &mut proxy, pending, &mut in_flight, &generation);
                let _ = reply.send(begun);
            }
            Job::Finish(id, headers, reply) => {
                let Some(mut pending) = in_flight.remove(&id) else {
                    continue;
                };
                pending.respond(headers);
                let outcome = proxy.finish_stream(pending);
                print_logs(index, &outcome.logs);
                let _ = reply.send(outcome);
            }
            Job::Reconfigure(next, reply) => {
                let result = proxy.reconfigure(next.configuration.clone());
                if result.is_ok() {
                    generation = next;
                }
                let _ = reply.send(result);
            }
        }
        let logs = proxy.logs();
        if logs.len() > logged {
            print_logs(index, logs.get(logged..).unwrap_or_default());
        }
        logged = logs.len();
    }
}

/// Where a stream stands after its request phase: upstream or waiting for a callout (kept in
/// `in_flight` under a new key), or complete.
fn set_aside(
    index: usize,
    proxy: &mut Proxy,
    pending: PendingStream,
    in_flight: &mut HashMap<u64, PendingStream>,
    generation: &Arc<Generation>,
) -> Begun {
    static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) as u64;
    let generation = Arc::clone(generation);
    if let Some(upstream) = pending.upstream().cloned() {
        let calls = proxy.dispatched_calls(&pending);
        in_flight.insert(id, pending);
        Begun::Upstream {
            id,
            upstream,
            calls,
            generation,
        }
    } else if pending.awaited().is_some() {
        let call = proxy.awaited_call(&pending);
        in_flight.insert(id, pending);
        Begun::Callout {
            id,
            call,
            generation,
        }
    } else {
        let outcome = proxy.finish_stream(pending);
        print_logs(index, &outcome.logs);
        Begun::Ended(Box::new(outcome))
    }
}

/// The plugin's log lines on stderr, as Envoy prints them with the worker they came from.
fn print_logs(worker: usize, logs: &[LogEntry]) {
    for entry in logs {
        eprintln!(
            "serve: worker {worker}: wasm log {:?}: {}",
            entry.level, entry.message
        );
    }
}
