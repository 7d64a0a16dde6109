//! Environment scoping, in one place. Every query over logs or derived state takes an
//! [`EnvScope`], and the only way to get one is [`EnvScope::resolve`] from the caller and
//! the `environment` argument of the call, so no handler can forget the check:
//!
//! - an explicit `environment` must be one the caller is allowed (admins: any);
//! - without one, a member with exactly one environment gets it filled in, a member with
//!   several is scoped to all of them, a member with none is refused;
//! - an admin without an explicit environment sees all environments.

use super::caller::Caller;
use super::registry::ToolCall;
use super::response::ToolError;
use super::tools::opt_str;
use crate::query::EnvRestriction;

/// The set of environments a query may read. Constructed only by [`EnvScope::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvScope {
    envs: Option<Vec<String>>,
}

/// Why no scope could be resolved; the message tells the agent how to fix the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The requested environment is not allowed for this caller.
    #[error(
        "environment {requested:?} is not allowed for your account; use one of {allowed:?} or omit `environment`"
    )]
    NotAllowed {
        /// What was asked for.
        requested: String,
        /// What the caller may use.
        allowed: Vec<String>,
    },
    /// The caller has no environments at all.
    #[error("your account has no environments assigned; ask an admin to grant one")]
    NoEnvironments,
}

impl EnvScope {
    /// Resolves the scope of one call.
    pub fn resolve(caller: &Caller, requested: Option<&str>) -> Result<EnvScope, ScopeError> {
        let requested = requested.map(str::trim).filter(|s| !s.is_empty());
        if caller.is_admin() {
            return Ok(EnvScope {
                envs: requested.map(|r| vec![r.to_string()]),
            });
        }
        match requested {
            Some(r) if caller.allowed_envs.iter().any(|e| e == r) => Ok(EnvScope {
                envs: Some(vec![r.to_string()]),
            }),
            Some(r) => Err(ScopeError::NotAllowed {
                requested: r.to_string(),
                allowed: caller.allowed_envs.clone(),
            }),
            None if caller.allowed_envs.is_empty() => Err(ScopeError::NoEnvironments),
            None => Ok(EnvScope {
                envs: Some(caller.allowed_envs.clone()),
            }),
        }
    }

    /// The scope of a tool call: its `environment` argument resolved against the caller,
    /// refusals reported as [`ToolError::Forbidden`] with the fix in the message.
    pub fn for_call(call: &ToolCall<'_>) -> Result<EnvScope, ToolError> {
        EnvScope::resolve(call.caller, opt_str(call.args, "environment")?)
            .map_err(|e| ToolError::Forbidden(e.to_string()))
    }

    /// Whether rows of `env` are visible.
    pub fn allows(&self, env: &str) -> bool {
        self.envs
            .as_ref()
            .is_none_or(|list| list.iter().any(|e| e == env))
    }

    /// The environments to filter on, or `None` for all (admins only).
    pub fn environments(&self) -> Option<&[String]> {
        self.envs.as_deref()
    }

    /// The scope as the query engine's and the platform store's [`EnvRestriction`].
    pub fn restriction(&self) -> EnvRestriction {
        match &self.envs {
            None => EnvRestriction::All,
            Some(list) => EnvRestriction::Only(list.clone()),
        }
    }

    /// How the scope is echoed back in responses: a name, a list, or `"all"`.
    pub fn describe(&self) -> serde_json::Value {
        match &self.envs {
            None => serde_json::Value::String(String::from("all")),
            Some(list) if list.len() == 1 => serde_json::Value::String(list[0].clone()),
            Some(list) => serde_json::json!(list),
        }
    }
}

/// A query together with the scope it runs under. The query engine accepts only this type,
/// so a query cannot be built without having resolved a scope.
#[derive(Debug, Clone)]
pub struct Scoped<Q> {
    scope: EnvScope,
    query: Q,
}

impl<Q> Scoped<Q> {
    /// Binds `query` to `scope`.
    pub fn new(scope: EnvScope, query: Q) -> Self {
        Self { scope, query }
    }

    /// The scope.
    pub fn scope(&self) -> &EnvScope {
        &self.scope
    }

    /// The query.
    pub fn query(&self) -> &Q {
        &self.query
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Role, UserId};

    fn caller(role: Role, envs: &[&str]) -> Caller {
        Caller {
            user_id: UserId(1),
            email: "a@b.c".into(),
            role,
            allowed_envs: envs.iter().map(|s| s.to_string()).collect(),
            ip: None,
        }
    }

    #[test]
    fn member_rules() {
        let one = caller(Role::Member, &["production"]);
        let s = EnvScope::resolve(&one, None).unwrap();
        assert_eq!(s.environments(), Some(&["production".to_string()][..]));
        assert!(s.allows("production") && !s.allows("staging"));
        assert!(matches!(
            EnvScope::resolve(&one, Some("staging")),
            Err(ScopeError::NotAllowed { .. })
        ));
        let two = caller(Role::Member, &["production", "staging"]);
        let s = EnvScope::resolve(&two, Some("staging")).unwrap();
        assert!(s.allows("staging") && !s.allows("production"));
        let s = EnvScope::resolve(&two, None).unwrap();
        assert!(s.allows("staging") && s.allows("production") && !s.allows("dev"));
        assert_eq!(
            EnvScope::resolve(&caller(Role::Member, &[]), None),
            Err(ScopeError::NoEnvironments)
        );
    }

    #[test]
    fn admin_rules() {
        let a = caller(Role::Admin, &[]);
        let s = EnvScope::resolve(&a, None).unwrap();
        assert!(s.environments().is_none() && s.allows("anything"));
        assert_eq!(s.describe(), serde_json::json!("all"));
        let s = EnvScope::resolve(&a, Some("dev")).unwrap();
        assert!(s.allows("dev") && !s.allows("production"));
    }
}
