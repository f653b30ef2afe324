//! Object age: oldest first, by `creationTimestamp` when given (ties by `{namespace}/{name}`),
//! else by position in the configuration. Routes, ListenerSets and Ingresses are ordered so.
//!
//! Precedence between matches is `crate::precedence`'s; age is only its tie-breaker.

use crate::config::ObjectMeta;

/// Sorts `items` by their [`age_key`], oldest first, keeping the written order among equal
/// keys. Each key is computed once, and every kind of item shares one small merge sort of
/// positions: a library sort would add a sort of its own per item type.
pub(crate) fn sort_by_age<T>(items: &mut Vec<T>, key: impl Fn(&T) -> (String, usize, String)) {
    let keys: Vec<_> = items.iter().map(key).collect();
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        stable_order(&keys)
            .into_iter()
            .filter_map(|index| slots.get_mut(index).and_then(Option::take)),
    );
}

/// The positions of `keys` in ascending order, equal keys in their written order: a bottom-up
/// merge sort, merging runs of 1, 2, 4... positions.
fn stable_order(keys: &[(String, usize, String)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    let mut width = 1;
    while width < order.len() {
        let mut merged = Vec::with_capacity(order.len());
        for run in order.chunks(2 * width) {
            let (left, right) = run.split_at(width.min(run.len()));
            let (mut left, mut right) = (left.iter().peekable(), right.iter().peekable());
            while let (Some(&&l), Some(&&r)) = (left.peek(), right.peek()) {
                if keys.get(r) < keys.get(l) {
                    merged.push(r);
                    right.next();
                } else {
                    merged.push(l);
                    left.next();
                }
            }
            merged.extend(left.chain(right));
        }
        order = merged;
        width *= 2;
    }
    order
}

/// An object's age key: its `creationTimestamp`, else its position in the configuration (objects
/// without a timestamp count as older), then `{namespace}/{name}`.
pub(crate) fn age_key(position: usize, meta: &ObjectMeta) -> (String, usize, String) {
    let name = meta.key();
    match &meta.creation_timestamp {
        Some(ts) => (ts.clone(), 0, name),
        None => (String::new(), position, name),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::stable_order;

    #[test]
    fn age_order_is_sorted_and_keeps_the_written_order_of_ties() {
        let keys: Vec<_> = (0..40_usize)
            .map(|i| (format!("{}", (i * 7) % 5), 0, String::new()))
            .collect();
        for len in 0..keys.len() {
            let keys = &keys[..len];
            let mut expected: Vec<usize> = (0..len).collect();
            expected.sort_by_key(|&i| &keys[i]);
            assert_eq!(stable_order(keys), expected, "{len} keys");
        }
    }
}
