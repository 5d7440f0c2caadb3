//! Mesos's ACLs (`--acls`), the `register_frameworks` kind: which principals may
//! subscribe frameworks with which roles.
//!
//! The file is Mesos's JSON (`mesos::ACLs` in `acls.proto`):
//!
//! ```json
//! {"permissive": false,
//!  "register_frameworks": [
//!    {"principals": {"values": ["alice"]}, "roles": {"values": ["dev", "ops/%"]}},
//!    {"principals": {"type": "ANY"}, "roles": {"type": "NONE"}}]}
//! ```
//!
//! Each role of a framework is checked on its own and all must be allowed. For one role,
//! the first rule whose principals and roles *match* decides (the rule *allows* it or
//! not, with the local authorizer's matrices); when none matches, `permissive` decides
//! (default `true`). A framework without a principal is the `ANY` subject. A rule whose
//! `roles` is one value ending in `/%` is recursive: it covers every role nested under
//! that prefix (`ops/%` covers `ops/a` and `ops/a/b`, not `ops`).
//!
//! Only `register_frameworks` is enforced. Any other ACL kind with rules is refused when
//! the file is read (ignoring a restriction the operator wrote would be unsafe); empty
//! lists of other kinds are accepted.

use std::path::Path;

use serde::Deserialize;

/// Why an ACL file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AclsError {
    /// The file cannot be read.
    #[error("cannot read the ACLs file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The content is not Mesos's ACLs JSON.
    #[error("invalid ACLs: {0}")]
    Invalid(String),
    /// The file has rules of ACL kinds this master does not enforce.
    #[error(
        "ACLs of kind {0} are not enforced by this master (only register_frameworks is); remove them or leave their lists empty"
    )]
    Unsupported(String),
}

/// An entity of a rule (Mesos's `ACL.Entity`): some values, anything, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// `{"values": [...]}` (type `SOME`, the default).
    Some(Vec<String>),
    /// `{"type": "ANY"}`.
    Any,
    /// `{"type": "NONE"}`.
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityJson {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    values: Vec<String>,
}

impl TryFrom<EntityJson> for Entity {
    type Error = String;

    fn try_from(json: EntityJson) -> Result<Self, String> {
        match json.kind.as_deref() {
            None | Some("SOME") => Ok(Entity::Some(json.values)),
            Some("ANY") => Ok(Entity::Any),
            Some("NONE") => Ok(Entity::None),
            Some(other) => Err(format!("entity type '{other}' is not SOME, ANY or NONE")),
        }
    }
}

/// One `register_frameworks` rule (Mesos's `ACL.RegisterFramework`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterFramework {
    /// The framework principals the rule is about.
    pub principals: Entity,
    /// The roles they may (or may not) register with.
    pub roles: Entity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFrameworkJson {
    principals: EntityJson,
    roles: EntityJson,
}

/// The ACLs: `permissive` and the `register_frameworks` rules, in order.
///
/// ```
/// use mesos_master::auth::Acls;
///
/// let acls = Acls::parse(r#"{"permissive": false, "register_frameworks": [
///     {"principals": {"values": ["alice"]}, "roles": {"values": ["dev"]}}]}"#)?;
/// assert!(acls.may_register(Some("alice"), &["dev".to_string()]));
/// assert!(!acls.may_register(Some("alice"), &["prod".to_string()]));
/// assert!(!acls.may_register(Some("bob"), &["dev".to_string()]));
/// assert!(Acls::default().may_register(None, &["anything".to_string()]));
/// # Ok::<(), mesos_master::auth::AclsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acls {
    /// What happens when no rule matches (Mesos's default: `true`, allowed).
    pub permissive: bool,
    /// The `register_frameworks` rules, first match wins.
    pub register_frameworks: Vec<RegisterFramework>,
}

impl Default for Acls {
    /// No rules, permissive: everything is allowed (no `--acls`).
    fn default() -> Self {
        Acls {
            permissive: true,
            register_frameworks: Vec::new(),
        }
    }
}

impl Acls {
    /// Reads Mesos's `--acls` value: inline JSON (starting with `{`), or the path of a
    /// JSON file, optionally as `file:///path`.
    ///
    /// # Errors
    /// [`AclsError::Read`], [`AclsError::Invalid`] or [`AclsError::Unsupported`].
    pub fn load(value: &str) -> Result<Self, AclsError> {
        if value.trim_start().starts_with('{') {
            return Self::parse(value);
        }
        let path = value.strip_prefix("file://").unwrap_or(value);
        let text = std::fs::read_to_string(Path::new(path)).map_err(|source| AclsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses Mesos's ACLs JSON (see the module documentation).
    ///
    /// # Errors
    /// [`AclsError::Invalid`] for malformed JSON or a malformed rule,
    /// [`AclsError::Unsupported`] for rules of another kind than `register_frameworks`.
    pub fn parse(text: &str) -> Result<Self, AclsError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| AclsError::Invalid(format!("not JSON: {e}")))?;
        let serde_json::Value::Object(fields) = value else {
            return Err(AclsError::Invalid("not a JSON object".into()));
        };
        let mut acls = Acls::default();
        for (name, value) in fields {
            match name.as_str() {
                "permissive" => {
                    acls.permissive = value.as_bool().ok_or_else(|| {
                        AclsError::Invalid("'permissive' is not true or false".into())
                    })?;
                }
                "register_frameworks" => {
                    let rules: Vec<RegisterFrameworkJson> = serde_json::from_value(value)
                        .map_err(|e| AclsError::Invalid(format!("register_frameworks: {e}")))?;
                    for (n, rule) in rules.into_iter().enumerate() {
                        let entity = |json: EntityJson| {
                            Entity::try_from(json).map_err(|e| {
                                AclsError::Invalid(format!("register_frameworks[{n}]: {e}"))
                            })
                        };
                        acls.register_frameworks.push(RegisterFramework {
                            principals: entity(rule.principals)?,
                            roles: entity(rule.roles)?,
                        });
                    }
                }
                _ => match value {
                    serde_json::Value::Array(rules) if rules.is_empty() => {}
                    serde_json::Value::Array(_) => return Err(AclsError::Unsupported(name)),
                    _ => {
                        return Err(AclsError::Invalid(format!(
                            "'{name}' is not a list of ACLs"
                        )));
                    }
                },
            }
        }
        Ok(acls)
    }

    /// Whether `principal` (`None`: a framework without one, Mesos's `ANY` subject)
    /// may subscribe a framework with every one of `roles`.
    pub fn may_register(&self, principal: Option<&str>, roles: &[String]) -> bool {
        let subject = match principal {
            Some(p) => Entity::Some(vec![p.to_owned()]),
            None => Entity::Any,
        };
        if roles.is_empty() {
            return self.permissive;
        }
        roles.iter().all(|role| {
            let object = Entity::Some(vec![role.clone()]);
            self.approved(&subject, &object)
        })
    }

    /// Mesos's `LocalHierarchicalRoleApprover::approved` for one role.
    fn approved(&self, subject: &Entity, object: &Entity) -> bool {
        for rule in &self.register_frameworks {
            if let Some(prefix) = recursive_prefix(&rule.roles) {
                let nested =
                    matches!(object, Entity::Some(v) if v.len() == 1 && v[0].starts_with(prefix));
                if nested && matches(subject, &rule.principals) && matches(object, &Entity::Any) {
                    return allows(subject, &rule.principals) && allows(object, &Entity::Any);
                }
            } else if matches(subject, &rule.principals) && matches(object, &rule.roles) {
                return allows(subject, &rule.principals) && allows(object, &rule.roles);
            }
        }
        self.permissive
    }
}

/// For a recursive rule (`roles` is one value ending in `/%`), the prefix nested roles
/// start with (the value without its `%`).
fn recursive_prefix(roles: &Entity) -> Option<&str> {
    match roles {
        Entity::Some(values) if values.len() == 1 && values[0].ends_with("/%") => {
            Some(&values[0][..values[0].len() - 1])
        }
        _ => None,
    }
}

/// Whether every value of `request` is one of `acl`.
fn subset(request: &[String], acl: &[String]) -> bool {
    request.iter().all(|value| acl.contains(value))
}

/// Mesos's match matrix: does the rule's entity apply to the request's?
fn matches(request: &Entity, acl: &Entity) -> bool {
    match (request, acl) {
        (Entity::None, acl) => *acl == Entity::None,
        (Entity::Any, acl) => matches!(acl, Entity::Any | Entity::None),
        (Entity::Some(_), Entity::Any | Entity::None) => true,
        (Entity::Some(request), Entity::Some(acl)) => subset(request, acl),
    }
}

/// Mesos's allow matrix: does the matching rule allow the request's entity?
fn allows(request: &Entity, acl: &Entity) -> bool {
    match (request, acl) {
        (Entity::None, acl) => *acl == Entity::None,
        (Entity::Any, acl) => *acl == Entity::Any,
        (Entity::Some(_), Entity::Any) => true,
        (Entity::Some(_), Entity::None) => false,
        (Entity::Some(request), Entity::Some(acl)) => subset(request, acl),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(list: &[&str]) -> Vec<String> {
        list.iter().map(|r| (*r).to_owned()).collect()
    }

    #[test]
    fn first_matching_rule_wins_and_permissive_decides_the_rest() {
        let acls = Acls::parse(
            r#"{"register_frameworks": [
                {"principals": {"values": ["alice"]}, "roles": {"values": ["dev", "test"]}},
                {"principals": {"type": "ANY"}, "roles": {"values": ["dev"]}},
                {"principals": {"values": ["bob"]}, "roles": {"type": "NONE"}}
            ]}"#,
        )
        .unwrap();
        assert!(acls.permissive);
        assert!(acls.may_register(Some("alice"), &roles(&["dev", "test"])));
        // carol matches rule 2 with dev (ANY principals, dev): allowed.
        assert!(acls.may_register(Some("carol"), &roles(&["dev"])));
        // bob with dev: rule 2 matches first (ANY principal), and allows it.
        assert!(acls.may_register(Some("bob"), &roles(&["dev"])));
        // bob with prod: rule 3 matches (NONE roles match any role) and refuses.
        assert!(!acls.may_register(Some("bob"), &roles(&["prod"])));
        // carol with prod: no rule matches; permissive.
        assert!(acls.may_register(Some("carol"), &roles(&["prod"])));
        // A framework without principal is ANY: rule 2 (ANY) matches dev and allows it.
        assert!(acls.may_register(None, &roles(&["dev"])));
        // Every role must pass: bob with dev and prod is refused.
        assert!(!acls.may_register(Some("bob"), &roles(&["dev", "prod"])));

        let strict = Acls::parse(
            r#"{"permissive": false, "register_frameworks": [
                {"principals": {"values": ["alice"]}, "roles": {"type": "ANY"}}]}"#,
        )
        .unwrap();
        assert!(strict.may_register(Some("alice"), &roles(&["anything"])));
        assert!(!strict.may_register(Some("bob"), &roles(&["anything"])));
        // A principal-less framework (ANY) does not match a rule about alice.
        assert!(!strict.may_register(None, &roles(&["anything"])));
    }

    #[test]
    fn recursive_rules_cover_nested_roles() {
        let acls = Acls::parse(
            r#"{"permissive": false, "register_frameworks": [
                {"principals": {"values": ["alice"]}, "roles": {"values": ["ops/%"]}}]}"#,
        )
        .unwrap();
        assert!(acls.may_register(Some("alice"), &roles(&["ops/a"])));
        assert!(acls.may_register(Some("alice"), &roles(&["ops/a/b"])));
        assert!(!acls.may_register(Some("alice"), &roles(&["ops"])));
        assert!(!acls.may_register(Some("alice"), &roles(&["opsx/a"])));
        assert!(!acls.may_register(Some("bob"), &roles(&["ops/a"])));
    }

    #[test]
    fn bad_files_are_refused_clearly() {
        for (bad, want) in [
            ("{", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"permissive": "no"}"#, "'permissive'"),
            (
                r#"{"register_frameworks": [{"principals": {"values": ["a"]}}]}"#,
                "register_frameworks",
            ),
            (
                r#"{"register_frameworks": [{"principals": {"type": "SOMETIMES"}, "roles": {"type": "ANY"}}]}"#,
                "SOMETIMES",
            ),
            (
                r#"{"register_frameworks": [{"principals": {"value": ["a"]}, "roles": {"type": "ANY"}}]}"#,
                "unknown field",
            ),
            (
                r#"{"run_tasks": [{"principals": {"type": "ANY"}, "users": {"type": "ANY"}}]}"#,
                "run_tasks are not enforced",
            ),
            (r#"{"run_tasks": {}}"#, "not a list"),
        ] {
            let error = Acls::parse(bad).unwrap_err().to_string();
            assert!(error.contains(want), "{bad}: {error}");
        }
        // Empty lists of other kinds are harmless.
        let acls = Acls::parse(r#"{"run_tasks": [], "permissive": false}"#).unwrap();
        assert!(!acls.permissive && acls.register_frameworks.is_empty());
        assert!(matches!(
            Acls::load("/nonexistent/acls.json"),
            Err(AclsError::Read { .. })
        ));
    }
}
