//! Resource arithmetic (scalars, ranges, sets; roles and reservations) and offer fitting.
//!
//! [`Resources`] is a normalized bag of `v1::Resource` that adds, subtracts and compares
//! the way Mesos does:
//!
//! - two resources of the same *kind* (name, type, reservations, allocation role, disk,
//!   revocable and provider) merge into one; shared resources, persistent volumes and
//!   MOUNT disks never merge and are only subtracted whole;
//! - scalars are fixed point with three decimal digits, so `0.1 + 0.2 - 0.3 == 0`;
//! - ranges coalesce when they touch and split when a part is subtracted;
//! - sets take the union and the difference;
//! - whatever becomes empty disappears, and subtraction never goes below zero.
//!
//! ```
//! use mesos_sdk::resources::Resources;
//!
//! let agent = Resources::parse("cpus:4;mem:8192;ports:[31000-32000]")?;
//! let task = Resources::parse("cpus:0.5;mem:512;ports:[31000-31000]")?;
//! assert!(agent.contains(&task));
//! let left = agent - task;
//! assert_eq!(left.cpus(), 3.5);
//! assert_eq!(left.ports(), vec![(31001, 32000)]);
//! assert_eq!(left.to_string(), "cpus:3.5; mem:7680; ports:[31001-32000]");
//! # Ok::<(), mesos_sdk::resources::ResourcesError>(())
//! ```

mod error;
pub mod fit;
mod format;
mod ops;
mod resource;
mod text;
mod value;

use std::collections::BTreeSet;

pub use error::ResourcesError;
pub use text::text_of;

use crate::v1;
use crate::v1::value::Type as ValueType;

/// A normalized collection of Mesos resources.
///
/// Build it with [`Resources::parse`], from `v1::Resource`s (`From<Vec<_>>`,
/// `FromIterator`), or from the [`scalar`], [`ranges`] and [`set`] helpers. Invalid or
/// empty resources given through `From`/`FromIterator` are dropped (logged at debug
/// level); use [`Resources::try_from_vec`] to reject them instead.
///
/// Equality ignores order: two collections are equal when each contains the other.
#[derive(Clone, Debug, Default)]
pub struct Resources {
    items: Vec<v1::Resource>,
}

impl Resources {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the Mesos `--resources` text form, e.g.
    /// `"cpus:4;mem:8192;disk:10000;ports:[31000-32000]"`, `"cpus(role):2"`,
    /// `"zones:{a,b}"`. Entries are separated by `;`; a scalar is a decimal number,
    /// ranges are `[b-e,b-e]`, a set is `{a,b}`. Entries with the same name add up.
    /// The [`Display`](std::fmt::Display) form, including its `(allocated: r)` and
    /// `(reservations: [(STATIC,r),(DYNAMIC,r,principal)])` annotations, parses back.
    ///
    /// # Errors
    /// A [`ResourcesError`] naming the entry: bad syntax, a bad or negative number, a bad
    /// range, or one name used with two value types.
    pub fn parse(spec: &str) -> Result<Self, ResourcesError> {
        text::parse(spec, None)
    }

    /// Like [`Resources::parse`], but entries without a role are statically reserved to
    /// `default_role` (Mesos's `--default_role`), unless it is `*`.
    ///
    /// # Errors
    /// As [`Resources::parse`].
    pub fn parse_with_role(spec: &str, default_role: &str) -> Result<Self, ResourcesError> {
        text::parse(spec, Some(default_role))
    }

    /// Builds a collection, rejecting any invalid resource (negative or non-finite
    /// scalar, missing value, `begin > end` range, empty name) instead of dropping it.
    ///
    /// # Errors
    /// The first invalid resource's [`ResourcesError`].
    pub fn try_from_vec(resources: Vec<v1::Resource>) -> Result<Self, ResourcesError> {
        let mut out = Self::new();
        for r in resources {
            if let Some(r) = resource::normalize(r)? {
                out.add_normalized(r);
            }
        }
        Ok(out)
    }

    /// Checks resources received from a peer the way [`Resources::try_from_vec`] does.
    ///
    /// # Errors
    /// The first invalid resource's [`ResourcesError`].
    pub fn validate(resources: &[v1::Resource]) -> Result<(), ResourcesError> {
        resources
            .iter()
            .try_for_each(|r| resource::normalize(r.clone()).map(|_| ()))
    }

    /// The normalized resources.
    pub fn as_slice(&self) -> &[v1::Resource] {
        &self.items
    }

    /// The normalized resources, by value (e.g. for `Offer.resources`).
    pub fn into_vec(self) -> Vec<v1::Resource> {
        self.items
    }

    /// Iterates over the normalized resources.
    pub fn iter(&self) -> impl Iterator<Item = &v1::Resource> {
        self.items.iter()
    }

    /// Whether there is nothing in the collection.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The number of distinct resources (after merging).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The total of scalar resource `name` across roles and reservations (0 if absent).
    pub fn scalar(&self, name: &str) -> f64 {
        let fixed: i64 = self
            .items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.map(|s| value::to_fixed(s.value)))
            .fold(0, i64::saturating_add);
        value::from_fixed(fixed)
    }

    /// Total `cpus`.
    pub fn cpus(&self) -> f64 {
        self.scalar("cpus")
    }

    /// Total `mem`, in MB.
    pub fn mem(&self) -> f64 {
        self.scalar("mem")
    }

    /// Total `disk`, in MB.
    pub fn disk(&self) -> f64 {
        self.scalar("disk")
    }

    /// The union of ranges resource `name` across roles, coalesced and sorted.
    pub fn ranges(&self, name: &str) -> Vec<(u64, u64)> {
        let all = self
            .items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.ranges.as_ref())
            .flat_map(value::ranges_of)
            .collect();
        value::coalesce(all)
    }

    /// How many numbers ranges resource `name` holds across roles (e.g. free ports).
    pub fn range_count(&self, name: &str) -> u64 {
        value::ranges_len(&self.ranges(name))
    }

    /// The `ports` ranges.
    pub fn ports(&self) -> Vec<(u64, u64)> {
        self.ranges("ports")
    }

    /// The union of set resource `name` across roles, sorted.
    pub fn set_items(&self, name: &str) -> BTreeSet<String> {
        self.items
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.set.as_ref())
            .flat_map(|s| s.item.iter().cloned())
            .collect()
    }

    /// Whether `other` could be subtracted entirely: every resource in it is covered by
    /// a resource of the same kind here (same role, reservations and allocation).
    pub fn contains(&self, other: &Resources) -> bool {
        if other.items.iter().any(resource::is_atomic) {
            let mut rest = self.clone();
            for r in &other.items {
                if !rest.contains_one(r) {
                    return false;
                }
                rest.sub_normalized(r);
            }
            true
        } else {
            other.items.iter().all(|r| self.contains_one(r))
        }
    }

    /// `self - other` if `self` [contains](Resources::contains) `other`, else `None`.
    pub fn checked_sub(&self, other: &Resources) -> Option<Resources> {
        self.contains(other).then(|| self - other)
    }

    /// Marks every resource as allocated to `role` (what offers carry), replacing any
    /// previous allocation.
    pub fn allocate(mut self, role: &str) -> Resources {
        if self.same_allocation() {
            // Every kind stays distinct, so the values can be relabelled in place.
            for r in &mut self.items {
                r.allocation_info = Some(v1::resource::AllocationInfo {
                    role: Some(role.to_owned()),
                });
            }
            return self;
        }
        self.map_each(|r| {
            r.allocation_info = Some(v1::resource::AllocationInfo {
                role: Some(role.to_owned()),
            })
        })
    }

    /// Clears the allocation role of every resource.
    pub fn unallocate(mut self) -> Resources {
        if self.same_allocation() {
            for r in &mut self.items {
                r.allocation_info = None;
            }
            return self;
        }
        self.map_each(|r| r.allocation_info = None)
    }

    fn same_allocation(&self) -> bool {
        self.items
            .windows(2)
            .all(|w| w[0].allocation_info == w[1].allocation_info)
    }

    /// The resources reserved (statically or dynamically) to exactly `role`.
    pub fn reserved(&self, role: &str) -> Resources {
        self.filter(|r| resource::reservation_role(r) == Some(role))
    }

    /// All reserved resources, whatever the role.
    pub fn reserved_any(&self) -> Resources {
        self.filter(|r| !r.reservations.is_empty())
    }

    /// The unreserved resources.
    pub fn unreserved(&self) -> Resources {
        self.filter(|r| r.reservations.is_empty())
    }

    /// What may be offered to `role`: unreserved resources and those reserved to `role`
    /// or to one of its ancestors (`a` for `a/b`).
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| match resource::reservation_role(r) {
            None => true,
            Some(res) => resource::is_role_or_subrole(role, res),
        })
    }

    /// The scalar resources only.
    pub fn scalars(&self) -> Resources {
        self.filter(|r| r.r#type == ValueType::Scalar as i32)
    }

    /// The resources for which `keep` returns true.
    pub fn filter(&self, mut keep: impl FnMut(&v1::Resource) -> bool) -> Resources {
        Resources {
            items: self.items.iter().filter(|r| keep(r)).cloned().collect(),
        }
    }

    /// The distinct resource names.
    pub fn names(&self) -> BTreeSet<String> {
        self.items.iter().map(|r| r.name.clone()).collect()
    }

    /// Adds one resource; an invalid one is dropped (logged at debug level).
    pub fn push(&mut self, r: v1::Resource) {
        match resource::normalize(r) {
            Ok(Some(r)) => self.add_normalized(r),
            Ok(None) => {}
            Err(e) => tracing::debug!(error = %e, "dropping invalid resource"),
        }
    }

    fn map_each(self, mut f: impl FnMut(&mut v1::Resource)) -> Resources {
        let mut out = Resources::new();
        for mut r in self.items {
            f(&mut r);
            out.add_normalized(r);
        }
        out
    }

    fn add_normalized(&mut self, r: v1::Resource) {
        if !resource::is_atomic(&r) {
            if let Some(have) = self.items.iter_mut().find(|x| resource::same_kind(x, &r)) {
                merge(have, &r);
                return;
            }
        }
        self.items.push(r);
    }

    fn sub_normalized(&mut self, r: &v1::Resource) {
        if resource::is_atomic(r) {
            if let Some(i) = self.items.iter().position(|x| x == r) {
                self.items.remove(i);
            }
            return;
        }
        let Some(i) = self.items.iter().position(|x| resource::same_kind(x, r)) else {
            return;
        };
        if !remove_value(&mut self.items[i], r) {
            self.items.remove(i);
        }
    }

    fn contains_one(&self, r: &v1::Resource) -> bool {
        if resource::is_atomic(r) {
            return self.items.iter().any(|x| x == r);
        }
        self.items
            .iter()
            .find(|x| resource::same_kind(x, r))
            .is_some_and(|have| value_contains(have, r))
    }
}

/// Adds `r`'s value into `have` (same kind).
fn merge(have: &mut v1::Resource, r: &v1::Resource) {
    if let (Some(a), Some(b)) = (have.scalar.as_mut(), r.scalar.as_ref()) {
        // Huge scalars saturate (at about 9.2e15) instead of overflowing.
        a.value =
            value::from_fixed(value::to_fixed(a.value).saturating_add(value::to_fixed(b.value)));
    }
    if let (Some(a), Some(b)) = (have.ranges.as_mut(), r.ranges.as_ref()) {
        let mut all = value::ranges_of(a);
        all.extend(value::ranges_of(b));
        *a = value::to_ranges(&value::coalesce(all));
    }
    if let (Some(a), Some(b)) = (have.set.as_mut(), r.set.as_ref()) {
        a.item.extend(b.item.iter().cloned());
        value::normalize_set(a);
    }
}

/// Removes `r`'s value from `have` (same kind); returns whether anything is left.
fn remove_value(have: &mut v1::Resource, r: &v1::Resource) -> bool {
    if let (Some(a), Some(b)) = (have.scalar.as_mut(), r.scalar.as_ref()) {
        let left = value::to_fixed(a.value).saturating_sub(value::to_fixed(b.value));
        a.value = value::from_fixed(left);
        return left > 0;
    }
    if let (Some(a), Some(b)) = (have.ranges.as_mut(), r.ranges.as_ref()) {
        let left = value::subtract_ranges(&value::ranges_of(a), &value::ranges_of(b));
        *a = value::to_ranges(&left);
        return !left.is_empty();
    }
    if let (Some(a), Some(b)) = (have.set.as_mut(), r.set.as_ref()) {
        a.item.retain(|i| b.item.binary_search(i).is_err());
        return !a.item.is_empty();
    }
    true
}

/// Whether `have`'s value covers `r`'s (same kind).
fn value_contains(have: &v1::Resource, r: &v1::Resource) -> bool {
    match (
        &have.scalar,
        &r.scalar,
        &have.ranges,
        &r.ranges,
        &have.set,
        &r.set,
    ) {
        (Some(a), Some(b), ..) => value::to_fixed(a.value) >= value::to_fixed(b.value),
        (_, _, Some(a), Some(b), ..) => {
            value::ranges_contain(&value::ranges_of(a), &value::ranges_of(b))
        }
        (.., Some(a), Some(b)) => value::set_contains(a, b),
        _ => false,
    }
}

impl PartialEq for Resources {
    fn eq(&self, other: &Self) -> bool {
        self.items.len() == other.items.len() && self.contains(other) && other.contains(self)
    }
}

impl From<Vec<v1::Resource>> for Resources {
    fn from(v: Vec<v1::Resource>) -> Self {
        v.into_iter().collect()
    }
}

impl FromIterator<v1::Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = v1::Resource>>(iter: I) -> Self {
        let mut out = Resources::new();
        for r in iter {
            out.push(r);
        }
        out
    }
}

impl From<Resources> for Vec<v1::Resource> {
    fn from(r: Resources) -> Self {
        r.items
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a v1::Resource;
    type IntoIter = std::slice::Iter<'a, v1::Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// An unreserved scalar resource, e.g. `scalar("cpus", 0.5)`.
pub fn scalar(name: &str, value: f64) -> v1::Resource {
    v1::Resource {
        name: name.to_owned(),
        r#type: ValueType::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        ..Default::default()
    }
}

/// An unreserved ranges resource, e.g. `ranges("ports", &[(31000, 32000)])`.
pub fn ranges(name: &str, r: &[(u64, u64)]) -> v1::Resource {
    v1::Resource {
        name: name.to_owned(),
        r#type: ValueType::Ranges as i32,
        ranges: Some(value::to_ranges(r)),
        ..Default::default()
    }
}

/// An unreserved set resource, e.g. `set("zones", &["a", "b"])`.
pub fn set(name: &str, items: &[&str]) -> v1::Resource {
    v1::Resource {
        name: name.to_owned(),
        r#type: ValueType::Set as i32,
        set: Some(v1::value::Set {
            item: items.iter().map(|s| (*s).to_owned()).collect(),
        }),
        ..Default::default()
    }
}

/// Reserves `r` statically to `role` (as `--resources "name(role):value"` does).
pub fn reserve_static(mut r: v1::Resource, role: &str) -> v1::Resource {
    r.reservations.push(reservation(
        v1::resource::reservation_info::Type::Static,
        role,
        None,
    ));
    r
}

/// Reserves `r` dynamically to `role` (as a RESERVE operation does), on top of any
/// existing reservation.
pub fn reserve_dynamic(mut r: v1::Resource, role: &str, principal: Option<&str>) -> v1::Resource {
    r.reservations.push(reservation(
        v1::resource::reservation_info::Type::Dynamic,
        role,
        principal,
    ));
    r
}

fn reservation(
    kind: v1::resource::reservation_info::Type,
    role: &str,
    principal: Option<&str>,
) -> v1::resource::ReservationInfo {
    v1::resource::ReservationInfo {
        r#type: Some(kind as i32),
        role: Some(role.to_owned()),
        principal: principal.map(str::to_owned),
        labels: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `resources_parse` fuzz target: adding two scalars past `i64`
    /// thousandths overflowed (a panic in debug builds, a negative sum in release).
    #[test]
    fn huge_scalars_saturate_instead_of_overflowing() {
        let r = Resources::parse("gus:1e300;gus:1e300").unwrap();
        assert!(r.scalar("gus") > 9e15);
        let both = Resources::parse("cpus(a):1e300;cpus(b):1e300").unwrap();
        assert!(both.cpus() > 9e15, "the total saturates");
        let sum = r.clone() + &r;
        assert!(sum.contains(&r));
        assert!((sum - &r).scalar("gus") >= 0.0);
        let small = Resources::parse("gus:1").unwrap();
        assert_eq!((small.clone() - &r).scalar("gus"), 0.0);
        assert!((r.clone() - &small).contains(&small));
    }
}
