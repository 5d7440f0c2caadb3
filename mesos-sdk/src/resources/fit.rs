//! Fitting tasks into offers: which concrete resources to take.
//!
//! A wanted resource that is unreserved and plain (no disk info, not shared) may be
//! taken from any available resource of that name and type, whatever its reservation or
//! allocation role; reserved ones are used first, in the order of `available`. A wanted
//! resource with reservations, disk info or sharing must match that kind exactly.
//! A *scalar* wanted for a name that is *ranges* in `available` (e.g. `ports:2`) is a
//! count: the lowest free numbers are picked.
//!
//! ```
//! use mesos_sdk::resources::{Resources, fit};
//!
//! let offer = Resources::parse("cpus:4;mem:4096;ports:[31000-31009]")?;
//! let task = Resources::parse("cpus:1;mem:1024;ports:2")?;
//! let taken = fit::first_fit(&offer, &task).unwrap();
//! assert_eq!(taken.ports(), vec![(31000, 31001)]);
//! assert_eq!(fit::pack(&offer, &task, 10).len(), 4);
//! # Ok::<(), mesos_sdk::resources::ResourcesError>(())
//! ```

use super::{Resources, resource, value};
use crate::v1;
use crate::v1::value::Type as ValueType;

/// The concrete resources to take from `available` to cover `wanted`, or `None` if
/// they do not fit. The result is contained in `available` (it keeps its roles and
/// allocation), so it can go straight into a launch operation.
pub fn first_fit(available: &Resources, wanted: &Resources) -> Option<Resources> {
    let mut rest = available.clone();
    let mut taken = Resources::new();
    for want in wanted.iter() {
        let got = take_one(&rest, want)?;
        rest -= &got;
        taken += got;
    }
    Some(taken)
}

/// Up to `max` copies of `per_task` taken from `available`, one [`Resources`] per task,
/// packed first-fit.
pub fn pack(available: &Resources, per_task: &Resources, max: usize) -> Vec<Resources> {
    let mut rest = available.clone();
    let mut out = Vec::new();
    if per_task.is_empty() {
        return out;
    }
    while out.len() < max {
        let Some(got) = first_fit(&rest, per_task) else {
            break;
        };
        rest -= &got;
        out.push(got);
    }
    out
}

/// For each task in order, the index of the first offer it fits in (after the tasks
/// placed before it), or `None`.
pub fn assign(offers: &[v1::Offer], tasks: &[Resources]) -> Vec<Option<usize>> {
    assign_resources(offers, tasks)
        .into_iter()
        .map(|a| a.map(|(i, _)| i))
        .collect()
}

/// Like [`assign`], also giving the concrete resources each placed task takes.
pub fn assign_resources(
    offers: &[v1::Offer],
    tasks: &[Resources],
) -> Vec<Option<(usize, Resources)>> {
    let mut left: Vec<Resources> = offers
        .iter()
        .map(|o| Resources::from(o.resources.clone()))
        .collect();
    tasks
        .iter()
        .map(|task| {
            left.iter_mut().enumerate().find_map(|(i, rest)| {
                let got = first_fit(rest, task)?;
                *rest -= &got;
                Some((i, got))
            })
        })
        .collect()
}

fn is_plain(r: &v1::Resource) -> bool {
    r.reservations.is_empty() && r.disk.is_none() && r.shared.is_none() && r.provider_id.is_none()
}

/// The candidates for `want` in `available`, reserved ones first.
fn candidates<'a>(
    available: &'a Resources,
    want: &'a v1::Resource,
    kind: i32,
) -> Vec<&'a v1::Resource> {
    let plain = is_plain(want);
    let mut c: Vec<&v1::Resource> = available
        .iter()
        .filter(|have| {
            have.name == want.name
                && have.r#type == kind
                && if plain {
                    have.disk.is_none() && have.shared.is_none()
                } else {
                    let mut w = want.clone();
                    w.allocation_info.clone_from(&have.allocation_info);
                    resource::same_kind(have, &w) || (resource::is_atomic(&w) && **have == w)
                }
        })
        .collect();
    c.sort_by_key(|r| r.reservations.is_empty());
    c
}

fn take_one(available: &Resources, want: &v1::Resource) -> Option<Resources> {
    let scalar = ValueType::Scalar as i32;
    let ranges = ValueType::Ranges as i32;
    if resource::is_atomic(want) {
        let have = candidates(available, want, want.r#type)
            .into_iter()
            .next()?;
        return Some(Resources::from(vec![have.clone()]));
    }
    let mut out = Resources::new();
    if want.r#type == scalar {
        let as_ranges = candidates(available, want, ranges);
        if !as_ranges.is_empty() && candidates(available, want, scalar).is_empty() {
            return take_count(&as_ranges, want.scalar.map_or(0.0, |s| s.value));
        }
        let mut need = value::to_fixed(want.scalar.map_or(0.0, |s| s.value));
        for have in candidates(available, want, scalar) {
            if need <= 0 {
                break;
            }
            let amount = value::to_fixed(have.scalar.map_or(0.0, |s| s.value)).min(need);
            need -= amount;
            let mut r = have.clone();
            r.scalar = Some(v1::value::Scalar {
                value: value::from_fixed(amount),
            });
            out.push(r);
        }
        return (need <= 0).then_some(out);
    }
    if want.r#type == ranges {
        let mut need = value::ranges_of(want.ranges.as_ref()?);
        for have in candidates(available, want, ranges) {
            let have_r = value::ranges_of(have.ranges.as_ref()?);
            let common = value::subtract_ranges(&need, &value::subtract_ranges(&need, &have_r));
            if common.is_empty() {
                continue;
            }
            need = value::subtract_ranges(&need, &common);
            let mut r = have.clone();
            r.ranges = Some(value::to_ranges(&common));
            out.push(r);
        }
        return need.is_empty().then_some(out);
    }
    let mut need: Vec<String> = want.set.as_ref()?.item.clone();
    for have in candidates(available, want, want.r#type) {
        let items = &have.set.as_ref()?.item;
        let (common, rest): (Vec<String>, Vec<String>) = need
            .into_iter()
            .partition(|i| items.binary_search(i).is_ok());
        need = rest;
        if !common.is_empty() {
            let mut r = have.clone();
            r.set = Some(v1::value::Set { item: common });
            out.push(r);
        }
    }
    need.is_empty().then_some(out)
}

/// Picks the lowest `count` numbers from the candidates' ranges.
fn take_count(cands: &[&v1::Resource], count: f64) -> Option<Resources> {
    if !count.is_finite() || count < 0.0 || count.fract() != 0.0 {
        return None;
    }
    let mut need = count as u64;
    let mut out = Resources::new();
    for have in cands {
        if need == 0 {
            break;
        }
        let mut picked = Vec::new();
        for (b, e) in value::ranges_of(have.ranges.as_ref()?) {
            if need == 0 {
                break;
            }
            let n = (e - b).saturating_add(1).min(need);
            picked.push((b, b + (n - 1)));
            need -= n;
        }
        let mut r = (*have).clone();
        r.ranges = Some(value::to_ranges(&picked));
        out.push(r);
    }
    (need == 0).then_some(out)
}
