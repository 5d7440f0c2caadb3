//! Mesos's executor validation (`executor::validate` and `executor::internal` in
//! `src/master/validation.cpp`) and its ExecutorInfo equality
//! (`operator==(ExecutorInfo, ExecutorInfo)` in `src/common/type_utils.cpp`).

use super::{checks, id, resource};
use mesos_sdk::codec::Encoding;
use mesos_sdk::resources::Resources;
use mesos_sdk::v1;

/// The checks of one ExecutorInfo that need no books: type, id, shutdown grace period,
/// command, framework id and resources. `framework_id` is the framework's own id.
pub(crate) fn executor(e: &v1::ExecutorInfo, framework_id: &str) -> Result<(), String> {
    use v1::executor_info::Type;
    match e.r#type.map(Type::try_from) {
        Some(Ok(Type::Default)) => {
            if e.command.is_some() {
                return Err("'ExecutorInfo.command' must not be set for 'DEFAULT' executor".into());
            }
            if let Some(container) = &e.container {
                if container.r#type != v1::container_info::Type::Mesos as i32 {
                    return Err(
                        "'ExecutorInfo.container.type' must be 'MESOS' for 'DEFAULT' executor"
                            .into(),
                    );
                }
                if container.mesos.as_ref().is_some_and(|m| m.image.is_some()) {
                    return Err(
                        "'ExecutorInfo.container.mesos.image' must not be set for 'DEFAULT' executor"
                            .into(),
                    );
                }
            }
        }
        Some(Ok(Type::Custom)) if e.command.is_none() => {
            return Err("'ExecutorInfo.command' must be set for 'CUSTOM' executor".into());
        }
        _ => {}
    }
    id::id(&e.executor_id.value)?;
    if e.shutdown_grace_period.is_some_and(|d| d.nanoseconds < 0) {
        return Err("ExecutorInfo's 'shutdown_grace_period' must be non-negative".into());
    }
    if let Some(command) = &e.command {
        checks::command(command)
            .map_err(|m| format!("Executor's `CommandInfo` is invalid: {m}"))?;
    }
    match &e.framework_id {
        None => return Err("'ExecutorInfo.framework_id' must be set".into()),
        Some(id) if id.value != framework_id => {
            return Err(format!(
                "ExecutorInfo has an invalid FrameworkID (Actual: {} vs Expected: {framework_id})",
                id.value
            ));
        }
        Some(_) => {}
    }
    resource::master(&e.resources).map_err(|m| format!("Executor uses invalid resources: {m}"))
}

/// Mesos's compatibility rule: a task for an executor id the agent already runs must
/// carry an ExecutorInfo equal to the running one (both as the master normalised them).
pub(crate) fn compatible(
    existing: &v1::ExecutorInfo,
    new: &v1::ExecutorInfo,
) -> Result<(), String> {
    // Identical messages (the common case: a framework sends the same ExecutorInfo
    // with every task) need none of the field-by-field work.
    if existing == new || equal(existing, new) {
        return Ok(());
    }
    let line = "-".repeat(60);
    let text =
        |e: &v1::ExecutorInfo| String::from_utf8_lossy(&Encoding::Json.encode(e)).into_owned();
    Err(format!(
        "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.\n\
         {line}\nExisting ExecutorInfo:\n{}\n{line}\nExecutorInfo:\n{}\n{line}\n",
        text(existing),
        text(new)
    ))
}

/// The fields Mesos compares. Ignored, as in Mesos: labels, the shutdown grace period,
/// and most container details.
#[allow(deprecated)] // `source` is deprecated, and Mesos still compares it.
fn equal(a: &v1::ExecutorInfo, b: &v1::ExecutorInfo) -> bool {
    a.r#type == b.r#type
        && a.executor_id == b.executor_id
        && a.data == b.data
        && a.name == b.name
        && a.source == b.source
        && a.framework_id == b.framework_id
        && Resources::from(a.resources.clone()) == Resources::from(b.resources.clone())
        && command_eq(
            &a.command.clone().unwrap_or_default(),
            &b.command.clone().unwrap_or_default(),
        )
        && container_eq(
            &a.container.clone().unwrap_or_default(),
            &b.container.clone().unwrap_or_default(),
        )
        && a.discovery == b.discovery
}

/// CommandInfo as Mesos compares it: URIs as a set (without `cache`), arguments in
/// order, environment variables by name and value in any order, value, user, shell.
fn command_eq(a: &v1::CommandInfo, b: &v1::CommandInfo) -> bool {
    let uri = |u: &v1::command_info::Uri| {
        (
            u.value.clone(),
            u.executable,
            u.extract,
            u.output_file.clone(),
        )
    };
    let uris_a: Vec<_> = a.uris.iter().map(uri).collect();
    let uris_b: Vec<_> = b.uris.iter().map(uri).collect();
    let env = |c: &v1::CommandInfo| {
        let mut vars: Vec<(String, Option<String>)> = c
            .environment
            .iter()
            .flat_map(|e| &e.variables)
            .map(|v| (v.name.clone(), v.value.clone()))
            .collect();
        vars.sort();
        vars
    };
    uris_a.len() == uris_b.len()
        && uris_a.iter().all(|u| uris_b.contains(u))
        && a.arguments == b.arguments
        && env(a) == env(b)
        && a.value == b.value
        && a.user == b.user
        && a.shell.unwrap_or(true) == b.shell.unwrap_or(true)
}

/// ContainerInfo as Mesos compares it: type, hostname, volumes (path, host path and
/// mode, in any order) and the main Docker settings.
fn container_eq(a: &v1::ContainerInfo, b: &v1::ContainerInfo) -> bool {
    let volumes = |c: &v1::ContainerInfo| {
        let mut v: Vec<_> = c
            .volumes
            .iter()
            .map(|v| (v.container_path.clone(), v.host_path.clone(), v.mode))
            .collect();
        v.sort();
        v
    };
    let docker = |c: &v1::ContainerInfo| {
        c.docker
            .as_ref()
            .map(|d| (d.image.clone(), d.network, d.privileged, d.force_pull_image))
    };
    a.r#type == b.r#type
        && a.hostname == b.hostname
        && volumes(a) == volumes(b)
        && docker(a) == docker(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> v1::ExecutorInfo {
        v1::ExecutorInfo {
            executor_id: v1::ExecutorId { value: "e".into() },
            framework_id: Some(v1::FrameworkId { value: "f".into() }),
            command: Some(v1::CommandInfo {
                value: Some("/bin/exec".into()),
                ..Default::default()
            }),
            resources: Resources::parse("cpus:0.1;mem:32").unwrap().into_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn an_identical_executor_info_is_compatible_and_labels_are_ignored() {
        let mut other = info();
        other.labels = Some(v1::Labels {
            labels: vec![v1::Label {
                key: "k".into(),
                value: None,
            }],
        });
        other.resources.reverse();
        assert!(compatible(&info(), &other).is_ok());
    }

    #[test]
    fn missing_resources_or_another_command_are_not_compatible() {
        let mut no_resources = info();
        no_resources.resources.clear();
        let error = compatible(&info(), &no_resources).unwrap_err();
        assert!(error.starts_with(
            "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.\n"
        ));
        let mut other = info();
        other.command.as_mut().unwrap().value = Some("/bin/other".into());
        assert!(compatible(&info(), &other).is_err());
        let mut typed = info();
        typed.r#type = Some(v1::executor_info::Type::Custom as i32);
        assert!(
            compatible(&info(), &typed).is_err(),
            "unset and CUSTOM differ"
        );
    }

    #[test]
    fn executors_follow_mesos_executor_validation() {
        assert!(executor(&info(), "f").is_ok());
        let cases = [
            (
                v1::ExecutorInfo {
                    r#type: Some(v1::executor_info::Type::Custom as i32),
                    command: None,
                    ..info()
                },
                "'ExecutorInfo.command' must be set for 'CUSTOM' executor".to_string(),
            ),
            (
                v1::ExecutorInfo {
                    executor_id: v1::ExecutorId {
                        value: "a/b".into(),
                    },
                    ..info()
                },
                "'a/b' contains invalid characters".to_string(),
            ),
            (
                v1::ExecutorInfo {
                    shutdown_grace_period: Some(v1::DurationInfo { nanoseconds: -1 }),
                    ..info()
                },
                "ExecutorInfo's 'shutdown_grace_period' must be non-negative".to_string(),
            ),
            (
                v1::ExecutorInfo {
                    framework_id: Some(v1::FrameworkId { value: "g".into() }),
                    ..info()
                },
                "ExecutorInfo has an invalid FrameworkID (Actual: g vs Expected: f)".to_string(),
            ),
            (
                v1::ExecutorInfo {
                    framework_id: None,
                    ..info()
                },
                "'ExecutorInfo.framework_id' must be set".to_string(),
            ),
        ];
        for (e, message) in cases {
            assert_eq!(executor(&e, "f").unwrap_err(), message);
        }
    }
}
