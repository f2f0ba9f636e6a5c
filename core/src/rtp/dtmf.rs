//! dtmf (in progress).
