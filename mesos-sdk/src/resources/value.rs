//! Value arithmetic: fixed-point scalars, coalesced ranges, sorted sets.

use crate::v1::value::{Range, Ranges, Set};

/// Mesos compares and adds scalars as fixed point with three decimal digits.
const SCALE: f64 = 1000.0;

/// Converts a scalar to Mesos's fixed-point representation (thousandths, rounded).
pub(crate) fn to_fixed(v: f64) -> i64 {
    (v * SCALE).round() as i64
}

/// Converts a fixed-point scalar back to `f64`.
pub(crate) fn from_fixed(v: i64) -> f64 {
    v as f64 / SCALE
}

/// Rounds a scalar to the precision Mesos keeps.
pub(crate) fn round(v: f64) -> f64 {
    from_fixed(to_fixed(v))
}

/// Sorts and merges overlapping or adjacent ranges; drops nothing else.
pub(crate) fn coalesce(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.retain(|(b, e)| b <= e);
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (b, e) in v {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

/// `a - b` for coalesced range lists (result coalesced).
pub(crate) fn subtract_ranges(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(a.len() + 1);
    let mut j = 0;
    for &(mut begin, end) in a {
        while j < b.len() && b[j].1 < begin {
            j += 1;
        }
        let mut k = j;
        let mut done = false;
        while k < b.len() && b[k].0 <= end {
            let (rb, re) = b[k];
            if rb > begin {
                out.push((begin, rb - 1));
            }
            if re >= end {
                done = true;
                break;
            }
            begin = re + 1;
            k += 1;
        }
        if !done {
            out.push((begin, end));
        }
    }
    out
}

/// Whether every number in `b` is also in `a` (both coalesced).
pub(crate) fn ranges_contain(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    b.iter()
        .all(|&(bb, be)| a.iter().any(|&(ab, ae)| ab <= bb && be <= ae))
}

/// Total count of numbers in coalesced ranges (saturating).
pub(crate) fn ranges_len(a: &[(u64, u64)]) -> u64 {
    a.iter()
        .fold(0u64, |n, &(b, e)| n.saturating_add(e - b).saturating_add(1))
}

/// Reads a `v1` ranges value as pairs.
pub(crate) fn ranges_of(r: &Ranges) -> Vec<(u64, u64)> {
    r.range.iter().map(|r| (r.begin, r.end)).collect()
}

/// Builds a `v1` ranges value from pairs.
pub(crate) fn to_ranges(v: &[(u64, u64)]) -> Ranges {
    Ranges {
        range: v.iter().map(|&(begin, end)| Range { begin, end }).collect(),
    }
}

/// Sorts and deduplicates set items.
pub(crate) fn normalize_set(s: &mut Set) {
    s.item.sort_unstable();
    s.item.dedup();
}

/// Whether sorted set `a` holds every item of sorted set `b`.
pub(crate) fn set_contains(a: &Set, b: &Set) -> bool {
    b.item.iter().all(|i| a.item.binary_search(i).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_cancels_binary_error() {
        assert_eq!(to_fixed(0.1) + to_fixed(0.2) - to_fixed(0.3), 0);
        assert_eq!(round(0.1 + 0.2), 0.3);
    }

    #[test]
    fn coalesce_merges_adjacent_and_overlapping() {
        assert_eq!(
            coalesce(vec![(5, 9), (1, 2), (3, 4), (8, 12)]),
            vec![(1, 12)]
        );
        assert_eq!(coalesce(vec![(1, 2), (4, 5)]), vec![(1, 2), (4, 5)]);
        assert_eq!(coalesce(vec![(0, u64::MAX), (3, 4)]), vec![(0, u64::MAX)]);
    }

    #[test]
    fn subtract_splits() {
        assert_eq!(
            subtract_ranges(&[(1, 10)], &[(3, 4)]),
            vec![(1, 2), (5, 10)]
        );
        assert_eq!(
            subtract_ranges(&[(1, 10)], &[(0, 1), (10, 12)]),
            vec![(2, 9)]
        );
        assert_eq!(
            subtract_ranges(&[(1, 3), (5, 7)], &[(2, 6)]),
            vec![(1, 1), (7, 7)]
        );
        assert_eq!(subtract_ranges(&[(1, 3)], &[(1, 3)]), vec![]);
        assert_eq!(
            subtract_ranges(&[(5, u64::MAX)], &[(7, u64::MAX)]),
            vec![(5, 6)]
        );
    }
}
