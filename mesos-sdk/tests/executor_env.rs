//! Executor configuration from the agent-provided environment.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use mesos_sdk::executor::{EnvError, ExecutorConfig, parse_duration};

fn base() -> HashMap<&'static str, String> {
    [
        ("MESOS_FRAMEWORK_ID", "fw-1"),
        ("MESOS_EXECUTOR_ID", "exec-1"),
        ("MESOS_AGENT_ENDPOINT", "10.0.0.5:5051"),
        ("MESOS_DIRECTORY", "/var/lib/mesos/sandbox"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

fn parse(env: &HashMap<&'static str, String>) -> Result<ExecutorConfig, EnvError> {
    ExecutorConfig::from_vars(|k| env.get(k).cloned())
}

#[test]
fn reads_every_variable() {
    let mut env = base();
    env.insert("MESOS_SANDBOX", "/mnt/mesos/sandbox".into());
    env.insert("MESOS_CHECKPOINT", "1".into());
    env.insert("MESOS_RECOVERY_TIMEOUT", "15mins".into());
    env.insert("MESOS_SUBSCRIPTION_BACKOFF_MAX", "2secs".into());
    env.insert("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "500ms".into());
    env.insert("MESOS_EXECUTOR_AUTHENTICATION_TOKEN", "tok".into());
    let c = parse(&env).unwrap();
    assert_eq!(c.framework_id.value, "fw-1");
    assert_eq!(c.executor_id.value, "exec-1");
    assert_eq!(c.agent_endpoint, "10.0.0.5:5051");
    assert_eq!(c.executor_url(), "http://10.0.0.5:5051/api/v1/executor");
    assert_eq!(c.directory, PathBuf::from("/var/lib/mesos/sandbox"));
    assert_eq!(c.sandbox, PathBuf::from("/mnt/mesos/sandbox"));
    assert!(c.checkpoint);
    assert_eq!(c.recovery_timeout, Some(Duration::from_secs(900)));
    assert_eq!(c.subscription_backoff_max, Some(Duration::from_secs(2)));
    assert_eq!(c.shutdown_grace_period, Duration::from_millis(500));
    assert_eq!(c.authentication_token.as_deref(), Some("tok"));
    assert!(
        !format!("{c:?}").contains("tok\""),
        "the token is not logged"
    );
}

#[test]
fn defaults_without_optional_variables() {
    let c = parse(&base()).unwrap();
    assert!(!c.checkpoint);
    assert_eq!(c.sandbox, c.directory);
    assert_eq!(c.recovery_timeout, None);
    assert_eq!(c.shutdown_grace_period, Duration::from_secs(5));
    assert_eq!(c.authentication_token, None);
}

#[test]
fn only_1_turns_checkpointing_on() {
    for value in ["0", "true", "yes", ""] {
        let mut env = base();
        env.insert("MESOS_CHECKPOINT", value.into());
        assert!(!parse(&env).unwrap().checkpoint, "{value:?}");
    }
}

#[test]
fn each_missing_required_variable_is_named() {
    for name in [
        "MESOS_FRAMEWORK_ID",
        "MESOS_EXECUTOR_ID",
        "MESOS_AGENT_ENDPOINT",
        "MESOS_DIRECTORY",
    ] {
        let mut env = base();
        env.remove(name);
        let err = parse(&env).unwrap_err();
        assert_eq!(err, EnvError::Missing { name });
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn checkpointing_requires_recovery_settings() {
    let mut env = base();
    env.insert("MESOS_CHECKPOINT", "1".into());
    assert_eq!(
        parse(&env).unwrap_err(),
        EnvError::Missing {
            name: "MESOS_RECOVERY_TIMEOUT"
        }
    );
    env.insert("MESOS_RECOVERY_TIMEOUT", "1hrs".into());
    assert_eq!(
        parse(&env).unwrap_err(),
        EnvError::Missing {
            name: "MESOS_SUBSCRIPTION_BACKOFF_MAX"
        }
    );
}

#[test]
fn bad_values_are_named_with_the_value() {
    let cases = [
        ("MESOS_RECOVERY_TIMEOUT", "15"),
        ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "fast"),
        ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5 seconds"),
        ("MESOS_AGENT_ENDPOINT", "host:port:extra"),
        ("MESOS_FRAMEWORK_ID", "  "),
    ];
    for (name, value) in cases {
        let mut env = base();
        env.insert("MESOS_CHECKPOINT", "1".into());
        env.insert("MESOS_RECOVERY_TIMEOUT", "1mins".into());
        env.insert("MESOS_SUBSCRIPTION_BACKOFF_MAX", "1secs".into());
        env.insert(name, value.into());
        match parse(&env).unwrap_err() {
            EnvError::Invalid {
                name: n, value: v, ..
            } => {
                assert_eq!((n, v.as_str()), (name, value));
            }
            other => panic!("{name}={value:?}: {other:?}"),
        }
    }
}

#[test]
fn mesos_duration_units() {
    let cases = [
        ("10ns", Duration::from_nanos(10)),
        ("3us", Duration::from_micros(3)),
        ("250ms", Duration::from_millis(250)),
        ("2secs", Duration::from_secs(2)),
        ("0.5mins", Duration::from_secs(30)),
        ("1hrs", Duration::from_secs(3600)),
        ("1days", Duration::from_secs(86_400)),
        ("1weeks", Duration::from_secs(604_800)),
    ];
    for (text, want) in cases {
        assert_eq!(parse_duration(text), Some(want), "{text}");
    }
    for bad in [
        "",
        "secs",
        "1",
        "1s",
        "1.2.3secs",
        "1e9weeks9",
        "-3ms",
        "99999999999999999999weeks",
    ] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}
