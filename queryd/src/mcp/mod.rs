//! The MCP side: the rmcp server handler, the authenticated caller, environment scoping,
//! the tool registry and response conventions, and the tools themselves.

pub mod args;
pub mod caller;
pub mod prompts;
pub mod registry;
pub mod response;
pub mod scope;
pub mod server;
pub mod tools;
