//! Mesos's credentials file: JSON `{"credentials":[{"principal":…,"secret":…}]}`, or
//! the older text form, one `principal secret` pair per line.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// Why a credentials file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The file cannot be read.
    #[error("cannot read the credentials file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The content is neither Mesos's JSON nor its text form.
    #[error("invalid credentials: {0}")]
    Invalid(String),
}

/// One principal and its secret: an entry of the credentials file, or the credential an
/// agent authenticates with. Its `Debug` form hides the secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Credential {
    /// The principal (a framework's `FrameworkInfo.principal`).
    pub principal: String,
    /// Its secret.
    #[serde(default)]
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Credential {
    /// Reads the credential an agent authenticates with (Mesos's agent `--credential`):
    /// a file path, optionally as `file:///path` (see [`Credential::parse`]).
    ///
    /// # Errors
    /// [`CredentialsError::Read`] or [`CredentialsError::Invalid`].
    pub fn load(value: &str) -> Result<Self, CredentialsError> {
        let path = value.strip_prefix("file://").unwrap_or(value);
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses one credential: Mesos's JSON `{"principal":"p","secret":"s"}`, or the text
    /// form, a single `principal secret` line.
    ///
    /// ```
    /// use mesos_master::auth::Credential;
    ///
    /// let json = Credential::parse(r#"{"principal": "agent", "secret": "s3cret"}"#)?;
    /// assert_eq!(json, Credential::parse("agent s3cret\n")?);
    /// assert!(Credential::parse("agent").is_err());
    /// # Ok::<(), mesos_master::auth::CredentialsError>(())
    /// ```
    ///
    /// # Errors
    /// [`CredentialsError::Invalid`]: malformed JSON, not exactly one `principal secret`
    /// line, or an empty principal.
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let credential = if text.trim_start().starts_with('{') {
            serde_json::from_str::<Credential>(text)
                .map_err(|e| CredentialsError::Invalid(format!("not Mesos's JSON form: {e}")))?
        } else {
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            match lines[..] {
                [line] => match line.split_whitespace().collect::<Vec<_>>()[..] {
                    [principal, secret] => Credential {
                        principal: principal.to_owned(),
                        secret: secret.to_owned(),
                    },
                    _ => {
                        return Err(CredentialsError::Invalid(
                            "the line is not 'principal secret'".into(),
                        ));
                    }
                },
                _ => {
                    return Err(CredentialsError::Invalid(
                        "expected one 'principal secret' line".into(),
                    ));
                }
            }
        };
        if credential.principal.is_empty() {
            return Err(CredentialsError::Invalid("an empty principal".into()));
        }
        Ok(credential)
    }
}

#[derive(Deserialize)]
struct File {
    credentials: Vec<Credential>,
}

/// The accepted credentials, by principal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    secrets: HashMap<String, String>,
}

impl Credentials {
    /// Reads a credentials file (see [`Credentials::parse`]).
    ///
    /// # Errors
    /// [`CredentialsError::Read`] or [`CredentialsError::Invalid`].
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses Mesos's JSON form (`{"credentials":[{"principal":"p","secret":"s"}]}`)
    /// or its text form (one `principal secret` per line).
    ///
    /// # Errors
    /// [`CredentialsError::Invalid`] naming what is wrong: malformed JSON, a line
    /// without exactly two fields, an empty principal, or a principal given twice.
    pub fn parse(text: &str) -> Result<Self, CredentialsError> {
        let list = if text.trim_start().starts_with('{') {
            serde_json::from_str::<File>(text)
                .map_err(|e| CredentialsError::Invalid(format!("not Mesos's JSON form: {e}")))?
                .credentials
        } else {
            text.lines()
                .map(str::trim)
                .enumerate()
                .filter(|(_, line)| !line.is_empty())
                .map(
                    |(n, line)| match line.split_whitespace().collect::<Vec<_>>()[..] {
                        [principal, secret] => Ok(Credential {
                            principal: principal.to_owned(),
                            secret: secret.to_owned(),
                        }),
                        _ => Err(CredentialsError::Invalid(format!(
                            "line {} is not 'principal secret'",
                            n + 1
                        ))),
                    },
                )
                .collect::<Result<_, _>>()?
        };
        let mut secrets = HashMap::new();
        for credential in list {
            if credential.principal.is_empty() {
                return Err(CredentialsError::Invalid("an empty principal".into()));
            }
            if secrets
                .insert(credential.principal.clone(), credential.secret)
                .is_some()
            {
                return Err(CredentialsError::Invalid(format!(
                    "principal '{}' is given twice",
                    credential.principal
                )));
            }
        }
        Ok(Self { secrets })
    }

    /// Whether `secret` is `principal`'s. The comparison takes the same time wherever
    /// the secrets differ.
    pub fn check(&self, principal: &str, secret: &str) -> bool {
        let Some(expected) = self.secrets.get(principal) else {
            return false;
        };
        let (a, b) = (expected.as_bytes(), secret.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// How many principals are accepted.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Whether no principal is accepted.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_and_bad_input() {
        let json = Credentials::parse(
            r#"{"credentials":[{"principal":"p1","secret":"s1"},{"principal":"p2","secret":"s2"}]}"#,
        )
        .unwrap();
        assert_eq!(json.len(), 2);
        assert!(json.check("p1", "s1"));
        assert!(!json.check("p1", "s2"));
        assert!(!json.check("p1", "s1x"));
        assert!(!json.check("nobody", "s1"));
        let text = Credentials::parse("p1 s1\n\n  p2   s2 \n").unwrap();
        assert_eq!(text, json);
        for bad in [
            "{",
            r#"{"credentials":[{"secret":"s"}]}"#,
            "p1 s1 extra",
            "p1",
            r#"{"credentials":[{"principal":"p","secret":"a"},{"principal":"p","secret":"b"}]}"#,
            r#"{"credentials":[{"principal":"","secret":"a"}]}"#,
        ] {
            assert!(
                matches!(Credentials::parse(bad), Err(CredentialsError::Invalid(_))),
                "{bad:?} accepted"
            );
        }
    }
}
