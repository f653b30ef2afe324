//! The path index of one hostname bucket: Exact values and PathPrefix values in hash maps, with
//! candidate lists pre-sorted by precedence, plus the RegularExpression candidates.
//!
//! A PathPrefix `q` covers a path when `q` equals one of the path's element-wise ancestors (the
//! path itself without its trailing `/`, then each parent up to `/`), so the longest covering
//! prefix is the first ancestor found in the prefix map: a handful of hash probes, as many as
//! the path has segments. An Exact node holds the candidates for its own path and points at the
//! longest prefix group covering it; each prefix group points at its longest proper ancestor. A
//! lookup finds the node or the group, then walks down that chain merged with the regex list,
//! in precedence order, until a candidate's remaining conditions hold. Nothing is copied per
//! ancestor, and each distinct value is one hash entry, so memory stays linear in the number
//! of matches and small per match.

use std::collections::BTreeMap;

use crate::fnv::FnvHashMap;
use crate::precedence::Rank;

/// One match of one rule, as the index stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) rank: Rank,
    /// Index of the compiled match in the table.
    pub(crate) matcher: u32,
}

/// The path part of a match, as the index sees it.
#[derive(Clone, Debug)]
pub(crate) enum PathKey {
    Exact(String),
    /// Trailing `/` already stripped.
    Prefix(String),
    Regex,
}

/// What one path value stands for in a bucket: the candidates of an Exact value equal to it
/// (often none), and the longest prefix group covering it (its own when it is a PathPrefix
/// value).
#[derive(Debug)]
struct PathEntry {
    exact: Box<[Candidate]>,
    group: Option<u32>,
}

/// The candidates of one PathPrefix value.
#[derive(Debug)]
struct PrefixGroup {
    candidates: Box<[Candidate]>,
    /// The longest prefix group covering this one's value, itself excluded.
    parent: Option<u32>,
}

/// Path lookup for one hostname bucket.
#[derive(Debug)]
pub(crate) struct PathIndex {
    /// Exact values and PathPrefix values (trailing `/` stripped), one entry per string.
    paths: FnvHashMap<Box<str>, PathEntry>,
    prefixes: Vec<PrefixGroup>,
    regex: Vec<Candidate>,
}

impl PathIndex {
    /// Builds the index.
    pub(crate) fn build(entries: Vec<(PathKey, Candidate)>) -> Self {
        let mut exact: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        let mut prefix: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        let mut regex = Vec::new();
        for (key, candidate) in entries {
            match key {
                PathKey::Exact(p) => exact.entry(p).or_default().push(candidate),
                PathKey::Prefix(q) => prefix.entry(q).or_default().push(candidate),
                PathKey::Regex => regex.push(candidate),
            }
        }
        regex.sort_unstable_by_key(|c| c.rank);
        regex.shrink_to_fit();

        let mut paths = FnvHashMap::default();
        paths.reserve(prefix.len() + exact.len());
        for (q, id) in prefix.keys().zip(0..) {
            let entry = PathEntry {
                exact: Box::default(),
                group: Some(id),
            };
            paths.insert(Box::from(q.as_str()), entry);
        }
        let prefixes = prefix
            .into_iter()
            .map(|(q, candidates)| PrefixGroup {
                candidates: sorted(candidates),
                parent: longest_prefix(&paths, covering_prefixes(&q).skip(1)),
            })
            .collect();
        // Groups first, entries after, so every lookup sees prefix entries only.
        let exact: Vec<_> = exact
            .into_iter()
            .map(|(p, candidates)| {
                let group = longest_prefix(&paths, covering_prefixes(&p));
                (p, sorted(candidates), group)
            })
            .collect();
        for (p, candidates, group) in exact {
            let entry = paths.entry(p.into_boxed_str()).or_insert(PathEntry {
                exact: Box::default(),
                group,
            });
            entry.exact = candidates;
        }
        Self {
            paths,
            prefixes,
            regex,
        }
    }

    /// The best candidate, in precedence order, for which `accept` holds.
    ///
    /// The path's own entry gives its Exact candidates and covering group. Without one, the
    /// first ancestor with an entry gives the group: an entry's group covers the ancestor, so
    /// it covers the path, and any longer covering prefix would be a longer ancestor, found
    /// first.
    pub(crate) fn find(
        &self,
        path: &str,
        mut accept: impl FnMut(&Candidate) -> bool,
    ) -> Option<Candidate> {
        let (exact, mut group) = match self.paths.get(path) {
            Some(entry) => (&entry.exact[..], entry.group),
            None => (
                &[][..],
                longest_prefix(&self.paths, covering_prefixes(path).filter(|q| *q != path)),
            ),
        };
        let mut indexed = exact.iter();
        let mut regex = self.regex.iter().peekable();
        loop {
            let next = match indexed.next() {
                Some(c) => Some(c),
                None => match group.and_then(|g| self.prefixes.get(g as usize)) {
                    Some(g) => {
                        group = g.parent;
                        indexed = g.candidates.iter();
                        continue;
                    }
                    None => None,
                },
            };
            // Regex candidates that outrank `next` go first.
            while let Some(r) = regex.next_if(|r| next.is_none_or(|n| r.rank < n.rank)) {
                if accept(r) {
                    return Some(*r);
                }
            }
            match next {
                Some(c) if accept(c) => return Some(*c),
                Some(_) => {}
                None => return None,
            }
        }
    }
}

#[cfg(feature = "bench")]
impl PathIndex {
    /// Every candidate of the bucket with its path condition, each once, in no particular order
    /// (linear baseline). A prefix group's value is the shortest key whose entry resolves to
    /// it: its own, as every other key it covers is longer.
    pub(crate) fn candidates(&self) -> impl Iterator<Item = (PathKey, &Candidate)> {
        let mut values: Vec<Option<&str>> = vec![None; self.prefixes.len()];
        for (key, entry) in &self.paths {
            if let Some(slot) = entry.group.and_then(|g| values.get_mut(g as usize)) {
                if slot.is_none_or(|value| key.len() < value.len()) {
                    *slot = Some(key);
                }
            }
        }
        let exact = self.paths.iter().flat_map(|(key, entry)| {
            entry
                .exact
                .iter()
                .map(|c| (PathKey::Exact(key.to_string()), c))
        });
        let prefix = self.prefixes.iter().zip(values).flat_map(|(group, value)| {
            let value = value.map(str::to_owned);
            group
                .candidates
                .iter()
                .filter_map(move |c| Some((PathKey::Prefix(value.clone()?), c)))
        });
        let regex = self.regex.iter().map(|c| (PathKey::Regex, c));
        exact.chain(prefix).chain(regex)
    }
}

/// `path` itself, then the part before each of its `/` from the last, ending with `/`: every
/// PathPrefix value (trailing `/` stripped) that covers `path`, longest first. A value covers a
/// path it equals or that continues it with `/`; a stripped value can still end with `/` (`///`
/// is `//`), so the path itself comes first even when it ends with `/`.
fn covering_prefixes(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(path);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.rfind('/') {
            _ if current == "/" => None,
            Some(0) => Some("/"),
            Some(at) => Some(&current[..at]),
            None => None,
        };
        Some(current)
    })
}

/// The covering group of the first of `ancestors` that has an entry.
fn longest_prefix<'p>(
    paths: &FnvHashMap<Box<str>, PathEntry>,
    mut ancestors: impl Iterator<Item = &'p str>,
) -> Option<u32> {
    ancestors
        .find_map(|q| paths.get(q))
        .and_then(|entry| entry.group)
}

/// Candidates in precedence order, without spare capacity.
fn sorted(mut candidates: Vec<Candidate>) -> Box<[Candidate]> {
    candidates.sort_unstable_by_key(|c| c.rank);
    candidates.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{covering_prefixes, Candidate, PathIndex, PathKey};
    use crate::precedence::{PathRank, Rank};

    fn candidate(matcher: u32, path: PathRank) -> Candidate {
        let rank = Rank {
            path,
            method: false,
            headers: 0,
            query: 0,
            route: 0,
            rule: 0,
            matching: u16::try_from(matcher).unwrap(),
        };
        Candidate { rank, matcher }
    }

    /// Index of (key, id) pairs; the id doubles as the matcher index.
    fn index(keys: &[(&str, &str)]) -> PathIndex {
        let entries = keys
            .iter()
            .zip(0..)
            .map(|(&(kind, value), id)| match kind {
                "exact" => (PathKey::Exact(value.into()), candidate(id, PathRank::Exact)),
                "prefix" => (
                    PathKey::Prefix(value.into()),
                    candidate(id, PathRank::Prefix(value.len())),
                ),
                _ => (PathKey::Regex, candidate(id, PathRank::Regex(value.len()))),
            })
            .collect();
        PathIndex::build(entries)
    }

    /// Every candidate in precedence order for a path (accepting none, recording all).
    fn order(index: &PathIndex, path: &str) -> Vec<u32> {
        let mut seen = Vec::new();
        index.find(path, |c| {
            seen.push(c.matcher);
            false
        });
        seen
    }

    #[test]
    fn ancestors_longest_first() {
        assert_eq!(
            covering_prefixes("/a/b/c").collect::<Vec<_>>(),
            ["/a/b/c", "/a/b", "/a", "/"]
        );
        assert_eq!(
            covering_prefixes("/a/").collect::<Vec<_>>(),
            ["/a/", "/a", "/"]
        );
        assert_eq!(covering_prefixes("/").collect::<Vec<_>>(), ["/"]);
        assert_eq!(covering_prefixes("//").collect::<Vec<_>>(), ["//", "/"]);
        assert_eq!(
            covering_prefixes("/a//").collect::<Vec<_>>(),
            ["/a//", "/a/", "/a", "/"]
        );
    }

    #[test]
    fn a_value_ending_in_a_slash_covers_its_own_path_and_falls_back_to_its_ancestors() {
        // 0: prefix `//` (stripped to /), 1: prefix `///` (stripped to //). Found by the
        // route_table fuzz target: `//` used to skip both.
        let idx = index(&[("prefix", "/"), ("prefix", "//")]);
        assert_eq!(order(&idx, "//"), [1, 0]);
        assert_eq!(order(&idx, "///x"), [1, 0]);
        assert_eq!(order(&idx, "/x"), [0]);
    }

    #[test]
    fn prefixes_cover_the_empty_remainder_and_fall_back_to_ancestors() {
        // 0: prefix /foo, 1: prefix /, 2: exact /foo/bar, 3: prefix /foo/bar/baz
        let idx = index(&[
            ("prefix", "/foo"),
            ("prefix", "/"),
            ("exact", "/foo/bar"),
            ("prefix", "/foo/bar/baz"),
        ]);
        assert_eq!(order(&idx, "/foo"), [0, 1]);
        assert_eq!(order(&idx, "/foo/"), [0, 1]);
        assert_eq!(order(&idx, "/foo/x/y"), [0, 1]);
        assert_eq!(order(&idx, "/foo/bar"), [2, 0, 1]);
        assert_eq!(order(&idx, "/foo/bar/"), [0, 1]);
        assert_eq!(order(&idx, "/foo/bar/x"), [0, 1]);
        assert_eq!(order(&idx, "/foo/bar/baz/q"), [3, 0, 1]);
        assert_eq!(order(&idx, "/foo/bar/bazooka"), [0, 1]);
        assert_eq!(order(&idx, "/foobar"), [1]);
        assert_eq!(order(&idx, "/"), [1]);
        assert_eq!(order(&idx, ""), Vec::<u32>::new());
    }

    #[test]
    fn without_a_catch_all_unknown_paths_find_nothing() {
        let idx = index(&[("exact", "/a"), ("prefix", "/b")]);
        assert_eq!(order(&idx, "/a"), [0]);
        assert!(order(&idx, "/a/").is_empty());
        assert!(order(&idx, "/c").is_empty());
        assert_eq!(order(&idx, "/b/c"), [1]);
    }

    #[test]
    fn regex_candidates_interleave_by_rank() {
        // 0: prefix / (len 1), 1: regex of len 8, 2: prefix /api/v1/users (len 13)
        let idx = index(&[
            ("prefix", "/"),
            ("regex", "/api/.*"),
            ("prefix", "/api/v1/users"),
        ]);
        assert_eq!(order(&idx, "/api/v1/users/7"), [2, 1, 0]);
        assert_eq!(order(&idx, "/other"), [1, 0]);
    }

    #[test]
    fn braces_are_literal() {
        let idx = index(&[("exact", "/a{b}"), ("prefix", "/x{y}")]);
        assert_eq!(order(&idx, "/a{b}"), [0]);
        assert_eq!(order(&idx, "/x{y}/z"), [1]);
        assert!(order(&idx, "/ab").is_empty());
    }
}
