//! Mesos's `common::validation` of what a task carries besides resources: environment
//! variables, health checks and checks.

use mesos_sdk::v1;

/// Mesos's `validateEnvironment` (a VALUE variable has a value and no secret, a SECRET
/// one the reverse).
fn environment(env: &v1::Environment) -> Result<(), String> {
    use v1::environment::variable::Type;
    for var in &env.variables {
        let name = &var.name;
        match var.r#type.map_or(Ok(Type::Value), Type::try_from) {
            Ok(Type::Value) => {
                if var.value.is_none() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'VALUE' must have a value set"
                    ));
                }
                if var.secret.is_some() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'VALUE' must not have a secret set"
                    ));
                }
            }
            Ok(Type::Secret) => {
                if var.secret.is_none() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'SECRET' must have a secret set"
                    ));
                }
                if var.value.is_some() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'SECRET' must not have a value set"
                    ));
                }
            }
            Ok(Type::Unknown) | Err(_) => {
                return Err("Environment variable of type 'UNKNOWN' is not allowed".into());
            }
        }
    }
    Ok(())
}

/// Mesos's `validateCommandInfo` (the environment).
pub(super) fn command(command: &v1::CommandInfo) -> Result<(), String> {
    command.environment.as_ref().map_or(Ok(()), environment)
}

fn non_negative(fields: &[(&str, Option<f64>)]) -> Result<(), String> {
    match fields.iter().find(|(_, v)| v.is_some_and(|v| v < 0.0)) {
        Some((name, _)) => Err(format!("Expecting '{name}' to be non-negative")),
        None => Ok(()),
    }
}

/// The kind a command needs to name (`'shell command'` or `'executable path'`).
fn command_kind(command: &v1::CommandInfo) -> &'static str {
    if command.shell.unwrap_or(true) {
        "'shell command'"
    } else {
        "'executable path'"
    }
}

/// The master fills a missing health check type from the one of `command`/`http` set.
pub(super) fn infer_health_check_type(check: &mut v1::HealthCheck) {
    use v1::health_check::Type;
    if check.r#type.is_none() {
        if check.command.is_some() && check.http.is_none() {
            check.r#type = Some(Type::Command as i32);
        } else if check.http.is_some() && check.command.is_none() {
            check.r#type = Some(Type::Http as i32);
        }
    }
}

/// Mesos's `validateHealthCheck`.
pub(super) fn health_check(check: &v1::HealthCheck) -> Result<(), String> {
    use v1::health_check::Type;
    let Some(kind) = check.r#type else {
        return Err("HealthCheck must specify 'type'".into());
    };
    match Type::try_from(kind) {
        Ok(Type::Command) => {
            let Some(cmd) = &check.command else {
                return Err("Expecting 'command' to be set for COMMAND health check".into());
            };
            if cmd.value.is_none() {
                return Err(format!(
                    "Command health check must contain {}",
                    command_kind(cmd)
                ));
            }
            command(cmd).map_err(|e| format!("Health check's `CommandInfo` is invalid: {e}"))?;
        }
        Ok(Type::Http) => {
            let Some(http) = &check.http else {
                return Err("Expecting 'http' to be set for HTTP health check".into());
            };
            if let Some(scheme) = http
                .scheme
                .as_deref()
                .filter(|s| !matches!(*s, "http" | "https"))
            {
                return Err(format!("Unsupported HTTP health check scheme: '{scheme}'"));
            }
            if let Some(path) = http.path.as_deref().filter(|p| !p.starts_with('/')) {
                return Err(format!(
                    "The path '{path}' of HTTP health check must start with '/'"
                ));
            }
        }
        Ok(Type::Tcp) => {
            if check.tcp.is_none() {
                return Err("Expecting 'tcp' to be set for TCP health check".into());
            }
        }
        Ok(Type::Unknown) | Err(_) => {
            return Err("'UNKNOWN' is not a valid health check type".into());
        }
    }
    non_negative(&[
        ("delay_seconds", check.delay_seconds),
        ("grace_period_seconds", check.grace_period_seconds),
        ("interval_seconds", check.interval_seconds),
        ("timeout_seconds", check.timeout_seconds),
    ])
}

/// Mesos's `validateCheckInfo`.
pub(super) fn check(check: &v1::CheckInfo) -> Result<(), String> {
    use v1::check_info::Type;
    let Some(kind) = check.r#type else {
        return Err("CheckInfo must specify 'type'".into());
    };
    match Type::try_from(kind) {
        Ok(Type::Command) => {
            let Some(cmd) = &check.command else {
                return Err("Expecting 'command' to be set for COMMAND check".into());
            };
            if cmd.command.value.is_none() {
                return Err(format!(
                    "Command check must contain {}",
                    command_kind(&cmd.command)
                ));
            }
            command(&cmd.command).map_err(|e| format!("Check's `CommandInfo` is invalid: {e}"))?;
        }
        Ok(Type::Http) => {
            let Some(http) = &check.http else {
                return Err("Expecting 'http' to be set for HTTP check".into());
            };
            if let Some(path) = http.path.as_deref().filter(|p| !p.starts_with('/')) {
                return Err(format!(
                    "The path '{path}' of HTTP check must start with '/'"
                ));
            }
        }
        Ok(Type::Tcp) => {
            if check.tcp.is_none() {
                return Err("Expecting 'tcp' to be set for TCP check".into());
            }
        }
        Ok(Type::Unknown) | Err(_) => return Err("'UNKNOWN' is not a valid check type".into()),
    }
    non_negative(&[
        ("delay_seconds", check.delay_seconds),
        ("interval_seconds", check.interval_seconds),
        ("timeout_seconds", check.timeout_seconds),
    ])
}

/// Mesos's `validateVolume`: exactly one of `host_path`, `image` and `source`, and a
/// source has the member of its type.
fn volume(v: &v1::Volume) -> Result<(), String> {
    let set = [v.host_path.is_some(), v.image.is_some(), v.source.is_some()];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err("Only one of them should be set: 'host_path', 'image' and 'source'".into());
    }
    if let Some(source) = &v.source {
        use v1::volume::source::Type;
        let missing = match source.r#type.map(Type::try_from) {
            Some(Ok(Type::DockerVolume)) if source.docker_volume.is_none() => {
                Some("'source.docker_volume' is not set for DOCKER_VOLUME volume")
            }
            Some(Ok(Type::HostPath)) if source.host_path.is_none() => {
                Some("'source.host_path' is not set for HOST_PATH volume")
            }
            Some(Ok(Type::SandboxPath)) if source.sandbox_path.is_none() => {
                Some("'source.sandbox_path' is not set for SANDBOX_PATH volume")
            }
            Some(Ok(Type::Secret)) if source.secret.is_none() => {
                Some("'source.secret' is not set for SECRET volume")
            }
            Some(Ok(Type::CsiVolume)) if source.csi_volume.is_none() => {
                Some("'source.csi_volume' is not set for CSI volume")
            }
            _ => None,
        };
        if let Some(message) = missing {
            return Err(message.into());
        }
    }
    Ok(())
}

/// Mesos's `validateContainerInfo`: valid volumes; a DOCKER container has DockerInfo
/// without a `name` parameter.
pub(super) fn container(c: &v1::ContainerInfo) -> Result<(), String> {
    for v in &c.volumes {
        volume(v).map_err(|e| format!("Invalid volume: {e}"))?;
    }
    if c.r#type == v1::container_info::Type::Docker as i32 {
        let Some(docker) = &c.docker else {
            return Err("DockerInfo 'docker' is not set for DOCKER typed ContainerInfo".into());
        };
        if docker.parameters.iter().any(|p| p.key == "name") {
            return Err("Parameter in DockerInfo must not be 'name'".into());
        }
    }
    Ok(())
}

/// The `share_cgroups` setting of a container, if set.
pub(super) fn share_cgroups(c: Option<&v1::ContainerInfo>) -> Option<bool> {
    c?.linux_info.as_ref()?.share_cgroups
}

/// Whether a container is a Docker one.
pub(super) fn is_docker(c: Option<&v1::ContainerInfo>) -> bool {
    c.is_some_and(|c| c.r#type == v1::container_info::Type::Docker as i32)
}

/// Mesos's `validateResourceLimits` for an agent that handles limits (the reference
/// agents accept them and enforce none, like Mesos's posix isolation): only `cpus` and
/// `mem`, each with a request no larger than the limit.
pub(super) fn limits(task: &v1::TaskInfo) -> Result<(), String> {
    if task.limits.is_empty() {
        return Ok(());
    }
    if task.limits.keys().any(|k| k != "cpus" && k != "mem") {
        return Err("Only cpus and mem may be included in a task's resource limits".into());
    }
    let request = |name: &str| -> Option<f64> {
        let amounts = task
            .resources
            .iter()
            .filter(|r| r.name == name)
            .filter_map(|r| r.scalar.map(|s| s.value));
        amounts.reduce(|a, b| a + b)
    };
    if let Some(limit) = task.limits.get("cpus") {
        let Some(cpus) = request("cpus") else {
            return Err(
                "When a CPU limit is specified, a CPU request must also be specified".into(),
            );
        };
        if limit.value < cpus {
            return Err("The cpu limit must be greater than or equal to the cpu request".into());
        }
    }
    if let Some(limit) = task.limits.get("mem") {
        let Some(mem) = request("mem") else {
            return Err(
                "When a memory limit is specified, a memory request must also be specified".into(),
            );
        };
        if !limit.value.is_infinite() && limit.value < mem {
            return Err(
                "The memory limit must be greater than or equal to the memory request".into(),
            );
        }
    }
    Ok(())
}
