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

/// One accepted principal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Credential {
    /// The principal (a framework's `FrameworkInfo.principal`).
    pub principal: String,
    /// Its secret.
    #[serde(default)]
    pub secret: String,
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
