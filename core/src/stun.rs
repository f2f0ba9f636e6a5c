//! STUN (RFC 8489, 5769) (in progress).
