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
    match &task.executor {
        Some(e) => executor_of(task, e, books),
        None => Ok(()),
    }
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
    if let Some(command) = &task.command {
        checks::command(command).map_err(|e| format!("Task's `CommandInfo` is invalid: {e}"))?;
    }
    Ok(())
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
    let mut total = task.resources.clone();
    total.extend(e.resources.iter().cloned());
    resource::master(&total)
        .map_err(|m| format!("Task and its executor use invalid resources: {m}"))?;
    if resource::overlap(&task.resources, &e.resources) {
        return Err(format!(
            "There are overlapping resources in the task resources {} and executor resources {}",
            resource::text(&task.resources),
            resource::text(&e.resources)
        ));
    }
    Ok(())
}

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
                    check: Some(v1::CheckInfo::default()),
                    ..command_task()
                },
                "Task uses invalid check: CheckInfo must specify 'type'",
            ),
            (
                v1::TaskInfo {
                    health_check: Some(v1::HealthCheck {
                        r#type: Some(v1::health_check::Type::Http as i32),
                        http: Some(v1::health_check::HttpCheckInfo {
                            path: Some("health".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
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
}
