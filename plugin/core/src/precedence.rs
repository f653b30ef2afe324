//! Match precedence as an order: the candidate that sorts first wins.
//!
//! Reference §3.7: "Precedence applies across all rules of all routes attached to the chosen
//! listener. It is decided per match, not per rule." After hostname specificity (handled by the
//! host index, which tries the most specific hostname bucket first), prefer:
//! 1. an Exact path match;
//! 2. the longest PathPrefix match, by characters;
//! 3. a method match;
//! 4. the most header matches;
//! 5. the most query-param matches;
//! 6. the oldest route, then the route first by `{namespace}/{name}` (one number, `route`,
//!    computed by the compiler);
//! 7. the first rule in list order, then the first match.
//!
//! GRPCRoute has its own order (reference §7.4): the most characters in the matching service,
//! then in the matching method, then the most header matches, then age, name and rule order.
//! HTTPRoute and GRPCRoute candidates never share a hostname bucket, so the two orders never
//! meet; [`PathRank::Grpc`] ranks below every HTTP path only to keep the order total.
//!
//! RegularExpression paths are implementation-specific. gatewasm ranks them with PathPrefix by
//! the character length of the written value, and a PathPrefix wins a tie of equal length, so a
//! regex can beat a short catch-all prefix but not a longer, more specific one.

use std::cmp::Ordering;

/// How specific a path condition is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathRank {
    /// An Exact path.
    Exact,
    /// A PathPrefix of this many characters (trailing `/` removed).
    Prefix(usize),
    /// A RegularExpression of this many characters.
    Regex(usize),
    /// A GRPCRoute method match: characters of its service and method values.
    Grpc { service: usize, method: usize },
}

impl PathRank {
    /// (class, length, tie-break length, prefix-before-regex): larger is more specific.
    fn key(self) -> (u8, usize, usize, u8) {
        match self {
            Self::Exact => (2, 0, 0, 0),
            Self::Prefix(len) => (1, len, 0, 1),
            Self::Regex(len) => (1, len, 0, 0),
            Self::Grpc { service, method } => (0, service, method, 0),
        }
    }
}

/// Everything that orders one match against another within a hostname bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rank {
    pub(crate) path: PathRank,
    pub(crate) method: bool,
    pub(crate) headers: u16,
    pub(crate) query: u16,
    /// Position of the route by age, then `{namespace}/{name}`: lower is older.
    pub(crate) route: u32,
    pub(crate) rule: u16,
    pub(crate) matching: u16,
}

impl Ord for Rank {
    /// `Less` means "wins".
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .path
            .key()
            .cmp(&self.path.key())
            .then(other.method.cmp(&self.method))
            .then(other.headers.cmp(&self.headers))
            .then(other.query.cmp(&self.query))
            .then(self.route.cmp(&other.route))
            .then(self.rule.cmp(&other.rule))
            .then(self.matching.cmp(&other.matching))
    }
}

impl PartialOrd for Rank {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::{PathRank, Rank};

    const BASE: Rank = Rank {
        path: PathRank::Prefix(1),
        method: false,
        headers: 0,
        query: 0,
        route: 5,
        rule: 5,
        matching: 5,
    };

    #[test]
    fn each_criterion_beats_all_later_ones() {
        let wins = [
            (
                Rank {
                    path: PathRank::Exact,
                    route: 9,
                    ..BASE
                },
                Rank {
                    path: PathRank::Prefix(50),
                    headers: 9,
                    ..BASE
                },
            ),
            (
                Rank {
                    path: PathRank::Prefix(6),
                    ..BASE
                },
                Rank {
                    path: PathRank::Prefix(5),
                    method: true,
                    ..BASE
                },
            ),
            (
                Rank {
                    method: true,
                    ..BASE
                },
                Rank {
                    headers: 3,
                    query: 3,
                    ..BASE
                },
            ),
            (
                Rank { headers: 2, ..BASE },
                Rank {
                    headers: 1,
                    query: 5,
                    ..BASE
                },
            ),
            (
                Rank {
                    query: 2,
                    route: 9,
                    ..BASE
                },
                Rank {
                    query: 1,
                    route: 0,
                    ..BASE
                },
            ),
            (
                Rank {
                    route: 1,
                    rule: 9,
                    ..BASE
                },
                Rank {
                    route: 2,
                    rule: 0,
                    ..BASE
                },
            ),
            (
                Rank {
                    rule: 1,
                    matching: 9,
                    ..BASE
                },
                Rank {
                    rule: 2,
                    matching: 0,
                    ..BASE
                },
            ),
            (
                Rank {
                    matching: 0,
                    ..BASE
                },
                Rank {
                    matching: 1,
                    ..BASE
                },
            ),
        ];
        for (winner, loser) in wins {
            assert!(winner < loser, "{winner:?} should beat {loser:?}");
        }
    }

    #[test]
    fn regex_ranks_with_prefixes_by_length_and_loses_ties() {
        assert!(
            Rank {
                path: PathRank::Regex(10),
                ..BASE
            } < Rank {
                path: PathRank::Prefix(1),
                ..BASE
            }
        );
        assert!(
            Rank {
                path: PathRank::Prefix(10),
                ..BASE
            } < Rank {
                path: PathRank::Regex(10),
                ..BASE
            }
        );
        assert!(
            Rank {
                path: PathRank::Exact,
                ..BASE
            } < Rank {
                path: PathRank::Regex(100),
                ..BASE
            }
        );
    }
}
