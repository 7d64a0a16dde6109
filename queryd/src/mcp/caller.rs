//! The authenticated caller of an MCP request. The HTTP guard resolves the bearer token on
//! every request and attaches a `Caller` to the request's extensions; rmcp forwards the
//! request parts to handlers, where [`Caller::from_context`] reads it back.

use std::net::IpAddr;

use rmcp::model::ErrorData;
use rmcp::service::{RequestContext, RoleServer};

use crate::platform::audit::Actor;
use crate::platform::{Role, UserId};

/// Who is calling, as established by the bearer token of this very request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account.
    pub user_id: UserId,
    /// Its email (for audit rows).
    pub email: String,
    /// Admin or member.
    pub role: Role,
    /// Environments the account may query (ignored for admins, who see all).
    pub allowed_envs: Vec<String>,
    /// Client IP of the request.
    pub ip: Option<IpAddr>,
}

impl Caller {
    /// The caller of an rmcp request, from the HTTP parts the transport attached.
    pub fn from_context(ctx: &RequestContext<RoleServer>) -> Result<Caller, ErrorData> {
        ctx.extensions
            .get::<axum::http::request::Parts>()
            .and_then(|p| p.extensions.get::<Caller>())
            .cloned()
            .ok_or_else(|| ErrorData::invalid_request("request is not authenticated", None))
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The audit identity of this caller.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id),
            email: Some(self.email.clone()),
            ip: self.ip.map(|ip| ip.to_string()),
        }
    }
}
