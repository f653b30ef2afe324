//! The path index of one hostname bucket: static paths in a hash map, PathPrefix subtrees in a
//! `matchit` radix tree, candidate lists pre-sorted by precedence, plus the RegularExpression
//! candidates.
//!
//! Every Exact value `p` is the static path `p`. Every PathPrefix `q` is the static paths `q` and
//! `q/` and the catch-all route `q/{*rest}` (matchit's catch-all never matches an empty
//! remainder, hence `q/`). A node holds the Exact candidates for its own path and points at the
//! longest prefix group covering it; each prefix group points at its longest proper ancestor. A
//! lookup is one hash probe for the whole path, else one radix walk, then a walk down that chain
//! merged with the regex list, in precedence order, until a candidate's remaining conditions
//! hold. Static paths stay out of the radix tree because a tree node costs several heap
//! allocations and a hash entry one; nothing is copied per ancestor, so memory stays linear in
//! the number of matches.

use std::collections::BTreeMap;

use crate::fnv::FnvHashMap;
use crate::matcher::strip_trailing_slash;
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

#[derive(Debug, Default)]
struct Node {
    exact: Vec<Candidate>,
    prefix: Option<u32>,
}

#[derive(Debug)]
struct PrefixGroup {
    candidates: Vec<Candidate>,
    parent: Option<u32>,
}

/// Path lookup for one hostname bucket.
#[derive(Debug)]
pub(crate) struct PathIndex {
    /// Exact values and the paths a prefix covers with an empty remainder → node.
    statics: FnvHashMap<Box<str>, u32>,
    /// Catch-all routes, one per prefix → node.
    router: matchit::Router<u32>,
    nodes: Vec<Node>,
    prefixes: Vec<PrefixGroup>,
    regex: Vec<Candidate>,
}

impl PathIndex {
    /// Builds the index. Values matchit refuses are returned as messages (and left out).
    pub(crate) fn build(entries: Vec<(PathKey, Candidate)>) -> (Self, Vec<String>) {
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

        let group_ids: BTreeMap<&str, u32> = prefix
            .keys()
            .zip(0..)
            .map(|(q, id)| (q.as_str(), id))
            .collect();
        let longest_group =
            |path: &str| covering_prefixes(path).find_map(|q| group_ids.get(q).copied());
        let prefixes = prefix
            .iter()
            .map(|(q, candidates)| {
                let mut candidates = candidates.clone();
                candidates.sort_unstable_by_key(|c| c.rank);
                let parent = covering_prefixes(q)
                    .skip(1)
                    .find_map(|a| group_ids.get(a).copied());
                PrefixGroup { candidates, parent }
            })
            .collect();

        // Static path or catch-all route -> node. Static nodes cover exactly their own path; a
        // catch-all covers paths under its prefix that no static node claims.
        let mut statics: BTreeMap<&str, Node> = BTreeMap::new();
        for (p, candidates) in &exact {
            let mut exact = candidates.clone();
            exact.sort_unstable_by_key(|c| c.rank);
            let prefix = longest_group(p);
            statics.insert(p, Node { exact, prefix });
        }
        let mut owned: Vec<(String, Option<u32>)> = Vec::new();
        let mut catch_alls = Vec::with_capacity(prefix.len());
        for (q, id) in &group_ids {
            let slash = if *q == "/" { "" } else { "/" };
            catch_alls.push((format!("{}{slash}{{*rest}}", escape(q)), *id));
            for static_path in [q.to_string(), format!("{q}{slash}")] {
                if !statics.contains_key(static_path.as_str()) {
                    let prefix = longest_group(&static_path);
                    owned.push((static_path, prefix));
                }
            }
        }
        let mut nodes = Vec::with_capacity(statics.len() + owned.len() + catch_alls.len());
        let mut static_ids = FnvHashMap::default();
        static_ids.reserve(statics.len() + owned.len());
        for (path, node) in statics {
            static_ids.insert(Box::from(path), id_of(&nodes));
            nodes.push(node);
        }
        for (path, prefix) in owned {
            static_ids.entry(path.into_boxed_str()).or_insert_with(|| {
                let id = id_of(&nodes);
                nodes.push(Node {
                    exact: Vec::new(),
                    prefix,
                });
                id
            });
        }
        let mut router = matchit::Router::new();
        let mut refused = Vec::new();
        for (route, group) in catch_alls {
            match router.insert(route.as_str(), id_of(&nodes)) {
                Ok(()) => nodes.push(Node {
                    exact: Vec::new(),
                    prefix: Some(group),
                }),
                Err(err) => refused.push(format!("path {route:?} cannot be indexed: {err}")),
            }
        }
        (
            Self {
                statics: static_ids,
                router,
                nodes,
                prefixes,
                regex,
            },
            refused,
        )
    }

    /// The best candidate, in precedence order, for which `accept` holds.
    pub(crate) fn find(
        &self,
        path: &str,
        mut accept: impl FnMut(&Candidate) -> bool,
    ) -> Option<Candidate> {
        let id = match self.statics.get(path) {
            Some(&id) => Some(id),
            None => self.router.at(path).ok().map(|found| *found.value),
        };
        let node = id.and_then(|id| self.nodes.get(id as usize));
        let exact = node.map_or(&[][..], |n| n.exact.as_slice());
        let mut group = node.and_then(|n| n.prefix);
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
    /// Every candidate of the bucket, each once, in no particular order (linear baseline).
    pub(crate) fn candidates(&self) -> impl Iterator<Item = &Candidate> {
        let exact = self.nodes.iter().flat_map(|n| &n.exact);
        let prefix = self.prefixes.iter().flat_map(|g| &g.candidates);
        exact.chain(prefix).chain(&self.regex)
    }
}

/// `path` with its trailing `/` removed, then each element-wise ancestor, ending with `/`:
/// every PathPrefix value that covers `path`, longest first.
fn covering_prefixes(path: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(strip_trailing_slash(path));
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.rfind('/') {
            Some(0) if current != "/" => Some("/"),
            Some(0) | None => None,
            Some(at) => Some(&current[..at]),
        };
        Some(current)
    })
}

/// The id the next node pushed onto `nodes` gets.
fn id_of(nodes: &[Node]) -> u32 {
    u32::try_from(nodes.len()).unwrap_or(u32::MAX)
}

/// matchit treats `{` and `}` as parameter syntax; literal braces are doubled.
fn escape(path: &str) -> String {
    if path.contains(['{', '}']) {
        path.replace('{', "{{").replace('}', "}}")
    } else {
        path.to_owned()
    }
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
        let (index, refused) = PathIndex::build(entries);
        assert!(refused.is_empty(), "{refused:?}");
        index
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
        assert_eq!(covering_prefixes("/a/").collect::<Vec<_>>(), ["/a", "/"]);
        assert_eq!(covering_prefixes("/").collect::<Vec<_>>(), ["/"]);
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
