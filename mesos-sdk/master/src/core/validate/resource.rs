//! Mesos's resource validation: `Resources::validate` (`src/common/resources.cpp`) for
//! one resource and for a list, `roles::validate` (`src/common/roles.cpp`), and the
//! master's `resource::validate` (`src/master/validation.cpp`).

use mesos_sdk::resources::text_of;
use mesos_sdk::v1;
use mesos_sdk::v1::resource::reservation_info::Type as ReservationType;
use mesos_sdk::v1::value::Type as ValueType;

/// Characters a role component may not contain: whitespace and DEL.
const INVALID_ROLE_CHARACTERS: &[u8] = b"\x09\x0a\x0b\x0c\x0d\x20\x7f";

/// Mesos's `roles::validate`.
pub(crate) fn role(role: &str) -> Result<(), String> {
    if role == "*" {
        return Ok(());
    }
    if role.starts_with('/') {
        return Err(format!("Role '{role}' cannot start with a slash"));
    }
    if role.ends_with('/') {
        return Err(format!("Role '{role}' cannot end with a slash"));
    }
    if role.contains("//") {
        return Err(format!("Role '{role}' cannot contain two adjacent slashes"));
    }
    let components: Vec<&str> = role.split('/').filter(|c| !c.is_empty()).collect();
    if components.is_empty() {
        return Err("Role names cannot be the empty string".into());
    }
    for component in components {
        if matches!(component, "." | ".." | "*") {
            return Err(format!(
                "Role '{role}' cannot include '{component}' as a component"
            ));
        }
        if component.starts_with('-') {
            return Err(format!(
                "Role component '{component}' is invalid because it starts with a dash"
            ));
        }
        if component
            .bytes()
            .any(|b| INVALID_ROLE_CHARACTERS.contains(&b))
        {
            return Err(format!(
                "Role component '{component}' is invalid because it contains backspace or whitespace"
            ));
        }
    }
    Ok(())
}

/// Whether `child` is a strict sub-role of `parent` (`a/b` of `a`).
fn is_strict_subrole(child: &str, parent: &str) -> bool {
    child.len() > parent.len()
        && child.as_bytes()[parent.len()] == b'/'
        && child.starts_with(parent)
}

/// A scalar as Mesos compares it: fixed point, three decimals.
fn fixed(value: f64) -> i64 {
    (value * 1000.0).round() as i64
}

/// Mesos's `Resources::validate(const Resource&)`.
#[allow(deprecated)] // `role` and `reservation`: the pre-refinement format is checked too.
fn one(r: &v1::Resource) -> Result<(), String> {
    if r.name.is_empty() {
        return Err("Empty resource name".into());
    }
    let (scalar, ranges, set) = (r.scalar.is_some(), r.ranges.is_some(), r.set.is_some());
    match ValueType::try_from(r.r#type) {
        Err(_) => return Err("Invalid resource type".into()),
        Ok(ValueType::Scalar) => {
            if !scalar || ranges || set {
                return Err("Invalid scalar resource".into());
            }
            let value = r.scalar.map_or(0.0, |s| s.value);
            if value != 0.0 && (!value.is_finite() || fixed(value) <= 0) {
                return Err("Invalid scalar resource: value <= 0".into());
            }
        }
        Ok(ValueType::Ranges) => {
            if scalar || !ranges || set {
                return Err("Invalid ranges resource".into());
            }
            let list = &r.ranges.as_ref().map(|x| x.range.as_slice()).unwrap_or(&[]);
            for (i, a) in list.iter().enumerate() {
                if a.begin > a.end {
                    return Err("Invalid ranges resource: begin > end".into());
                }
                if list[i + 1..]
                    .iter()
                    .any(|b| a.begin <= b.begin && b.begin <= a.end)
                {
                    return Err("Invalid ranges resource: overlapping ranges".into());
                }
            }
        }
        Ok(ValueType::Set) => {
            if scalar || ranges || !set {
                return Err("Invalid set resource".into());
            }
            let items = r.set.as_ref().map(|s| s.item.as_slice()).unwrap_or(&[]);
            if items
                .iter()
                .enumerate()
                .any(|(i, a)| items[i + 1..].contains(a))
            {
                return Err("Invalid set resource: duplicated elements".into());
            }
        }
        Ok(ValueType::Text) => return Err("Unsupported resource type".into()),
    }
    if let Some(disk) = &r.disk {
        if r.name != "disk" {
            return Err(format!(
                "DiskInfo should not be set for {} resource",
                r.name
            ));
        }
        if let Some(source) = &disk.source {
            use v1::resource::disk_info::source::Type as Source;
            match Source::try_from(source.r#type) {
                Ok(kind @ (Source::Block | Source::Raw)) => {
                    let name = kind.as_str_name();
                    if source.mount.is_some() {
                        return Err(format!("Mount should not be set for {name} disk source"));
                    }
                    if source.path.is_some() {
                        return Err(format!("Path should not be set for {name} disk source"));
                    }
                }
                Ok(Source::Path | Source::Mount) => {}
                Ok(Source::Unknown) | Err(_) => {
                    return Err("Unsupported 'DiskInfo.Source.Type'".into());
                }
            }
        }
    }
    if r.reservations.is_empty() {
        let legacy = r.role.as_deref().unwrap_or("*");
        role(legacy)?;
        if let Some(reservation) = &r.reservation {
            if reservation.r#type.is_some() {
                return Err("'Resource.ReservationInfo.type' must not be set for the 'Resource.reservation' field".into());
            }
            if reservation.role.is_some() {
                return Err("'Resource.ReservationInfo.role' must not be set for the 'Resource.reservation' field".into());
            }
            if legacy == "*" {
                return Err(
                    "Invalid reservation: role \"*\" cannot be dynamically reserved".into(),
                );
            }
        }
        return Ok(());
    }
    for reservation in &r.reservations {
        if reservation.r#type.is_none() {
            return Err(
                "Invalid reservation: 'Resource.ReservationInfo.type' field must be set.".into(),
            );
        }
        let Some(reserved) = reservation.role.as_deref() else {
            return Err(
                "Invalid reservation: 'Resource.ReservationInfo.role' field must be set.".into(),
            );
        };
        role(reserved)?;
        if reserved == "*" {
            return Err("Invalid reservation: role \"*\" cannot be reserved".into());
        }
    }
    let mut ancestor = r.reservations[0].role.as_deref().unwrap_or_default();
    for reservation in &r.reservations[1..] {
        if reservation.r#type == Some(ReservationType::Static as i32) {
            return Err(
                "Invalid refined reservation: A refined reservation cannot be STATIC".into(),
            );
        }
        let descendant = reservation.role.as_deref().unwrap_or_default();
        if !is_strict_subrole(descendant, ancestor) {
            return Err(format!(
                "Invalid refined reservation: role '{descendant}' is not a refinement of '{ancestor}'"
            ));
        }
        ancestor = descendant;
    }
    if let [only] = r.reservations.as_slice() {
        let reserved = only.role.as_deref().unwrap_or_default();
        if let Some(legacy) = r.role.as_deref().filter(|l| *l != reserved) {
            return Err(format!(
                "Invalid resource format: 'Resource.role' field with '{legacy}' does not match the role '{reserved}' in 'Resource.reservations'"
            ));
        }
        match only.r#type.map(ReservationType::try_from) {
            Some(Ok(ReservationType::Static)) if r.reservation.is_some() => {
                return Err("Invalid resource format: 'Resource.reservation' must not be set if the single reservation in 'Resource.reservations' is STATIC".into());
            }
            Some(Ok(ReservationType::Dynamic)) if r.role.is_some() != r.reservation.is_some() => {
                return Err("Invalid resource format: 'Resource.role' and 'Resource.reservation' must either be both set or both not set if the single reservation in 'Resource.reservations' is DYNAMIC".into());
            }
            Some(Ok(ReservationType::Static | ReservationType::Dynamic)) => {}
            _ => return Err("Unsupported 'Resource.ReservationInfo.Type'".into()),
        }
    } else if r.role.is_some() || r.reservation.is_some() {
        return Err("Invalid resource format: 'Resource.role' and 'Resource.reservation' must not be set if there is more than one reservation in 'Resource.reservations'".into());
    }
    Ok(())
}

/// Mesos's `Resources::validate(const RepeatedPtrField<Resource>&)`: the first invalid
/// resource, named in Mesos's text form.
pub(crate) fn list(resources: &[v1::Resource]) -> Result<(), String> {
    for r in resources {
        one(r).map_err(|e| format!("Resource '{}' is invalid: {e}", text_of(r)))?;
    }
    Ok(())
}

/// The master's `resource::validate`: [`list`], whole `gpus`, DiskInfo, and no dynamic
/// reservation of revocable resources.
pub(super) fn master(resources: &[v1::Resource]) -> Result<(), String> {
    list(resources).map_err(|e| format!("Invalid resources: {e}"))?;
    let fractional_gpus = resources
        .iter()
        .any(|r| r.name == "gpus" && r.scalar.is_some_and(|s| s.value.fract() != 0.0));
    if fractional_gpus {
        return Err(
            "Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer".into(),
        );
    }
    disk_info(resources).map_err(|e| format!("Invalid DiskInfo: {e}"))?;
    if let Some(r) = resources
        .iter()
        .find(|r| is_dynamically_reserved(r) && r.revocable.is_some())
    {
        return Err(format!(
            "Invalid ReservationInfo: Dynamically reserved resource {} cannot be created from revocable resources",
            text_of(r)
        ));
    }
    Ok(())
}

/// Whether the resource's newest reservation is dynamic.
fn is_dynamically_reserved(r: &v1::Resource) -> bool {
    r.reservations
        .last()
        .is_some_and(|x| x.r#type == Some(ReservationType::Dynamic as i32))
}

/// The role a resource is reserved to (its newest reservation), `*` when unreserved.
#[allow(deprecated)] // the pre-refinement `role` field counts too
fn reservation_role(r: &v1::Resource) -> &str {
    match r.reservations.last() {
        Some(x) => x.role.as_deref().unwrap_or("*"),
        None => r.role.as_deref().unwrap_or("*"),
    }
}

/// Mesos's `validateDiskInfo`: persistent volumes are reserved, not revocable, have a
/// volume without host path and a valid id; no other volume; no empty DiskInfo.
fn disk_info(resources: &[v1::Resource]) -> Result<(), String> {
    for r in resources {
        let Some(disk) = &r.disk else { continue };
        if let Some(persistence) = &disk.persistence {
            if r.revocable.is_some() {
                return Err("Persistent volumes cannot be created from revocable resources".into());
            }
            if reservation_role(r) == "*" {
                return Err(
                    "Persistent volumes cannot be created from unreserved resources".into(),
                );
            }
            let Some(volume) = &disk.volume else {
                return Err("Expecting 'volume' to be set for persistent volume".into());
            };
            if volume.host_path.is_some() {
                return Err("Expecting 'host_path' to be unset for persistent volume".into());
            }
            super::id::id(&persistence.id)
                .map_err(|e| format!("Invalid persistence ID for persistent volume: {e}"))?;
        } else if disk.volume.is_some() {
            return Err("Non-persistent volume not supported".into());
        } else if disk.source.is_none() {
            return Err("DiskInfo is set but empty".into());
        }
    }
    Ok(())
}

/// Mesos's `validateUniquePersistenceID`: a persistence id once per role.
pub(super) fn unique_persistence_ids<'a>(
    resources: impl IntoIterator<Item = &'a v1::Resource>,
) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for r in resources {
        if let Some(p) = r.disk.as_ref().and_then(|d| d.persistence.as_ref())
            && !seen.insert((reservation_role(r).to_string(), p.id.clone()))
        {
            return Err(format!("Persistence ID '{}' is not unique", p.id));
        }
    }
    Ok(())
}

/// Mesos's `validateRevocableAndNonRevocableResources`: one resource name is either
/// all revocable or not at all.
fn revocable_mix<'a, I>(resources: I) -> Result<(), String>
where
    I: Iterator<Item = &'a v1::Resource> + Clone,
{
    for r in resources.clone() {
        let mixed = resources
            .clone()
            .any(|o| o.name == r.name && o.revocable.is_some() != r.revocable.is_some());
        if mixed {
            return Err(format!(
                "Cannot use both revocable and non-revocable '{}' at the same time",
                r.name
            ));
        }
    }
    Ok(())
}

/// The persistence-id and revocable checks Mesos runs on a task's, an executor's or
/// both's resources (given as one list, or several read as one, without copying them);
/// `uses` and `mixes` start its messages (`Task uses`, `Task mixes`).
pub(super) fn owned<'a, I>(resources: I, uses: &str, mixes: &str) -> Result<(), String>
where
    I: IntoIterator<Item = &'a v1::Resource>,
    I::IntoIter: Clone,
{
    let resources = resources.into_iter();
    unique_persistence_ids(resources.clone())
        .map_err(|e| format!("{uses} duplicate persistence ID: {e}"))?;
    revocable_mix(resources)
        .map_err(|e| format!("{mixes} revocable and non-revocable resources: {e}"))
}

/// Mesos's text form of a list of resources as written (`cpus:1; mem:128`).
pub(crate) fn text(resources: &[v1::Resource]) -> String {
    resources
        .iter()
        .map(|r| text_of(r).to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether two lists share a range or set item of the same resource (Mesos refuses a
/// port in both a task and its executor, where addition would merge them).
pub(super) fn overlap(a: &[v1::Resource], b: &[v1::Resource]) -> bool {
    let same = |x: &v1::Resource, y: &v1::Resource| {
        x.name == y.name && x.reservations == y.reservations && x.disk == y.disk
    };
    a.iter().any(|x| {
        b.iter().filter(|y| same(x, y)).any(|y| {
            let ranges = match (&x.ranges, &y.ranges) {
                (Some(p), Some(q)) => p
                    .range
                    .iter()
                    .any(|r| q.range.iter().any(|s| r.begin <= s.end && s.begin <= r.end)),
                _ => false,
            };
            let sets = match (&x.set, &y.set) {
                (Some(p), Some(q)) => p.item.iter().any(|i| q.item.contains(i)),
                _ => false,
            };
            ranges || sets
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(name: &str, value: f64) -> v1::Resource {
        v1::Resource {
            name: name.into(),
            r#type: ValueType::Scalar as i32,
            scalar: Some(v1::value::Scalar { value }),
            ..Default::default()
        }
    }

    fn ranges(name: &str, list: &[(u64, u64)]) -> v1::Resource {
        v1::Resource {
            name: name.into(),
            r#type: ValueType::Ranges as i32,
            ranges: Some(v1::value::Ranges {
                range: list
                    .iter()
                    .map(|&(begin, end)| v1::value::Range { begin, end })
                    .collect(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn roles_follow_mesos_roles_validate() {
        assert!(role("*").is_ok() && role("a/b").is_ok() && role("web").is_ok());
        for (bad, message) in [
            ("/a", "Role '/a' cannot start with a slash"),
            ("a/", "Role 'a/' cannot end with a slash"),
            ("a//b", "Role 'a//b' cannot contain two adjacent slashes"),
            ("", "Role names cannot be the empty string"),
            ("a/./b", "Role 'a/./b' cannot include '.' as a component"),
            ("a/*", "Role 'a/*' cannot include '*' as a component"),
            (
                "-a",
                "Role component '-a' is invalid because it starts with a dash",
            ),
            (
                "a b",
                "Role component 'a b' is invalid because it contains backspace or whitespace",
            ),
        ] {
            assert_eq!(role(bad).unwrap_err(), message, "{bad:?}");
        }
    }

    #[test]
    fn resources_follow_mesos_resources_validate() {
        assert!(list(&[scalar("cpus", 1.0), scalar("mem", 0.0)]).is_ok());
        let cases = [
            (scalar("", 1.0), "Empty resource name"),
            (scalar("cpus", -1.0), "Invalid scalar resource: value <= 0"),
            (
                scalar("cpus", 0.0004),
                "Invalid scalar resource: value <= 0",
            ),
            (
                ranges("ports", &[(5, 1)]),
                "Invalid ranges resource: begin > end",
            ),
            (
                ranges("ports", &[(1, 5), (3, 7)]),
                "Invalid ranges resource: overlapping ranges",
            ),
            (
                v1::Resource {
                    r#type: 7,
                    ..scalar("cpus", 1.0)
                },
                "Invalid resource type",
            ),
            (
                v1::Resource {
                    ranges: Some(Default::default()),
                    ..scalar("cpus", 1.0)
                },
                "Invalid scalar resource",
            ),
            (
                v1::Resource {
                    name: "zones".into(),
                    r#type: ValueType::Set as i32,
                    set: Some(v1::value::Set {
                        item: vec!["a".into(), "a".into()],
                    }),
                    ..Default::default()
                },
                "Invalid set resource: duplicated elements",
            ),
            (
                v1::Resource {
                    reservations: vec![v1::resource::ReservationInfo {
                        r#type: Some(ReservationType::Static as i32),
                        role: Some("*".into()),
                        ..Default::default()
                    }],
                    ..scalar("cpus", 1.0)
                },
                "Invalid reservation: role \"*\" cannot be reserved",
            ),
        ];
        for (resource, message) in cases {
            let error = list(std::slice::from_ref(&resource)).unwrap_err();
            assert!(
                error.starts_with("Resource '")
                    && error.ends_with(&format!("' is invalid: {message}")),
                "{resource:?}: {error}"
            );
        }
        assert_eq!(
            list(&[ranges("ports", &[(1, 5), (3, 7)])]).unwrap_err(),
            "Resource 'ports:[1-5, 3-7]' is invalid: Invalid ranges resource: overlapping ranges"
        );
        assert!(
            list(&[ranges("ports", &[(1, 5), (6, 7)])]).is_ok(),
            "adjacent is fine"
        );
    }

    #[test]
    fn disk_persistence_and_revocable_rules_follow_mesos() {
        let mut volume = scalar("disk", 10.0);
        volume.disk = Some(Box::new(v1::resource::DiskInfo {
            persistence: Some(v1::resource::disk_info::Persistence {
                id: "v1".into(),
                principal: None,
            }),
            volume: Some(v1::Volume {
                container_path: "data".into(),
                mode: v1::volume::Mode::Rw as i32,
                ..Default::default()
            }),
            ..Default::default()
        }));
        assert_eq!(
            master(std::slice::from_ref(&volume)).unwrap_err(),
            "Invalid DiskInfo: Persistent volumes cannot be created from unreserved resources"
        );
        volume.reservations = vec![v1::resource::ReservationInfo {
            r#type: Some(ReservationType::Dynamic as i32),
            role: Some("db".into()),
            ..Default::default()
        }];
        assert!(master(std::slice::from_ref(&volume)).is_ok());
        assert_eq!(
            unique_persistence_ids(&[volume.clone(), volume.clone()]).unwrap_err(),
            "Persistence ID 'v1' is not unique"
        );
        let mut empty = scalar("disk", 1.0);
        empty.disk = Some(Default::default());
        assert_eq!(
            master(&[empty]).unwrap_err(),
            "Invalid DiskInfo: DiskInfo is set but empty"
        );
        let mut revocable = scalar("cpus", 1.0);
        revocable.revocable = Some(Default::default());
        assert_eq!(
            owned(
                &[revocable.clone(), scalar("cpus", 1.0)],
                "Task uses",
                "Task mixes"
            )
            .unwrap_err(),
            "Task mixes revocable and non-revocable resources: Cannot use both revocable and non-revocable 'cpus' at the same time"
        );
        assert!(owned(&[revocable, scalar("mem", 1.0)], "Task uses", "Task mixes").is_ok());
    }

    #[test]
    fn a_port_in_both_task_and_executor_overlaps() {
        let task = [ranges("ports", &[(31000, 31000)]), scalar("cpus", 1.0)];
        assert!(overlap(&task, &[ranges("ports", &[(30990, 31005)])]));
        assert!(!overlap(&task, &[ranges("ports", &[(31001, 31005)])]));
        assert!(!overlap(&task, &[scalar("cpus", 1.0)]), "scalars add up");
    }
}
