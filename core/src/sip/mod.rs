//! SIP (RFC 3261 and extensions).
//!
//! - [`auth`]: digest authentication (RFC 3261 §22, RFC 7616, RFC 8760).
pub mod auth;
pub mod dialog;
pub mod transaction;
pub mod ua;
