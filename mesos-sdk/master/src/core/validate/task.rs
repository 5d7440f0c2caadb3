//! Mesos's task validation for LAUNCH (`task::validate` in `src/master/validation.cpp`),
//! in Mesos's order: the first failed rule is the task's TASK_ERROR message.

use super::{checks, executor, id, resource};
use mesos_sdk::v1;

/// What task validation needs of the master's books.
pub(crate) struct Books<'a> {
    /// The framework launching the task.
    pub(crate) framework_id: &'a str,
    /// The agent of the offers.
    pub(crate) agent_id: &'a str,
    /// Whether the framework already has a task with this id (a live one, a terminal
    /// one whose last update is not acknowledged yet, or one launched earlier in the
    /// same ACCEPT).
    pub(crate) is_duplicate: &'a dyn Fn(&str) -> bool,
    /// The ExecutorInfo of the task's executor, when the agent already runs it.
    pub(crate) running_executor: Option<&'a v1::ExecutorInfo>,
}

/// What the master fills in before validating, as Mesos does for LAUNCH: the
/// executor's framework id and a health check's type.
pub(crate) fn normalize(task: &mut v1::TaskInfo, framework_id: &str) {
    if let Some(executor) = task.executor.as_mut() {
        executor
            .framework_id
            .get_or_insert_with(|| v1::FrameworkId {
                value: framework_id.to_string(),
            });
    }
    if let Some(check) = task.health_check.as_mut() {
        checks::infer_health_check_type(check);
    }
}

/// Validates a normalised task of a LAUNCH; the resources it needs from the offer are
/// checked by the caller.
pub(crate) fn task(task: &v1::TaskInfo, books: &Books<'_>) -> Result<(), String> {
    // `validateAndUpgradeResources` runs before anything else.
    resource::list(&task.resources)?;
    if let Some(executor) = &task.executor {
        resource::list(&executor.resources)?;
    }
    fields(task, books)?;
    if task.command.is_some() == task.executor.is_some() {
        return Err(
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                .into(),
        );
    }
    if let Some(e) = &task.executor {
        executor_of(task, e, books)?;
    }
    if checks::share_cgroups(task.container.as_deref()) == Some(false) {
        return Err("Only tasks in a task group may have 'share_cgroups' set to 'false'".into());
    }
    Ok(())
}

/// Mesos's `validateTask`: the task's own fields, without its executor (also for the
/// tasks of a task group).
pub(crate) fn fields(task: &v1::TaskInfo, books: &Books<'_>) -> Result<(), String> {
    id::id(&task.task_id.value)?;
    if (books.is_duplicate)(&task.task_id.value) {
        return Err(format!("Task has duplicate ID: {}", task.task_id.value));
    }
    if task.agent_id.value != books.agent_id {
        return Err(format!(
            "Task uses invalid agent {} while agent {} is expected",
            task.agent_id.value, books.agent_id
        ));
    }
    let grace = task.kill_policy.and_then(|k| k.grace_period);
    if grace.is_some_and(|d| d.nanoseconds < 0) {
        return Err("Task's 'kill_policy.grace_period' must be non-negative".into());
    }
    if task.max_completion_time.is_some_and(|d| d.nanoseconds < 0) {
        return Err("Task's `max_completion_time` must be non-negative".into());
    }
    if let Some(check) = &task.check {
        checks::check(check).map_err(|e| format!("Task uses invalid check: {e}"))?;
    }
    if let Some(check) = &task.health_check {
        checks::health_check(check).map_err(|e| format!("Task uses invalid health check: {e}"))?;
    }
    if task.resources.is_empty() {
        return Err("Task uses no resources".into());
    }
    resource::master(&task.resources).map_err(|e| format!("Task uses invalid resources: {e}"))?;
    resource::owned(&task.resources, "Task uses", "Task mixes")?;
    if let Some(command) = &task.command {
        checks::command(command).map_err(|e| format!("Task's `CommandInfo` is invalid: {e}"))?;
    }
    if let Some(container) = &task.container {
        checks::container(container)
            .map_err(|e| format!("Task's `ContainerInfo` is invalid: {e}"))?;
    }
    checks::limits(task)
}

/// Mesos's `validateExecutor` for LAUNCH: the executor, its compatibility with a running
/// one, and the task's and executor's resources together.
fn executor_of(task: &v1::TaskInfo, e: &v1::ExecutorInfo, books: &Books<'_>) -> Result<(), String> {
    executor::executor(e, books.framework_id)?;
    if let Some(running) = books.running_executor {
        executor::compatible(running, e)?;
    }
    if e.r#type
        .is_some_and(|t| t != v1::executor_info::Type::Custom as i32)
    {
        return Err("'ExecutorInfo.type' must be 'CUSTOM'".into());
    }
    if e.command.is_none() {
        return Err("'ExecutorInfo.command' must be set".into());
    }
    if e.resources.iter().any(|r| r.shared.is_some()) {
        return Err(format!(
            "Executor resources {} should not contain any shared resources",
            resource::text(&e.resources)
        ));
    }
    if checks::share_cgroups(e.container.as_deref()) == Some(true) {
        return Err(
            "The 'share_cgroups' field cannot be set to 'true' on executor containers".into(),
        );
    }
    // Mesos validates the task's and the executor's resources together here, but every
    // rule of `resource::master` is one resource at a time and both lists passed it
    // already (in `fields` and `executor::executor`), so it cannot fail: only the rules
    // across both lists are left.
    if resource::overlap(&task.resources, &e.resources) {
        return Err(format!(
            "There are overlapping resources in the task resources {} and executor resources {}",
            resource::text(&task.resources),
            resource::text(&e.resources)
        ));
    }
    resource::owned(
        task.resources.iter().chain(&e.resources),
        "Task and its executor use",
        "Task and its executor mix",
    )
}

/// Mesos's `task::group::validate` for a LAUNCH_GROUP whose tasks passed [`fields`]
/// (with the group's executor copied into each task without one): the per-task group
/// rules, then the executor's. The resources needed from the offer are checked by the
/// caller.
pub(crate) fn group(
    tasks: &[v1::TaskInfo],
    e: &v1::ExecutorInfo,
    books: &Books<'_>,
) -> Result<(), String> {
    for task in tasks {
        let prefix = |m: String| format!("Task '{}' is invalid: {m}", task.task_id.value);
        if task
            .container
            .as_ref()
            .is_some_and(|c| !c.network_infos.is_empty())
            && task.health_check.as_ref().is_some_and(|h| {
                matches!(
                    h.r#type.map(v1::health_check::Type::try_from),
                    Some(Ok(
                        v1::health_check::Type::Http | v1::health_check::Type::Tcp
                    ))
                )
            })
        {
            return Err(prefix(
                "HTTP and TCP health checks are not supported for nested containers not joining parent's network".into(),
            ));
        }
        if checks::is_docker(task.container.as_deref()) {
            return Err(prefix(
                "Docker ContainerInfo is not supported on the task".into(),
            ));
        }
        if !task.limits.is_empty()
            && checks::share_cgroups(task.container.as_deref()) != Some(false)
        {
            return Err(prefix(
                "Resource limits may only be set for tasks within a task group when the 'share_cgroups' field is set to 'false'.".into(),
            ));
        }
    }
    executor::executor(e, books.framework_id)?;
    if let Some(running) = books.running_executor {
        executor::compatible(running, e)?;
    }
    match e.r#type.map(v1::executor_info::Type::try_from) {
        None => return Err("'ExecutorInfo.type' must be set".into()),
        Some(Ok(v1::executor_info::Type::Unknown) | Err(_)) => {
            return Err("Unknown executor type".into());
        }
        Some(Ok(_)) => {}
    }
    if checks::is_docker(e.container.as_deref()) {
        return Err("Docker ContainerInfo is not supported on the executor".into());
    }
    for task in tasks {
        if let Some(own) = &task.executor
            && executor::compatible(e, own).is_err()
        {
            return Err(format!(
                "The `ExecutorInfo` of task '{}' is different from executor '{}'",
                task.task_id.value, e.executor_id.value
            ));
        }
    }
    let amount = |name: &str| -> Option<f64> {
        e.resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.map(|s| s.value))
            .reduce(|a, b| a + b)
    };
    let shown = |v: Option<f64>, unit: &str| v.map_or("None".to_string(), |v| format!("{v}{unit}"));
    let eid = &e.executor_id.value;
    let cpus = amount("cpus");
    if cpus.is_none_or(|c| c < MIN_CPUS) {
        return Err(format!(
            "Executor '{eid}' uses less CPUs ({}) than the minimum required ({MIN_CPUS})",
            shown(cpus, "")
        ));
    }
    let mem = amount("mem");
    if mem.is_none_or(|m| m < MIN_MEM_MB) {
        return Err(format!(
            "Executor '{eid}' uses less memory ({}) than the minimum required ({MIN_MEM_MB}MB)",
            shown(mem, "MB")
        ));
    }
    if amount("disk").is_none() {
        return Err(format!("Executor '{eid}' uses no disk"));
    }
    let total = e
        .resources
        .iter()
        .chain(tasks.iter().flat_map(|t| &t.resources));
    resource::owned(
        total,
        "Task group and executor use",
        "Task group and executor mix",
    )?;
    let overlapping = tasks.iter().enumerate().any(|(i, a)| {
        resource::overlap(&a.resources, &e.resources)
            || tasks[i + 1..]
                .iter()
                .any(|b| resource::overlap(&a.resources, &b.resources))
    });
    if overlapping {
        let each: Vec<String> = tasks.iter().map(|t| resource::text(&t.resources)).collect();
        return Err(format!(
            "There are overlapping resources in the task group's task resources [ {} ] and/or executor resources {}",
            each.join(", "),
            resource::text(&e.resources)
        ));
    }
    if let Some(command) = &e.command {
        checks::command(command)
            .map_err(|m| format!("Executor '{eid}'contains an invalid command: {m}"))?;
    }
    if checks::share_cgroups(e.container.as_deref()) == Some(true) {
        return Err(
            "The 'share_cgroups' field cannot be set to 'true' on executor containers".into(),
        );
    }
    let shares: Vec<bool> = tasks
        .iter()
        .map(|t| checks::share_cgroups(t.container.as_deref()).unwrap_or(true))
        .collect();
    if shares.windows(2).any(|w| w[0] != w[1]) {
        return Err("If set, the value of 'share_cgroups' must be the same for all tasks in each task group and under a single executor".into());
    }
    Ok(())
}

/// The least CPUs of a task group's executor (Mesos's `MIN_CPUS`).
const MIN_CPUS: f64 = 0.01;

/// The least memory of a task group's executor, in MB (Mesos's `MIN_MEM`).
const MIN_MEM_MB: f64 = 32.0;

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_sdk::resources::Resources;

    fn command_task() -> v1::TaskInfo {
        v1::TaskInfo {
            name: "t".into(),
            task_id: v1::TaskId { value: "t1".into() },
            agent_id: v1::AgentId { value: "a1".into() },
            resources: Resources::parse("cpus:1;mem:32").unwrap().into_vec(),
            command: Some(v1::CommandInfo {
                value: Some("true".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn validate(t: &v1::TaskInfo) -> Result<(), String> {
        task(
            t,
            &Books {
                framework_id: "f",
                agent_id: "a1",
                is_duplicate: &|id| id == "taken",
                running_executor: None,
            },
        )
    }

    #[test]
    fn task_rules_give_mesos_messages_in_mesos_order() {
        assert!(validate(&command_task()).is_ok());
        let env = |var: v1::environment::Variable| v1::CommandInfo {
            value: Some("true".into()),
            environment: Some(v1::Environment {
                variables: vec![var],
            }),
            ..Default::default()
        };
        let cases: Vec<(v1::TaskInfo, &str)> = vec![
            (
                v1::TaskInfo {
                    task_id: v1::TaskId { value: "".into() },
                    ..command_task()
                },
                "ID must not be empty",
            ),
            (
                v1::TaskInfo {
                    task_id: v1::TaskId {
                        value: "taken".into(),
                    },
                    ..command_task()
                },
                "Task has duplicate ID: taken",
            ),
            (
                v1::TaskInfo {
                    agent_id: v1::AgentId { value: "a2".into() },
                    ..command_task()
                },
                "Task uses invalid agent a2 while agent a1 is expected",
            ),
            (
                v1::TaskInfo {
                    kill_policy: Some(v1::KillPolicy {
                        grace_period: Some(v1::DurationInfo { nanoseconds: -5 }),
                    }),
                    ..command_task()
                },
                "Task's 'kill_policy.grace_period' must be non-negative",
            ),
            (
                v1::TaskInfo {
                    max_completion_time: Some(v1::DurationInfo { nanoseconds: -5 }),
                    ..command_task()
                },
                "Task's `max_completion_time` must be non-negative",
            ),
            (
                v1::TaskInfo {
                    check: Some(Box::new(v1::CheckInfo::default())),
                    ..command_task()
                },
                "Task uses invalid check: CheckInfo must specify 'type'",
            ),
            (
                v1::TaskInfo {
                    health_check: Some(Box::new(v1::HealthCheck {
                        r#type: Some(v1::health_check::Type::Http as i32),
                        http: Some(v1::health_check::HttpCheckInfo {
                            path: Some("health".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })),
                    ..command_task()
                },
                "Task uses invalid health check: The path 'health' of HTTP health check must start with '/'",
            ),
            (
                v1::TaskInfo {
                    resources: Vec::new(),
                    ..command_task()
                },
                "Task uses no resources",
            ),
            (
                v1::TaskInfo {
                    resources: Resources::parse("gpus:0.5").unwrap().into_vec(),
                    ..command_task()
                },
                "Task uses invalid resources: Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer",
            ),
            (
                v1::TaskInfo {
                    command: Some(env(v1::environment::Variable {
                        name: "X".into(),
                        ..Default::default()
                    })),
                    ..command_task()
                },
                "Task's `CommandInfo` is invalid: Environment variable 'X' of type 'VALUE' must have a value set",
            ),
            (
                v1::TaskInfo {
                    command: None,
                    ..command_task()
                },
                "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
            ),
        ];
        for (t, message) in cases {
            assert_eq!(validate(&t).unwrap_err(), message);
        }
    }

    #[test]
    fn executor_tasks_need_a_custom_executor_with_a_command_and_no_shared_ports() {
        let executor = v1::ExecutorInfo {
            executor_id: v1::ExecutorId { value: "e".into() },
            framework_id: Some(v1::FrameworkId { value: "f".into() }),
            command: Some(v1::CommandInfo::default()),
            resources: Resources::parse("ports:[31000-31000]").unwrap().into_vec(),
            ..Default::default()
        };
        let with = |e: v1::ExecutorInfo| v1::TaskInfo {
            command: None,
            executor: Some(e),
            ..command_task()
        };
        assert!(validate(&with(executor.clone())).is_ok());
        let mut default = executor.clone();
        default.r#type = Some(v1::executor_info::Type::Default as i32);
        default.command = None;
        assert_eq!(
            validate(&with(default)).unwrap_err(),
            "'ExecutorInfo.type' must be 'CUSTOM'"
        );
        let mut no_command = executor.clone();
        no_command.command = None;
        assert_eq!(
            validate(&with(no_command)).unwrap_err(),
            "'ExecutorInfo.command' must be set"
        );
        let mut t = with(executor);
        t.resources = Resources::parse("cpus:1;ports:[31000-31000]")
            .unwrap()
            .into_vec();
        assert_eq!(
            validate(&t).unwrap_err(),
            "There are overlapping resources in the task resources cpus:1; ports:[31000-31000] and executor resources ports:[31000-31000]"
        );
    }

    #[test]
    fn container_limits_and_cgroups_rules_follow_mesos() {
        let docker = v1::ContainerInfo {
            r#type: v1::container_info::Type::Docker as i32,
            ..Default::default()
        };
        let volume = v1::ContainerInfo {
            r#type: v1::container_info::Type::Mesos as i32,
            volumes: vec![v1::Volume {
                container_path: "/data".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let separate = v1::ContainerInfo {
            r#type: v1::container_info::Type::Mesos as i32,
            linux_info: Some(v1::LinuxInfo {
                share_cgroups: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        let limit = |name: &str, value: f64| {
            [(name.to_string(), v1::value::Scalar { value })]
                .into_iter()
                .collect()
        };
        let cases: Vec<(v1::TaskInfo, &str)> = vec![
            (
                v1::TaskInfo {
                    container: Some(Box::new(docker)),
                    ..command_task()
                },
                "Task's `ContainerInfo` is invalid: DockerInfo 'docker' is not set for DOCKER typed ContainerInfo",
            ),
            (
                v1::TaskInfo {
                    container: Some(Box::new(volume)),
                    ..command_task()
                },
                "Task's `ContainerInfo` is invalid: Invalid volume: Only one of them should be set: 'host_path', 'image' and 'source'",
            ),
            (
                v1::TaskInfo {
                    limits: limit("disk", 1.0),
                    ..command_task()
                },
                "Only cpus and mem may be included in a task's resource limits",
            ),
            (
                v1::TaskInfo {
                    limits: limit("cpus", 0.5),
                    ..command_task()
                },
                "The cpu limit must be greater than or equal to the cpu request",
            ),
            (
                v1::TaskInfo {
                    container: Some(Box::new(separate)),
                    ..command_task()
                },
                "Only tasks in a task group may have 'share_cgroups' set to 'false'",
            ),
        ];
        for (t, message) in cases {
            assert_eq!(validate(&t).unwrap_err(), message);
        }
        let fine = v1::TaskInfo {
            limits: limit("cpus", 2.0),
            ..command_task()
        };
        assert!(validate(&fine).is_ok());
    }

    #[test]
    fn task_groups_need_a_typed_executor_with_minimum_resources() {
        let books = Books {
            framework_id: "f",
            agent_id: "a1",
            is_duplicate: &|_| false,
            running_executor: None,
        };
        let executor = v1::ExecutorInfo {
            r#type: Some(v1::executor_info::Type::Default as i32),
            executor_id: v1::ExecutorId { value: "e".into() },
            framework_id: Some(v1::FrameworkId { value: "f".into() }),
            resources: Resources::parse("cpus:0.1;mem:32;disk:10")
                .unwrap()
                .into_vec(),
            ..Default::default()
        };
        let tasks = vec![v1::TaskInfo {
            command: None,
            ..command_task()
        }];
        assert!(group(&tasks, &executor, &books).is_ok());
        let cases = [
            (
                v1::ExecutorInfo {
                    r#type: None,
                    ..executor.clone()
                },
                "'ExecutorInfo.type' must be set",
            ),
            (
                v1::ExecutorInfo {
                    resources: Resources::parse("cpus:0.001;mem:32;disk:10")
                        .unwrap()
                        .into_vec(),
                    ..executor.clone()
                },
                "Executor 'e' uses less CPUs (0.001) than the minimum required (0.01)",
            ),
            (
                v1::ExecutorInfo {
                    resources: Resources::parse("cpus:0.1;disk:10").unwrap().into_vec(),
                    ..executor.clone()
                },
                "Executor 'e' uses less memory (None) than the minimum required (32MB)",
            ),
            (
                v1::ExecutorInfo {
                    resources: Resources::parse("cpus:0.1;mem:32").unwrap().into_vec(),
                    ..executor.clone()
                },
                "Executor 'e' uses no disk",
            ),
        ];
        for (e, message) in cases {
            assert_eq!(group(&tasks, &e, &books).unwrap_err(), message);
        }
        let mut other = tasks.clone();
        other[0].executor = Some(v1::ExecutorInfo {
            name: Some("another".into()),
            ..executor.clone()
        });
        assert_eq!(
            group(&other, &executor, &books).unwrap_err(),
            "The `ExecutorInfo` of task 't1' is different from executor 'e'"
        );
        let mut docker = tasks.clone();
        docker[0].container = Some(Box::new(v1::ContainerInfo {
            r#type: v1::container_info::Type::Docker as i32,
            ..Default::default()
        }));
        assert_eq!(
            group(&docker, &executor, &books).unwrap_err(),
            "Task 't1' is invalid: Docker ContainerInfo is not supported on the task"
        );
    }
}
