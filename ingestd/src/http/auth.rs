//! Bearer API-key check for the ingest endpoints.

use hyper::Request;
use hyper::header::AUTHORIZATION;

use crate::apikey::ApiKeys;

/// Whether the request carries a valid `Authorization: Bearer <key>`.
pub fn authorized<B>(keys: &ApiKeys, req: &Request<B>) -> bool {
    keys.verify(req.headers().get(AUTHORIZATION).map(|v| v.as_bytes()))
}
