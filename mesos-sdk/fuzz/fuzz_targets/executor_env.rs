//! Fuzzes how an executor reads the environment its agent gives it
//! (`executor::ExecutorConfig::from_vars`) and Mesos durations
//! (`executor::parse_duration`).
//!
//! The input sets any of the `MESOS_*` variables the executor reads to arbitrary
//! strings (or leaves them unset).
//!
//! Checks:
//! - no panic, and the same environment gives the same answer twice;
//! - an accepted configuration is consistent with its variables: ids and directory
//!   are the (non-blank) values given, the agent endpoint is one a URL can be made of
//!   and `executor_url` is `http(s)://…/api/v1/executor`, checkpointing is on exactly
//!   for `MESOS_CHECKPOINT=1` and then has both recovery settings, the sandbox
//!   defaults to the directory, the grace period defaults to 5 s, an empty token is
//!   no token;
//! - `Debug` never shows the authentication token;
//! - `parse_duration` ignores surrounding blanks, and what it returns in whole
//!   nanoseconds parses back to the same duration.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mesos_sdk::executor::{EnvError, ExecutorConfig, parse_duration};
use mesos_sdk::transport::Url;

const NAMES: [&str; 11] = [
    "MESOS_FRAMEWORK_ID",
    "MESOS_EXECUTOR_ID",
    "MESOS_AGENT_ENDPOINT",
    "MESOS_DIRECTORY",
    "MESOS_SANDBOX",
    "MESOS_CHECKPOINT",
    "MESOS_RECOVERY_TIMEOUT",
    "MESOS_SUBSCRIPTION_BACKOFF_MAX",
    "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD",
    "MESOS_EXECUTOR_AUTHENTICATION_TOKEN",
    "MESOS_SLAVE_PID",
];

#[derive(Debug, Arbitrary)]
struct Input {
    /// One optional value per name in `NAMES`.
    vars: [Option<String>; 11],
    /// A duration text on its own.
    duration: String,
}

fn check_duration(text: &str) {
    let parsed = parse_duration(text);
    assert_eq!(parse_duration(&format!(" {text}\t")), parsed, "blanks changed {text:?}");
    if let Some(d) = parsed {
        let nanos = d.as_nanos();
        // Whole nanoseconds below 2^53 are exact in the parser's f64.
        if nanos < (1u128 << 53) {
            assert_eq!(
                parse_duration(&format!("{nanos}ns")),
                Some(d),
                "{text:?} gave {d:?}, which does not parse back"
            );
        }
    }
}

fuzz_target!(|input: Input| {
    check_duration(&input.duration);
    for value in input.vars.iter().flatten() {
        check_duration(value);
    }

    let get = |name: &str| {
        NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| input.vars[i].clone())
    };
    let var = |name: &str| get(name);
    let result = ExecutorConfig::from_vars(get);
    assert_eq!(result, ExecutorConfig::from_vars(get), "not deterministic");
    let config = match result {
        Ok(config) => config,
        Err(EnvError::Missing { name }) => {
            assert!(var(name).is_none(), "{name} is set but reported missing");
            return;
        }
        Err(EnvError::Invalid { name, value, .. }) => {
            assert_eq!(var(name).as_deref(), Some(value.as_str()), "{name}'s value misreported");
            return;
        }
        Err(other) => panic!("unexpected error {other:?}"),
    };

    let nonblank = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    assert_eq!(Some(config.framework_id.value.clone()), nonblank("MESOS_FRAMEWORK_ID"));
    assert_eq!(Some(config.executor_id.value.clone()), nonblank("MESOS_EXECUTOR_ID"));
    assert_eq!(Some(config.agent_endpoint.clone()), nonblank("MESOS_AGENT_ENDPOINT"));
    assert_eq!(
        Some(config.directory.clone()),
        nonblank("MESOS_DIRECTORY").map(Into::into)
    );
    let url = config.executor_url();
    assert!(
        url.starts_with("http://") || url.starts_with("https://"),
        "executor URL {url:?}"
    );
    assert!(url.ends_with("/api/v1/executor"), "executor URL {url:?}");
    assert!(
        url.len() <= config.agent_endpoint.len() + "http:///api/v1/executor".len(),
        "executor URL {url:?} from {:?}",
        config.agent_endpoint
    );
    assert!(Url::parse(&url).is_ok(), "executor URL {url:?} is not a URL");

    let checkpoint = var("MESOS_CHECKPOINT").as_deref() == Some("1");
    assert_eq!(config.checkpoint, checkpoint);
    assert_eq!(config.recovery_timeout.is_some(), checkpoint);
    assert_eq!(config.subscription_backoff_max.is_some(), checkpoint);
    if checkpoint {
        assert_eq!(
            config.recovery_timeout,
            parse_duration(&var("MESOS_RECOVERY_TIMEOUT").unwrap_or_default())
        );
    }
    match var("MESOS_SANDBOX").filter(|s| !s.is_empty()) {
        Some(sandbox) => assert_eq!(config.sandbox, std::path::PathBuf::from(sandbox)),
        None => assert_eq!(config.sandbox, config.directory),
    }
    match var("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD") {
        Some(v) => assert_eq!(Some(config.shutdown_grace_period), parse_duration(&v)),
        None => assert_eq!(config.shutdown_grace_period, Duration::from_secs(5)),
    }
    assert_eq!(
        config.authentication_token,
        var("MESOS_EXECUTOR_AUTHENTICATION_TOKEN").filter(|t| !t.is_empty())
    );

    // The token never reaches `Debug`: changing it does not change the output.
    let mut other = config.clone();
    other.authentication_token = config.authentication_token.as_ref().map(|t| format!("{t}x"));
    assert_eq!(format!("{config:?}"), format!("{other:?}"), "Debug shows the token");
});
