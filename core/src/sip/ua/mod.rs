//! placeholder
pub mod msg;
