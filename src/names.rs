//! Versioned interface names (`ns:pkg/iface@1.2.3`) matched as the
//! Explainer's "canonical interface name" section says: two names match when
//! they are equal after cutting each version to its `canonversion` (the
//! major version, or `0.minor`, or `0.0.patch`), so a host providing
//! `wasi:http/types@0.2.6` satisfies a guest importing `@0.2.1` and the
//! other way round; type checking does the rest.

use alloc::collections::BTreeMap;
use alloc::string::String;

/// A parsed `major.minor.patch[-pre][+build]` (minor and patch optional,
/// as in a name already cut to its canonversion).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    major: u64,
    minor: Option<u64>,
    patch: Option<u64>,
    /// False for a prerelease (`-…`), which orders before the release.
    release: bool,
}

fn parse_version(v: &str) -> Option<Version> {
    let core = v.split('+').next()?;
    let (core, release) = match core.split_once('-') {
        Some((c, _)) => (c, false),
        None => (core, true),
    };
    let mut parts = core.split('.');
    let num = |p: Option<&str>| -> Option<Option<u64>> {
        match p {
            None => Some(None),
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok().map(Some)
            }
            Some(_) => None,
        }
    };
    let major = num(parts.next())??;
    let minor = num(parts.next())?;
    let patch = num(parts.next())?;
    if parts.next().is_some() || (minor.is_none() && patch.is_some()) {
        return None;
    }
    Some(Version {
        major,
        minor,
        patch,
        release,
    })
}

/// `name` split at its version: the part before `@` and the version.
fn versioned(name: &str) -> Option<(&str, Version)> {
    let (base, v) = name.rsplit_once('@')?;
    Some((base, parse_version(v)?))
}

/// The canonversion of `v`, as `(major, minor, patch)` with the parts
/// after the split point dropped.
fn canon(v: Version) -> (u64, Option<u64>, Option<u64>) {
    if v.major > 0 {
        (v.major, None, None)
    } else if v.minor.is_some_and(|m| m > 0) {
        (0, v.minor, None)
    } else {
        (0, v.minor, v.patch)
    }
}

/// The entry of `items` that import name `name` links to: the one of that
/// exact name, or else, among those whose name matches it by canonversion,
/// the newest version.
pub(crate) fn lookup<'a, V>(items: &'a BTreeMap<String, V>, name: &str) -> Option<&'a V> {
    if let Some(v) = items.get(name) {
        return Some(v);
    }
    let (base, version) = versioned(name)?;
    let want = canon(version);
    items
        .iter()
        .filter_map(|(k, v)| {
            let (kbase, kversion) = versioned(k)?;
            (kbase == base && canon(kversion) == want).then_some((kversion, v))
        })
        .max_by_key(|(kversion, _)| *kversion)
        .map(|(_, v)| v)
}

/// The longest name an error message repeats in full.
const MAX_SHOWN: usize = 200;

/// `name` for an error message: in full if short, else its first
/// characters and its length (a hostile binary may use names of megabytes).
pub(crate) fn elide(name: &str) -> alloc::borrow::Cow<'_, str> {
    if name.len() <= MAX_SHOWN {
        return alloc::borrow::Cow::Borrowed(name);
    }
    let mut end = MAX_SHOWN / 2;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    alloc::borrow::Cow::Owned(alloc::format!("{}… ({} bytes)", &name[..end], name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(names: &[&str]) -> BTreeMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (String::from(*n), i))
            .collect()
    }

    #[test]
    fn exact_name_wins() {
        let m = items(&["a:b/c@0.2.1", "a:b/c@0.2.9"]);
        assert_eq!(lookup(&m, "a:b/c@0.2.1"), Some(&0));
    }

    #[test]
    fn same_canonversion_links_to_the_newest() {
        let m = items(&["a:b/c@0.2.3", "a:b/c@0.2.9", "a:b/c@0.2.10-rc.1"]);
        assert_eq!(lookup(&m, "a:b/c@0.2.1"), Some(&2)); // 0.2.10-rc.1 > 0.2.9
        let m = items(&["a:b/c@1.4.0", "a:b/c@1.9.2"]);
        assert_eq!(lookup(&m, "a:b/c@1.0.0"), Some(&1));
    }

    #[test]
    fn canonical_name_in_the_binary_matches_a_full_version() {
        let m = items(&["a:b/c@0.2.6"]);
        assert_eq!(lookup(&m, "a:b/c@0.2"), Some(&0));
        let m = items(&["a:b/c@2.1.0"]);
        assert_eq!(lookup(&m, "a:b/c@2"), Some(&0));
    }

    #[test]
    fn different_canonversions_do_not_match() {
        let m = items(&["a:b/c@0.3.0", "a:b/c@2.0.0", "a:b/d@0.2.1", "a:b/c@0.0.2"]);
        assert_eq!(lookup(&m, "a:b/c@0.2.1"), None);
        assert_eq!(lookup(&m, "a:b/c@1.0.0"), None);
        assert_eq!(lookup(&m, "a:b/c@0.0.1"), None);
    }

    #[test]
    fn unversioned_and_malformed_names_match_exactly_only() {
        let m = items(&["a:b/c@0.2.1", "plain"]);
        assert_eq!(lookup(&m, "a:b/c"), None);
        assert_eq!(lookup(&m, "a:b/c@x.y"), None);
        assert_eq!(lookup(&m, "plain"), Some(&1));
    }
}
