//! The hostname level of a listener's routes: one [`PathIndex`] per effective hostname.
//!
//! Hostname specificity comes before every other precedence criterion (reference §2.3), so a
//! request tries its buckets from most to least specific: the exact hostname, then wildcard
//! suffixes from longest to shortest, then the routes without hostnames. The first bucket with a
//! matching candidate decides.

use super::path_index::PathIndex;
use crate::fnv::FnvHashMap;
use crate::hostname::Hostname;

/// Path indexes keyed by effective hostname.
#[derive(Debug, Default)]
pub(crate) struct HostIndex {
    exact: FnvHashMap<String, PathIndex>,
    /// Keyed by the suffix after `*`, e.g. `.example.com`.
    wildcard: FnvHashMap<String, PathIndex>,
    any: Option<PathIndex>,
}

impl HostIndex {
    /// Adds the bucket for one effective hostname (`None`: routes without hostnames).
    pub(crate) fn insert(&mut self, hostname: Option<Hostname>, index: PathIndex) {
        match hostname {
            Some(Hostname::Exact(name)) => {
                self.exact.insert(name, index);
            }
            Some(Hostname::Wildcard(suffix)) => {
                self.wildcard.insert(suffix, index);
            }
            None => self.any = Some(index),
        }
    }

    /// The buckets that apply to a normalised host, most specific first.
    pub(crate) fn buckets<'a>(&'a self, host: &'a str) -> impl Iterator<Item = &'a PathIndex> + 'a {
        let exact = self.exact.get(host);
        let wildcards = host
            .char_indices()
            .filter(|&(at, c)| c == '.' && at > 0)
            .filter_map(|(at, _)| self.wildcard.get(&host[at..]));
        exact.into_iter().chain(wildcards).chain(self.any.as_ref())
    }

    /// Every bucket with its hostname (`None`: routes without hostnames), for the linear
    /// baseline.
    #[cfg(feature = "bench")]
    pub(crate) fn all(&self) -> impl Iterator<Item = (Option<Hostname>, &PathIndex)> {
        let exact = self
            .exact
            .iter()
            .map(|(h, i)| (Some(Hostname::Exact(h.clone())), i));
        let wildcard = self
            .wildcard
            .iter()
            .map(|(s, i)| (Some(Hostname::Wildcard(s.clone())), i));
        exact
            .chain(wildcard)
            .chain(self.any.iter().map(|i| (None, i)))
    }
}
