//! Mesos's FrameworkInfo validation on SUBSCRIBE (`framework::validate` in
//! `src/master/validation.cpp`, plus `Master::validateFramework`'s check of the
//! suppressed roles).

use std::collections::BTreeSet;

use super::{id, resource};
use mesos_sdk::v1;

/// Mesos's `stringify` of a set: `{ a, b }`.
fn set_text<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.into_iter().map(String::as_str).collect();
    format!("{{ {} }}", items.join(", "))
}

/// A double as C++'s `ostream` prints it by default (`%g`, six significant digits):
/// `1e+300`, `0.5`, `1.5e-07`.
fn cpp_double(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let exp = v.abs().log10().floor() as i32;
    if (-5..6).contains(&exp) {
        let decimals = (5 - exp).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    } else {
        let text = format!("{v:.5e}");
        let (mantissa, e) = text.split_once('e').unwrap_or((&text, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), e.abs())
    }
}

/// Validates the FrameworkInfo of a SUBSCRIBE and its suppressed roles.
#[allow(deprecated)] // `role`: how frameworks without MULTI_ROLE name theirs.
pub(crate) fn framework(info: &v1::FrameworkInfo, suppressed: &[String]) -> Result<(), String> {
    let multi_role = info
        .capabilities
        .iter()
        .any(|c| c.r#type == Some(v1::framework_info::capability::Type::MultiRole as i32));
    if multi_role && info.role.is_some() {
        return Err(
            "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable".into(),
        );
    }
    if !multi_role && !info.roles.is_empty() {
        return Err(
            "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
                .into(),
        );
    }
    if multi_role {
        let mut seen = BTreeSet::new();
        let duplicates: BTreeSet<&String> =
            info.roles.iter().filter(|r| !seen.insert(*r)).collect();
        if !duplicates.is_empty() {
            return Err(format!(
                "'FrameworkInfo.roles' contains duplicate items: {}",
                set_text(duplicates)
            ));
        }
        for role in &info.roles {
            resource::role(role)
                .map_err(|e| format!("'FrameworkInfo.roles' contains invalid role: {e}"))?;
        }
    } else {
        resource::role(info.role.as_deref().unwrap_or("*"))
            .map_err(|e| format!("'FrameworkInfo.role' is not a valid role: {e}"))?;
    }
    if let Some(framework_id) = info.id.as_ref().filter(|i| !i.value.is_empty()) {
        id::id(&framework_id.value)?;
    }
    let timeout = info.failover_timeout.unwrap_or(0.0);
    if !(timeout * 1e9).is_finite() || (timeout * 1e9).abs() >= i64::MAX as f64 {
        return Err(format!(
            "The framework failover_timeout ({}) is invalid",
            cpp_double(timeout)
        ));
    }
    let roles: BTreeSet<&String> = if multi_role {
        info.roles.iter().collect()
    } else {
        BTreeSet::new()
    };
    let star = "*".to_string();
    let own_role = info.role.as_ref().unwrap_or(&star);
    let outside: BTreeSet<&String> = suppressed
        .iter()
        .filter(|r| {
            if multi_role {
                !roles.contains(r)
            } else {
                *r != own_role
            }
        })
        .collect();
    if !outside.is_empty() {
        return Err(format!(
            "Suppressed roles {} are not contained in the set of roles",
            set_text(outside)
        ));
    }
    Ok(())
}

/// Mesos's `framework::validateUpdate`: what an UPDATE_FRAMEWORK may not change.
pub(crate) fn update(old: &v1::FrameworkInfo, new: &v1::FrameworkInfo) -> Result<(), String> {
    if old.principal != new.principal {
        return Err("Changing framework's principal is not allowed.".into());
    }
    if old.user != new.user {
        return Err(format!(
            "Updating 'FrameworkInfo.user' is unsupported; attempted to update from '{}' to '{}'",
            old.user, new.user
        ));
    }
    let (was, is) = (
        old.checkpoint.unwrap_or(false),
        new.checkpoint.unwrap_or(false),
    );
    if was != is {
        return Err(format!(
            "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from '{was}' to '{is}'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multi(roles: &[&str]) -> v1::FrameworkInfo {
        v1::FrameworkInfo {
            user: "u".into(),
            name: "n".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            capabilities: vec![v1::framework_info::Capability {
                r#type: Some(v1::framework_info::capability::Type::MultiRole as i32),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn updates_may_not_change_principal_user_or_checkpointing() {
        let old = v1::FrameworkInfo {
            user: "alice".into(),
            name: "n".into(),
            ..Default::default()
        };
        assert!(update(&old, &old).is_ok());
        let user = v1::FrameworkInfo {
            user: "bob".into(),
            ..old.clone()
        };
        assert_eq!(
            update(&old, &user).unwrap_err(),
            "Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'alice' to 'bob'"
        );
        let checkpoint = v1::FrameworkInfo {
            checkpoint: Some(true),
            ..old.clone()
        };
        assert_eq!(
            update(&old, &checkpoint).unwrap_err(),
            "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from 'false' to 'true'"
        );
        let principal = v1::FrameworkInfo {
            principal: Some("p".into()),
            ..old.clone()
        };
        assert_eq!(
            update(&old, &principal).unwrap_err(),
            "Changing framework's principal is not allowed."
        );
    }

    #[test]
    fn doubles_print_as_in_cpp() {
        for (v, text) in [
            (1e300, "1e+300"),
            (0.5, "0.5"),
            (1.5e-7, "1.5e-07"),
            (100.0, "100"),
            (1234567.0, "1.23457e+06"),
        ] {
            assert_eq!(cpp_double(v), text);
        }
    }

    #[test]
    #[allow(deprecated)]
    fn framework_info_follows_mesos_framework_validate() {
        assert!(framework(&multi(&["a", "b/c"]), &["a".into()]).is_ok());
        assert!(framework(&v1::FrameworkInfo::default(), &["*".into()]).is_ok());
        let mut both = multi(&["a"]);
        both.role = Some("a".into());
        let single_with_roles = v1::FrameworkInfo {
            roles: vec!["a".into()],
            ..Default::default()
        };
        let cases = [
            (
                both,
                Vec::new(),
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable",
            ),
            (
                single_with_roles,
                Vec::new(),
                "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable",
            ),
            (
                multi(&["a", "a"]),
                Vec::new(),
                "'FrameworkInfo.roles' contains duplicate items: { a }",
            ),
            (
                multi(&["/a"]),
                Vec::new(),
                "'FrameworkInfo.roles' contains invalid role: Role '/a' cannot start with a slash",
            ),
            (
                v1::FrameworkInfo {
                    role: Some("a b".into()),
                    ..Default::default()
                },
                Vec::new(),
                "'FrameworkInfo.role' is not a valid role: Role component 'a b' is invalid because it contains backspace or whitespace",
            ),
            (
                v1::FrameworkInfo {
                    failover_timeout: Some(1e300),
                    ..Default::default()
                },
                Vec::new(),
                "The framework failover_timeout (1e+300) is invalid",
            ),
            (
                multi(&["a"]),
                vec!["b".to_string()],
                "Suppressed roles { b } are not contained in the set of roles",
            ),
        ];
        for (info, suppressed, message) in cases {
            assert_eq!(framework(&info, &suppressed).unwrap_err(), message);
        }
    }
}
