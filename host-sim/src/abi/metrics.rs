//! Metrics: `proxy_define_metric`, `proxy_record_metric`, `proxy_increment_metric` and
//! `proxy_get_metric`. Envoy keeps a plugin's metrics in its process-wide stats store, so every
//! VM of a `Proxy` (canary, worker, reloaded worker) counts into one [`Metrics`], kept in the
//! shared store (`shared_data.rs`): a configuration the canary rejects is counted like Envoy
//! counts it.
//!
//! Ids carry the metric type in their low two bits, as Envoy's do, so a counter id can never be
//! mistaken for a gauge's. Names are kept as the plugin wrote them; [`Metric::series`] shows
//! one as Envoy's Prometheus output does, after tag extraction of Istio's `label=.=value;.;`
//! syntax and without the `wasmcustom.` prefix.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::Result;
use wasmtime::{Caller, Linker};

use super::memory::{bytes, enter, finish, finish_u32, finish_u64, split};
use super::types::{HostResult, MetricType, Status};
use super::HostState;

/// One defined metric and its current value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    /// The id handed to the plugin.
    pub id: u32,
    /// The name the plugin defined.
    pub name: Arc<str>,
    /// Counter, gauge or histogram.
    pub kind: MetricType,
    /// Counter total or gauge value (0 for histograms).
    pub value: u64,
    /// Histogram samples in record order.
    pub samples: Vec<u64>,
}

impl Metric {
    /// Its Prometheus series ([`series`]).
    pub fn series(&self) -> String {
        series(&self.name)
    }
}

/// The Prometheus series of a metric name: `name{label="value",...}`, each leading
/// `label=.=value;.;` cut out as a label, in the order written.
pub fn series(name: &str) -> String {
    let mut rest = name;
    let mut labels = Vec::new();
    while let Some((label, after)) = rest.split_once("=.=") {
        let Some((value, after)) = after.split_once(";.;") else {
            break;
        };
        labels.push(format!("{label}=\"{value}\""));
        rest = after;
    }
    if labels.is_empty() {
        rest.to_owned()
    } else {
        format!("{rest}{{{}}}", labels.join(","))
    }
}

/// The plugin's metrics.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Every defined metric, in definition order: the metric with id `id` is at `(id >> 2) - 1`.
    pub metrics: Vec<Metric>,
    /// Ids by name and type.
    ids: BTreeMap<(String, u32), u32>,
    /// While [`Metrics::watch`] runs: each counter and gauge changed, with its value before.
    changed: Option<Vec<(u32, u64)>>,
}

impl Metrics {
    /// Where the metric with `id` is in `metrics`.
    fn index(&self, id: u32) -> Option<usize> {
        let index = usize::try_from(id >> 2).ok()?.checked_sub(1)?;
        self.metrics
            .get(index)
            .filter(|m| m.id == id)
            .map(|_| index)
    }

    fn find(&mut self, id: u32) -> Option<&mut Metric> {
        let index = self.index(id)?;
        let metric = self.metrics.get_mut(index)?;
        if let Some(changed) = &mut self.changed {
            if !changed.iter().any(|(c, _)| *c == id) {
                changed.push((id, metric.value));
            }
        }
        Some(metric)
    }

    /// The metric named `name`, if defined.
    pub fn by_name(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| &*m.name == name)
    }

    /// Starts noting which metrics change, for [`Metrics::changes`]; costs nothing per metric
    /// defined, so a stream's bookkeeping does not grow with the configuration.
    pub fn watch(&mut self) {
        self.changed = Some(Vec::new());
    }

    /// How each counter and gauge changed since [`Metrics::watch`], by name (see [`series`]),
    /// in the order they first changed; unchanged ones are left out. Stops watching.
    pub fn changes(&mut self) -> Vec<(Arc<str>, i64)> {
        let changed = self.changed.take().unwrap_or_default();
        changed
            .into_iter()
            .filter_map(|(id, old)| {
                let metric = self.metrics.get(self.index(id)?)?;
                let delta = i64::try_from(metric.value).ok()? - i64::try_from(old).ok()?;
                (delta != 0).then(|| (Arc::clone(&metric.name), delta))
            })
            .collect()
    }
}

fn kind_of(id: u32) -> u32 {
    id & 0b11
}

/// `proxy_define_metric`: returns the id; defining the same name and type again returns the same
/// id. An unknown type is `BadArgument`.
pub fn define_metric(metrics: &mut Metrics, kind: i32, name: &[u8]) -> HostResult<u32> {
    let kind = MetricType::from_raw(kind)?;
    let name = String::from_utf8_lossy(name).into_owned();
    let key = (name, kind as u32);
    if let Some(id) = metrics.ids.get(&key) {
        return Ok(*id);
    }
    let serial = metrics.metrics.len() as u32 + 1;
    let id = (serial << 2) | kind as u32;
    let name = Arc::from(key.0.as_str());
    metrics.ids.insert(key, id);
    metrics.metrics.push(Metric {
        id,
        name,
        kind,
        value: 0,
        samples: Vec::new(),
    });
    Ok(id)
}

/// `proxy_record_metric`: adds to a counter (Envoy's `add`), sets a gauge, records a histogram
/// sample; an unknown id is `NotFound`.
pub fn record_metric(metrics: &mut Metrics, id: u32, value: u64) -> HostResult<()> {
    let metric = metrics.find(id).ok_or(Status::NotFound)?;
    match metric.kind {
        MetricType::Counter => metric.value = metric.value.wrapping_add(value),
        MetricType::Gauge => metric.value = value,
        MetricType::Histogram => metric.samples.push(value),
    }
    Ok(())
}

/// `proxy_increment_metric`: a counter accepts only a positive delta (else `BadArgument`), a gauge
/// moves either way, a histogram id is `BadArgument`; an unknown id is `NotFound`.
pub fn increment_metric(metrics: &mut Metrics, id: u32, delta: i64) -> HostResult<()> {
    if kind_of(id) == MetricType::Histogram as u32 {
        return Err(Status::BadArgument);
    }
    let metric = metrics.find(id).ok_or(Status::NotFound)?;
    match metric.kind {
        MetricType::Counter if delta <= 0 => return Err(Status::BadArgument),
        MetricType::Counter | MetricType::Gauge => {
            metric.value = metric.value.wrapping_add_signed(delta);
        }
        MetricType::Histogram => return Err(Status::BadArgument),
    }
    Ok(())
}

/// `proxy_get_metric`: counter or gauge value; a histogram id is `BadArgument`, an unknown id
/// `NotFound`.
pub fn get_metric(metrics: &mut Metrics, id: u32) -> HostResult<u64> {
    if kind_of(id) == MetricType::Histogram as u32 {
        return Err(Status::BadArgument);
    }
    Ok(metrics.find(id).ok_or(Status::NotFound)?.value)
}

/// Registers the four metric imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> Result<()> {
    linker.func_wrap(
        "env",
        "proxy_define_metric",
        |mut caller: Caller<'_, HostState>,
         kind: i32,
         name_ptr: i32,
         name_len: i32,
         ret_id: i32| {
            const NAME: &str = "proxy_define_metric";
            enter(&mut caller, NAME)?;
            let (mem, state) = split(&mut caller, NAME)?;
            let name = bytes(mem, name_ptr, name_len, NAME)?;
            let result = define_metric(&mut state.shared.lock().metrics, kind, name);
            finish_u32(&mut caller, result, ret_id, NAME)
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_record_metric",
        |mut caller: Caller<'_, HostState>, id: i32, value: i64| {
            enter(&mut caller, "proxy_record_metric")?;
            Ok(finish(record_metric(
                &mut caller.data().shared.lock().metrics,
                id as u32,
                value as u64,
            )))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_increment_metric",
        |mut caller: Caller<'_, HostState>, id: i32, delta: i64| {
            enter(&mut caller, "proxy_increment_metric")?;
            Ok(finish(increment_metric(
                &mut caller.data().shared.lock().metrics,
                id as u32,
                delta,
            )))
        },
    )?;
    linker.func_wrap(
        "env",
        "proxy_get_metric",
        |mut caller: Caller<'_, HostState>, id: i32, ret_value: i32| {
            const NAME: &str = "proxy_get_metric";
            enter(&mut caller, NAME)?;
            let result = get_metric(&mut caller.data().shared.lock().metrics, id as u32);
            finish_u64(&mut caller, result, ret_value, NAME)
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_reject_non_positive_deltas() {
        let mut metrics = Metrics::default();
        let id = define_metric(&mut metrics, 0, b"requests").unwrap();
        assert_eq!(increment_metric(&mut metrics, id, 2), Ok(()));
        assert_eq!(
            increment_metric(&mut metrics, id, 0),
            Err(Status::BadArgument)
        );
        assert_eq!(
            increment_metric(&mut metrics, id, -1),
            Err(Status::BadArgument)
        );
        assert_eq!(record_metric(&mut metrics, id, 3), Ok(()));
        assert_eq!(get_metric(&mut metrics, id), Ok(5));
        assert_eq!(define_metric(&mut metrics, 0, b"requests"), Ok(id));
    }

    #[test]
    fn gauges_and_histograms() {
        let mut metrics = Metrics::default();
        let gauge = define_metric(&mut metrics, 1, b"g").unwrap();
        let hist = define_metric(&mut metrics, 2, b"h").unwrap();
        record_metric(&mut metrics, gauge, 10).unwrap();
        increment_metric(&mut metrics, gauge, -4).unwrap();
        assert_eq!(get_metric(&mut metrics, gauge), Ok(6));
        record_metric(&mut metrics, hist, 42).unwrap();
        assert_eq!(
            metrics.by_name("h").map(|m| m.samples.clone()),
            Some(vec![42])
        );
        assert_eq!(get_metric(&mut metrics, hist), Err(Status::BadArgument));
        assert_eq!(
            increment_metric(&mut metrics, hist, 1),
            Err(Status::BadArgument)
        );
    }

    #[test]
    fn series_cut_labels_out_of_the_name() {
        let mut metrics = Metrics::default();
        let id = define_metric(
            &mut metrics,
            0,
            b"route=.=a/b;.;backend=.=a/c:80;.;requests",
        )
        .unwrap();
        let plain = define_metric(&mut metrics, 1, b"rules").unwrap();
        metrics.watch();
        increment_metric(&mut metrics, id, 2).unwrap();
        record_metric(&mut metrics, plain, 0).unwrap();
        let changes = metrics.changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(
            (series(&changes[0].0), changes[0].1),
            (r#"requests{route="a/b",backend="a/c:80"}"#.to_owned(), 2)
        );
        assert!(metrics.changes().is_empty(), "watching stopped");
        assert_eq!(metrics.by_name("rules").unwrap().series(), "rules");
    }

    #[test]
    fn unknown_ids_and_types() {
        let mut metrics = Metrics::default();
        assert_eq!(
            define_metric(&mut metrics, 3, b"x"),
            Err(Status::BadArgument)
        );
        assert_eq!(record_metric(&mut metrics, 4, 1), Err(Status::NotFound));
        assert_eq!(increment_metric(&mut metrics, 4, 1), Err(Status::NotFound));
        assert_eq!(get_metric(&mut metrics, 5), Err(Status::NotFound));
    }
}
