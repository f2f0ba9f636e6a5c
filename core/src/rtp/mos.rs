//! mos (in progress).
