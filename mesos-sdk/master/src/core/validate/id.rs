//! Mesos's `common::validation::validateID`, for task and executor ids.

/// The longest id, in bytes (`NAME_MAX`: ids name sandbox directories).
const NAME_MAX: usize = 255;

/// Mesos's `validateID`: not empty, at most 255 bytes, not `.` or `..`, and no control
/// character, `/` or `\`.
pub(super) fn id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".into());
    }
    if id.len() > NAME_MAX {
        return Err(format!("ID must not be greater than {NAME_MAX} characters"));
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id
        .bytes()
        .any(|b| b.is_ascii_control() || b == b'/' || b == b'\\')
    {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::id;

    #[test]
    fn ids_follow_mesos_validate_id() {
        assert!(id("pi-1").is_ok());
        assert_eq!(id("").unwrap_err(), "ID must not be empty");
        assert_eq!(
            id(&"x".repeat(256)).unwrap_err(),
            "ID must not be greater than 255 characters"
        );
        assert!(id(&"x".repeat(255)).is_ok());
        assert_eq!(id("..").unwrap_err(), "'..' is disallowed");
        assert_eq!(id("a/b").unwrap_err(), "'a/b' contains invalid characters");
        assert_eq!(
            id("a\\b").unwrap_err(),
            "'a\\b' contains invalid characters"
        );
        assert_eq!(
            id("a\nb").unwrap_err(),
            "'a\nb' contains invalid characters"
        );
    }
}
