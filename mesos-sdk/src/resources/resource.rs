//! Rules for a single `v1::Resource`: normalization, validation and the "same kind" test.

use super::ResourcesError;
use super::value;
use crate::v1;
use crate::v1::resource::ReservationInfo;
use crate::v1::resource::reservation_info::Type as ReservationType;
use crate::v1::value::Type as ValueType;

/// A resource's value type as a word, for error messages.
pub(crate) fn type_name(t: i32) -> &'static str {
    match ValueType::try_from(t) {
        Ok(ValueType::Scalar) => "a scalar",
        Ok(ValueType::Ranges) => "ranges",
        Ok(ValueType::Set) => "a set",
        Ok(ValueType::Text) => "text",
        Err(_) => "an unknown type",
    }
}

/// Converts the pre-"reservation refinement" fields (`role`, `reservation`) into the
/// `reservations` stack, and keeps only the value field the type calls for.
///
/// Returns `Ok(None)` for an empty resource (zero scalar, no ranges, no items).
pub(crate) fn normalize(mut r: v1::Resource) -> Result<Option<v1::Resource>, ResourcesError> {
    // The deprecated `role` field is read only to convert it to `reservations`.
    #[allow(deprecated)]
    let legacy_role = r.role.take();
    let legacy_reservation = r.reservation.take();
    if r.reservations.is_empty() {
        if let Some(role) = legacy_role.filter(|role| role != "*") {
            let (kind, principal, labels) = match legacy_reservation {
                Some(res) => (ReservationType::Dynamic, res.principal, res.labels),
                None => (ReservationType::Static, None, None),
            };
            r.reservations.push(ReservationInfo {
                r#type: Some(kind as i32),
                role: Some(role),
                principal,
                labels,
            });
        }
    }
    let missing = |r: &v1::Resource| ResourcesError::MissingValue {
        name: r.name.clone(),
        kind: type_name(r.r#type),
    };
    match ValueType::try_from(r.r#type) {
        Ok(ValueType::Scalar) => {
            let v = r.scalar.as_ref().ok_or_else(|| missing(&r))?.value;
            if !v.is_finite() {
                return Err(ResourcesError::BadNumber {
                    name: r.name,
                    value: v.to_string(),
                });
            }
            if v < 0.0 {
                return Err(ResourcesError::Negative {
                    name: r.name,
                    value: v,
                });
            }
            let v = value::round(v);
            r.ranges = None;
            r.set = None;
            if v == 0.0 {
                return Ok(None);
            }
            r.scalar = Some(v1::value::Scalar { value: v });
        }
        Ok(ValueType::Ranges) => {
            let ranges = r.ranges.as_ref().ok_or_else(|| missing(&r))?;
            if let Some(bad) = ranges.range.iter().find(|x| x.begin > x.end) {
                return Err(ResourcesError::BadRange {
                    range: format!("{}-{}", bad.begin, bad.end),
                    name: r.name,
                });
            }
            let v = value::coalesce(value::ranges_of(ranges));
            r.scalar = None;
            r.set = None;
            if v.is_empty() {
                return Ok(None);
            }
            r.ranges = Some(value::to_ranges(&v));
        }
        Ok(ValueType::Set) => {
            let mut set = r.set.take().ok_or_else(|| missing(&r))?;
            value::normalize_set(&mut set);
            r.scalar = None;
            r.ranges = None;
            if set.item.is_empty() {
                return Ok(None);
            }
            r.set = Some(set);
        }
        _ => return Err(missing(&r)),
    }
    if r.name.is_empty() {
        return Err(ResourcesError::EmptyName {
            entry: format!("{r:?}"),
        });
    }
    Ok(Some(r))
}

/// Resources that are never merged: each copy stands alone and is only subtracted whole
/// (shared resources, persistent volumes, MOUNT disks), as in Mesos.
pub(crate) fn is_atomic(r: &v1::Resource) -> bool {
    r.shared.is_some()
        || r.disk.as_ref().is_some_and(|d| {
            d.persistence.is_some()
                || d.source.as_ref().is_some_and(|s| {
                    s.r#type == v1::resource::disk_info::source::Type::Mount as i32
                })
        })
}

/// Whether two normalized resources are of the same kind, so that their values add up.
pub(crate) fn same_kind(a: &v1::Resource, b: &v1::Resource) -> bool {
    a.name == b.name
        && a.r#type == b.r#type
        && a.reservations == b.reservations
        && a.allocation_info == b.allocation_info
        && a.disk == b.disk
        && a.revocable == b.revocable
        && a.provider_id == b.provider_id
        && a.shared.is_none()
        && b.shared.is_none()
}

/// The role a resource is reserved to (the last in its reservation stack), if any.
pub(crate) fn reservation_role(r: &v1::Resource) -> Option<&str> {
    r.reservations.last().and_then(|x| x.role.as_deref())
}

/// Whether `role` is `ancestor` or nested below it (`a/b` is below `a`).
pub(crate) fn is_role_or_subrole(role: &str, ancestor: &str) -> bool {
    role == ancestor
        || (role.len() > ancestor.len()
            && role.starts_with(ancestor)
            && role.as_bytes()[ancestor.len()] == b'/')
}
