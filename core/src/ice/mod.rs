//! ICE agents (RFC 8445, 7675) and the RFC 7983 demultiplexer (in progress).
