//! The HTTP front end (hyper 1, HTTP/1.1): routing and handlers ([`handlers`]), body
//! reading and decompression ([`body`]), API-key check ([`auth`]), JSON responses
//! ([`responses`]) and the accept loop with graceful shutdown ([`server`]).

pub mod auth;
pub mod body;
pub mod handlers;
pub mod responses;
pub mod server;
