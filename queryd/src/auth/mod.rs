//! Onboarding and authentication over HTTP: the `/connect` script, `POST /api/auth/connect`,
//! password hashing, per-IP rate limiting and client-IP resolution behind proxies.

pub mod client_ip;
pub mod connect;
pub mod password;
pub mod ratelimit;
pub mod script;
