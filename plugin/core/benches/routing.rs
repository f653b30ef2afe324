//! Route lookup cost against route count: the compiled [`RouteTable`] beside the linear
//! first-match scan ([`LinearRoutes`]) over the same rules, natively, at 10 to 10,000 rules.
//!
//! Each benchmark iteration routes the whole generated request mix ([`bench::MIX_LEN`] requests
//! hitting early, late and missing routes), so divan's per-item time is the mean cost of one
//! request. Request views are built outside the timed loop; the in-wasm, per-stream cost is
//! `host-sim bench`'s job. Run with `cargo bench -p gatewasm-core --features bench`.

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use gatewasm_core::baseline::LinearRoutes;
use gatewasm_core::bench::{self, route_set, BenchRequest};
use gatewasm_core::{borrow_pairs, compile_bytes, RequestView, RouteTable};

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
const SEED: u64 = 5;

/// The header pairs of every request of a mix.
type Mix = Vec<Vec<(String, Vec<u8>)>>;

fn main() {
    divan::main();
}

/// The table for `rules` rules and the request mix's header pairs.
fn setup(rules: usize) -> (RouteTable, Mix) {
    let set = route_set(rules, SEED);
    let table = compile_bytes(&set.configuration)
        .map(|c| c.table)
        .unwrap_or_default();
    let headers = set
        .requests
        .iter()
        .map(BenchRequest::header_pairs)
        .collect();
    (table, headers)
}

/// Header pairs borrowed from the mix, as the filter hands them over.
fn borrowed(headers: &[Vec<(String, Vec<u8>)>]) -> Vec<Vec<(&str, &[u8])>> {
    headers.iter().map(|h| borrow_pairs(h)).collect()
}

fn views<'a>(headers: &'a [Vec<(&'a str, &'a [u8])>]) -> Vec<RequestView<'a>> {
    headers
        .iter()
        .map(|h| RequestView::new(h, Some(bench::PORT)))
        .collect()
}

/// `RouteTable::decide`: lookup, backend choice and the decision.
#[divan::bench(args = SIZES)]
fn table_decide(bencher: Bencher<'_, '_>, rules: usize) {
    let (table, headers) = setup(rules);
    let headers = borrowed(&headers);
    let views = views(&headers);
    bencher
        .counter(ItemsCount::new(views.len()))
        .bench_local(|| {
            for view in &views {
                black_box(table.decide(view, 7));
            }
        });
}

/// The indexed lookup alone: which rule matches.
#[divan::bench(args = SIZES)]
fn table_lookup(bencher: Bencher<'_, '_>, rules: usize) {
    let (table, headers) = setup(rules);
    let headers = borrowed(&headers);
    let views = views(&headers);
    bencher
        .counter(ItemsCount::new(views.len()))
        .bench_local(|| {
            for view in &views {
                black_box(table.find_rule(view));
            }
        });
}

/// The linear first-match scan over the same compiled rules.
#[divan::bench(args = SIZES)]
fn linear_lookup(bencher: Bencher<'_, '_>, rules: usize) {
    let (table, headers) = setup(rules);
    let linear = LinearRoutes::new(&table);
    let headers = borrowed(&headers);
    let views = views(&headers);
    bencher
        .counter(ItemsCount::new(views.len()))
        .bench_local(|| {
            for view in &views {
                black_box(linear.find_rule(view));
            }
        });
}

/// Building the request view from header pairs, which every request pays before the lookup.
#[divan::bench]
fn request_view(bencher: Bencher<'_, '_>) {
    let (_, headers) = setup(10);
    let headers = borrowed(&headers);
    bencher
        .counter(ItemsCount::new(headers.len()))
        .bench_local(|| {
            for h in &headers {
                black_box(RequestView::new(h, Some(bench::PORT)));
            }
        });
}

/// `compile_bytes`: parse and compile, what `on_configure` does natively.
#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn compile(bencher: Bencher<'_, '_>, rules: usize) {
    let set = route_set(rules, SEED);
    bencher.bench_local(|| black_box(compile_bytes(&set.configuration).is_ok()));
}
