//! Resource bookkeeping for the master: sums, differences and containment of
//! `v1::Resource` lists (scalars, ranges, sets), keyed by identity (name, role,
//! reservations, disk, revocable, shared; `allocation_info` is ignored).

use crate::v1;

/// A normalised list of resources: one entry per identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Pool {
    items: Vec<v1::Resource>,
}

const EPSILON: f64 = 1e-9;

#[allow(deprecated)] // `role` is still on the wire for old frameworks.
fn same_identity(a: &v1::Resource, b: &v1::Resource) -> bool {
    a.name == b.name
        && a.role == b.role
        && a.reservations == b.reservations
        && a.reservation == b.reservation
        && a.disk == b.disk
        && a.revocable == b.revocable
        && a.shared == b.shared
        && a.provider_id == b.provider_id
}

/// A copy without the allocation role, as the agent's books keep it.
pub(crate) fn strip_allocation(r: &v1::Resource) -> v1::Resource {
    let mut r = r.clone();
    r.allocation_info = None;
    r
}

fn ranges_of(r: &v1::Resource) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = r
        .ranges
        .as_ref()
        .map(|rs| rs.range.iter().map(|x| (x.begin, x.end)).collect())
        .unwrap_or_default();
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (b, e) in v {
        if b > e {
            continue;
        }
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

fn set_ranges(r: &mut v1::Resource, ranges: Vec<(u64, u64)>) {
    r.ranges = Some(v1::value::Ranges {
        range: ranges
            .into_iter()
            .map(|(begin, end)| v1::value::Range { begin, end })
            .collect(),
    });
}

fn ranges_contain(outer: &[(u64, u64)], inner: &[(u64, u64)]) -> bool {
    inner
        .iter()
        .all(|&(b, e)| outer.iter().any(|&(ob, oe)| ob <= b && e <= oe))
}

fn ranges_sub(outer: &[(u64, u64)], inner: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = outer.to_vec();
    for &(b, e) in inner {
        let mut next = Vec::with_capacity(out.len() + 1);
        for (ob, oe) in out {
            if e < ob || b > oe {
                next.push((ob, oe));
                continue;
            }
            if ob < b {
                next.push((ob, b - 1));
            }
            if e < oe {
                next.push((e + 1, oe));
            }
        }
        out = next;
    }
    out
}

fn is_empty(r: &v1::Resource) -> bool {
    match r.r#type {
        t if t == v1::value::Type::Scalar as i32 => {
            r.scalar.as_ref().is_none_or(|s| s.value.abs() < EPSILON)
        }
        t if t == v1::value::Type::Ranges as i32 => {
            r.ranges.as_ref().is_none_or(|x| x.range.is_empty())
        }
        t if t == v1::value::Type::Set as i32 => r.set.as_ref().is_none_or(|x| x.item.is_empty()),
        _ => true,
    }
}

impl Pool {
    /// An empty pool.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A pool holding `resources` (allocation roles stripped).
    pub(crate) fn from_resources<'a>(
        resources: impl IntoIterator<Item = &'a v1::Resource>,
    ) -> Self {
        let mut pool = Self::new();
        for r in resources {
            pool.add(r);
        }
        pool
    }

    /// The resources, one entry per identity.
    pub(crate) fn resources(&self) -> &[v1::Resource] {
        &self.items
    }

    /// True when nothing is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds one resource.
    pub(crate) fn add(&mut self, r: &v1::Resource) {
        let r = strip_allocation(r);
        if is_empty(&r) {
            return;
        }
        match self.items.iter_mut().find(|x| same_identity(x, &r)) {
            Some(x) if x.r#type == r.r#type => {
                if let (Some(a), Some(b)) = (x.scalar.as_mut(), r.scalar.as_ref()) {
                    a.value += b.value;
                }
                if r.ranges.is_some() {
                    let mut all = ranges_of(x);
                    all.extend(ranges_of(&r));
                    let mut tmp = x.clone();
                    set_ranges(&mut tmp, all);
                    set_ranges(x, ranges_of(&tmp));
                }
                if let (Some(a), Some(b)) = (x.set.as_mut(), r.set.as_ref()) {
                    for item in &b.item {
                        if !a.item.contains(item) {
                            a.item.push(item.clone());
                        }
                    }
                }
            }
            _ => {
                let mut r = r;
                if r.ranges.is_some() {
                    let normal = ranges_of(&r);
                    set_ranges(&mut r, normal);
                }
                self.items.push(r);
            }
        }
    }

    /// Adds every resource of `other`.
    pub(crate) fn add_all<'a>(&mut self, other: impl IntoIterator<Item = &'a v1::Resource>) {
        for r in other {
            self.add(r);
        }
    }

    /// True when `r` fits entirely in this pool.
    pub(crate) fn contains_one(&self, r: &v1::Resource) -> bool {
        let r = strip_allocation(r);
        if is_empty(&r) {
            return true;
        }
        let Some(x) = self
            .items
            .iter()
            .find(|x| same_identity(x, &r) && x.r#type == r.r#type)
        else {
            return false;
        };
        if let Some(b) = r.scalar.as_ref() {
            return x
                .scalar
                .as_ref()
                .is_some_and(|a| a.value + EPSILON >= b.value);
        }
        if r.ranges.is_some() {
            return ranges_contain(&ranges_of(x), &ranges_of(&r));
        }
        if let Some(b) = r.set.as_ref() {
            return x
                .set
                .as_ref()
                .is_some_and(|a| b.item.iter().all(|i| a.item.contains(i)));
        }
        false
    }

    /// True when every resource of `other` fits (summed first).
    pub(crate) fn contains(&self, other: &Pool) -> bool {
        other.items.iter().all(|r| self.contains_one(r))
    }

    /// Removes `other`; `false` (and no change) when it does not fit.
    pub(crate) fn subtract(&mut self, other: &Pool) -> bool {
        if !self.contains(other) {
            return false;
        }
        for r in &other.items {
            let Some(pos) = self.items.iter().position(|x| same_identity(x, r)) else {
                continue;
            };
            let x = &mut self.items[pos];
            if let (Some(a), Some(b)) = (x.scalar.as_mut(), r.scalar.as_ref()) {
                a.value -= b.value;
                if a.value < EPSILON {
                    a.value = 0.0;
                }
            }
            if r.ranges.is_some() {
                let left = ranges_sub(&ranges_of(x), &ranges_of(r));
                set_ranges(x, left);
            }
            if let (Some(a), Some(b)) = (x.set.as_mut(), r.set.as_ref()) {
                a.item.retain(|i| !b.item.contains(i));
            }
            if is_empty(x) {
                self.items.remove(pos);
            }
        }
        true
    }

    /// The total of one scalar resource (e.g. `cpus`) across identities.
    pub(crate) fn scalar(&self, name: &str) -> f64 {
        self.items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
            .sum()
    }

    /// The resources tagged with an allocation role, as offers carry them.
    pub(crate) fn allocated_to(&self, role: &str) -> Vec<v1::Resource> {
        self.items
            .iter()
            .cloned()
            .map(|mut r| {
                r.allocation_info = Some(v1::resource::AllocationInfo {
                    role: Some(role.to_string()),
                });
                r
            })
            .collect()
    }

    /// Whether a framework of `role` may use these resources: unreserved ones, or
    /// ones reserved to that role.
    #[allow(deprecated)] // `role` is still on the wire for old frameworks.
    pub(crate) fn usable_by(&self, role: &str) -> Pool {
        let mut out = Pool::new();
        for r in &self.items {
            let reserved_to = r
                .reservations
                .last()
                .and_then(|x| x.role.clone())
                .or_else(|| r.role.clone().filter(|x| x != "*"));
            if reserved_to.as_deref().is_none_or(|x| x == role) {
                out.items.push(r.clone());
            }
        }
        out
    }
}

/// Parses Mesos's `--resources` text: `cpus:2;mem:1024;ports:[31000-32000];disks:{a,b}`.
///
/// Each entry is `name:value` or `name(role):value`.
pub(crate) fn parse(text: &str) -> Result<Vec<v1::Resource>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once(':')
            .ok_or_else(|| format!("resource '{part}' is not of the form name:value"))?;
        let (name, role) = match name.split_once('(') {
            Some((n, rest)) => (
                n.trim(),
                Some(rest.trim_end_matches(')').trim().to_string()),
            ),
            None => (name.trim(), None),
        };
        if name.is_empty() {
            return Err(format!("resource '{part}' has no name"));
        }
        let value = value.trim();
        let mut r = v1::Resource {
            name: name.to_string(),
            ..Default::default()
        };
        if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            r.r#type = v1::value::Type::Ranges as i32;
            let mut ranges = Vec::new();
            for piece in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (b, e) = piece.split_once('-').unwrap_or((piece, piece));
                let begin = b
                    .trim()
                    .parse::<u64>()
                    .map_err(|e| format!("bad range '{piece}': {e}"))?;
                let end = e
                    .trim()
                    .parse::<u64>()
                    .map_err(|e| format!("bad range '{piece}': {e}"))?;
                if begin > end {
                    return Err(format!("range '{piece}' ends before it begins"));
                }
                ranges.push(v1::value::Range { begin, end });
            }
            r.ranges = Some(v1::value::Ranges { range: ranges });
        } else if let Some(inner) = value.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
            r.r#type = v1::value::Type::Set as i32;
            r.set = Some(v1::value::Set {
                item: inner
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            });
        } else {
            let v = value
                .parse::<f64>()
                .map_err(|e| format!("resource '{part}': '{value}' is not a number: {e}"))?;
            if !v.is_finite() || v < 0.0 {
                return Err(format!(
                    "resource '{part}' must be a finite non-negative number"
                ));
            }
            r.r#type = v1::value::Type::Scalar as i32;
            r.scalar = Some(v1::value::Scalar { value: v });
        }
        if let Some(role) = role.filter(|r| r != "*") {
            r.reservations.push(v1::resource::ReservationInfo {
                r#type: Some(v1::resource::reservation_info::Type::Static as i32),
                role: Some(role),
                ..Default::default()
            });
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtract_and_add_round_trip() {
        let total = Pool::from_resources(&parse("cpus:4;mem:1024;ports:[31000-31010]").unwrap());
        let part = Pool::from_resources(&parse("cpus:1.5;mem:512;ports:[31003-31004]").unwrap());
        let mut left = total.clone();
        assert!(left.subtract(&part));
        assert!((left.scalar("cpus") - 2.5).abs() < 1e-9);
        assert!(!left.contains_one(&parse("ports:[31003-31003]").unwrap()[0]));
        left.add_all(part.resources());
        assert!(left.contains(&total) && total.contains(&left));
    }

    #[test]
    fn does_not_subtract_more_than_held() {
        let mut p = Pool::from_resources(&parse("cpus:1").unwrap());
        assert!(!p.subtract(&Pool::from_resources(&parse("cpus:2").unwrap())));
        assert!((p.scalar("cpus") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_text() {
        assert!(parse("cpus").is_err());
        assert!(parse("cpus:-1").is_err());
        assert!(parse("ports:[5-1]").is_err());
    }
}
