pub mod catalog;
pub mod query;
