//! Mesos's validation of RESERVE, UNRESERVE, CREATE and DESTROY in an ACCEPT
//! (`operation::validate` in `src/master/validation.cpp`, and the scheduler-API check
//! of `validateAndUpgradeResources` in `src/master/master.cpp`).

use super::resource;
use mesos_sdk::resources::{Resources, text_of};
use mesos_sdk::v1;
use mesos_sdk::v1::resource::reservation_info::Type as ReservationType;

/// What operation validation needs to know of the framework.
pub(crate) struct Operator<'a> {
    /// The framework's roles.
    pub(crate) roles: &'a [String],
    /// `FrameworkInfo.principal`, which Mesos holds reservations and volumes to.
    pub(crate) principal: Option<&'a str>,
    /// The framework's id.
    pub(crate) framework_id: &'a str,
    /// Whether the framework has the SHARED_RESOURCES capability.
    pub(crate) shared_resources: bool,
}

fn is_dynamically_reserved(r: &v1::Resource) -> bool {
    r.reservations
        .last()
        .is_some_and(|x| x.r#type == Some(ReservationType::Dynamic as i32))
}

fn reservation_role(r: &v1::Resource) -> &str {
    r.reservations
        .last()
        .and_then(|x| x.role.as_deref())
        .unwrap_or("*")
}

fn allocation_role(r: &v1::Resource) -> Option<&str> {
    r.allocation_info.as_ref()?.role.as_deref()
}

/// Mesos's `stringify` of a role set: `{ a, b }`.
fn roles_text(roles: &[String]) -> String {
    format!("{{ {} }}", roles.join(", "))
}

fn is_persistent_volume(r: &v1::Resource) -> bool {
    r.disk.as_ref().is_some_and(|d| d.persistence.is_some())
}

/// Mesos's `validatePersistentVolume`.
fn persistent_volumes(volumes: &[v1::Resource]) -> Result<(), String> {
    for v in volumes {
        let Some(disk) = &v.disk else {
            return Err(format!("Resource {} does not have DiskInfo", text_of(v)));
        };
        if disk.persistence.is_none() {
            return Err("'persistence' is not set in DiskInfo".into());
        }
        let Some(volume) = &disk.volume else {
            return Err("Expecting 'volume' to be set for persistent volume".into());
        };
        if volume.mode == v1::volume::Mode::Ro as i32 {
            return Err("Read-only persistent volume not supported".into());
        }
    }
    Ok(())
}

/// One allocation role for all (`validateAllocatedToSingleRole`).
fn single_role(resources: &[v1::Resource]) -> Result<(), String> {
    let mut first: Option<&str> = None;
    for r in resources {
        let Some(role) = allocation_role(r) else {
            return Err("The resources are not allocated to a role".into());
        };
        match first {
            None => first = Some(role),
            Some(f) if f != role => {
                return Err(format!(
                    "The resources have multiple allocation roles ('{role}' and '{f}') but only one allocation role is allowed"
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// RESERVE by a framework.
pub(crate) fn reserve(
    reserve: &v1::offer::operation::Reserve,
    by: &Operator<'_>,
) -> Result<(), String> {
    if !reserve.source.is_empty() {
        return Err("Operation attempted with invalid resources: Reservation updates are not yet implemented for the scheduler API.".into());
    }
    resource::master(&reserve.resources).map_err(|e| format!("Invalid resources: {e}"))?;
    for r in &reserve.resources {
        if !is_dynamically_reserved(r) {
            return Err(format!(
                "Resource {} is not dynamically reserved",
                text_of(r)
            ));
        }
        if let Some(principal) = by.principal {
            let reservation = r.reservations.last().expect("dynamically reserved");
            match reservation.principal.as_deref() {
                None => {
                    return Err(format!(
                        "A reserve operation was attempted by principal '{principal}', but there is a reserved resource in the request with no principal set"
                    ));
                }
                Some(p) if p != principal => {
                    return Err(format!(
                        "A reserve operation was attempted by authenticated principal '{principal}', which does not match a reserved resource in the request with principal '{p}'"
                    ));
                }
                Some(_) => {}
            }
        }
        let reserved = reservation_role(r);
        let Some(allocated) = allocation_role(r) else {
            return Err(format!(
                "A reserve operation was attempted on unallocated resource {}, but frameworks can only perform reservations on allocated resources",
                text_of(r)
            ));
        };
        if allocated != reserved {
            return Err(format!(
                "A reserve operation was attempted for a resource with role '{reserved}', but the resource was allocated to role '{allocated}'"
            ));
        }
        if !by.roles.iter().any(|x| x == allocated) {
            return Err(format!(
                "A reserve operation was attempted for a resource allocated to role '{allocated}', but the framework only has roles '{}'",
                roles_text(by.roles)
            ));
        }
    }
    single_role(&reserve.resources).map_err(|e| format!("Invalid reservation resources: {e}"))
}

/// RESERVE_RESOURCES by an operator: dynamically reserved, unallocated resources of
/// one role.
pub(crate) fn operator_reserve(resources: &[v1::Resource]) -> Result<(), String> {
    resource::master(resources).map_err(|e| format!("Invalid resources: {e}"))?;
    for r in resources {
        if !is_dynamically_reserved(r) {
            return Err(format!(
                "Resource {} is not dynamically reserved",
                text_of(r)
            ));
        }
        if r.allocation_info.is_some() {
            return Err(format!(
                "Resource {} is allocated; operators reserve unallocated resources",
                text_of(r)
            ));
        }
    }
    let mut roles: Vec<&str> = resources.iter().map(reservation_role).collect();
    roles.sort_unstable();
    roles.dedup();
    if roles.len() > 1 {
        return Err(format!(
            "Invalid reservation resources: The resources have multiple reservation roles: {}",
            roles.join(", ")
        ));
    }
    Ok(())
}

/// UNRESERVE.
pub(crate) fn unreserve(unreserve: &v1::offer::operation::Unreserve) -> Result<(), String> {
    resource::master(&unreserve.resources).map_err(|e| format!("Invalid resources: {e}"))?;
    for r in &unreserve.resources {
        if !is_dynamically_reserved(r) {
            return Err(format!(
                "Resource {} is not dynamically reserved",
                text_of(r)
            ));
        }
        if is_persistent_volume(r) {
            return Err(format!(
                "A dynamically reserved persistent volume {} cannot be unreserved directly. Please destroy the persistent volume first then unreserve the resource",
                text_of(r)
            ));
        }
    }
    Ok(())
}

/// CREATE; `existing` is what the agent already has (its volumes keep their ids).
pub(crate) fn create(
    create: &v1::offer::operation::Create,
    existing: &Resources,
    by: &Operator<'_>,
) -> Result<(), String> {
    resource::master(&create.volumes).map_err(|e| format!("Invalid resources: {e}"))?;
    persistent_volumes(&create.volumes).map_err(|e| format!("Not a persistent volume: {e}"))?;
    let mut all: Vec<v1::Resource> = existing.iter().cloned().collect();
    all.extend(create.volumes.iter().cloned());
    resource::unique_persistence_ids(&all)?;
    for v in &create.volumes {
        if v.shared.is_some() && !by.shared_resources {
            return Err(format!(
                "Create volume operation for '{}' has been attempted by framework '{}' with no SHARED_RESOURCES capability",
                text_of(v),
                by.framework_id
            ));
        }
        let persistence = v.disk.as_ref().and_then(|d| d.persistence.as_ref());
        if let Some(principal) = by.principal {
            match persistence.and_then(|p| p.principal.as_deref()) {
                None => {
                    return Err(format!(
                        "Create volume operation attempted by principal '{principal}', but there is a volume in the operation with no principal set in 'disk.persistence'"
                    ));
                }
                Some(p) if p != principal => {
                    return Err(format!(
                        "Create volume operation attempted by authenticated principal '{principal}', which does not match a volume in the operation with principal '{p}' set in 'disk.persistence'"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    single_role(&create.volumes).map_err(|e| format!("Invalid volume resources: {e}"))
}

/// DESTROY; `existing` is what the agent has and `in_use` what tasks and executors
/// there use (both unallocated).
pub(crate) fn destroy(
    destroy: &v1::offer::operation::Destroy,
    existing: &Resources,
    in_use: &Resources,
) -> Result<(), String> {
    let volumes: Vec<v1::Resource> = destroy
        .volumes
        .iter()
        .cloned()
        .map(|mut v| {
            v.allocation_info = None;
            v
        })
        .collect();
    resource::master(&volumes).map_err(|e| format!("Invalid resources: {e}"))?;
    persistent_volumes(&volumes).map_err(|e| format!("Not a persistent volume: {e}"))?;
    let of = |v: &v1::Resource| Resources::from(vec![v.clone()]);
    if volumes.iter().any(|v| !existing.contains(&of(v))) {
        return Err("Persistent volumes not found".into());
    }
    if volumes.iter().any(|v| in_use.contains(&of(v))) {
        return Err("Persistent volumes in use".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reserved(role: &str, principal: Option<&str>) -> v1::Resource {
        let mut r = Resources::parse("cpus:1").unwrap().into_vec().remove(0);
        r.reservations = vec![v1::resource::ReservationInfo {
            r#type: Some(ReservationType::Dynamic as i32),
            role: Some(role.into()),
            principal: principal.map(Into::into),
            ..Default::default()
        }];
        r.allocation_info = Some(v1::resource::AllocationInfo {
            role: Some(role.into()),
        });
        r
    }

    fn operator<'a>(roles: &'a [String], principal: Option<&'a str>) -> Operator<'a> {
        Operator {
            roles,
            principal,
            framework_id: "f",
            shared_resources: false,
        }
    }

    #[test]
    fn reserve_follows_mesos_rules() {
        let roles = vec!["db".to_string()];
        let ok = v1::offer::operation::Reserve {
            resources: vec![reserved("db", Some("p"))],
            source: Vec::new(),
        };
        assert!(reserve(&ok, &operator(&roles, Some("p"))).is_ok());
        let with_source = v1::offer::operation::Reserve {
            source: vec![reserved("db", None)],
            ..ok.clone()
        };
        assert_eq!(
            reserve(&with_source, &operator(&roles, None)).unwrap_err(),
            "Operation attempted with invalid resources: Reservation updates are not yet implemented for the scheduler API."
        );
        assert_eq!(
            reserve(&ok, &operator(&roles, Some("q"))).unwrap_err(),
            "A reserve operation was attempted by authenticated principal 'q', which does not match a reserved resource in the request with principal 'p'"
        );
        let other = vec!["web".to_string()];
        assert_eq!(
            reserve(&ok, &operator(&other, None)).unwrap_err(),
            "A reserve operation was attempted for a resource allocated to role 'db', but the framework only has roles '{ web }'"
        );
        let mut mismatched = ok.clone();
        mismatched.resources[0].allocation_info = Some(v1::resource::AllocationInfo {
            role: Some("web".into()),
        });
        assert_eq!(
            reserve(&mismatched, &operator(&roles, None)).unwrap_err(),
            "A reserve operation was attempted for a resource with role 'db', but the resource was allocated to role 'web'"
        );
        let unreserved = v1::offer::operation::Reserve {
            resources: Resources::parse("cpus:1").unwrap().into_vec(),
            source: Vec::new(),
        };
        assert_eq!(
            reserve(&unreserved, &operator(&roles, None)).unwrap_err(),
            "Resource cpus:1 is not dynamically reserved"
        );
    }

    #[test]
    fn unreserve_create_and_destroy_follow_mesos_rules() {
        let plain = v1::offer::operation::Unreserve {
            resources: Resources::parse("cpus:1").unwrap().into_vec(),
        };
        assert_eq!(
            unreserve(&plain).unwrap_err(),
            "Resource cpus:1 is not dynamically reserved"
        );
        let no_disk = v1::offer::operation::Create {
            volumes: vec![reserved("db", None)],
        };
        let roles = vec!["db".to_string()];
        let error = create(&no_disk, &Resources::new(), &operator(&roles, None)).unwrap_err();
        assert!(
            error.starts_with("Not a persistent volume: Resource ")
                && error.ends_with(" does not have DiskInfo"),
            "{error}"
        );
        let destroy_missing = v1::offer::operation::Destroy {
            volumes: vec![{
                let mut v = reserved("db", None);
                v.name = "disk".into();
                v.disk = Some(Box::new(v1::resource::DiskInfo {
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
                v
            }],
        };
        assert_eq!(
            destroy(&destroy_missing, &Resources::new(), &Resources::new()).unwrap_err(),
            "Persistent volumes not found"
        );
    }
}
