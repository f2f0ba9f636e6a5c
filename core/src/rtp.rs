//! RTP/RTCP (RFC 3550, 4585), RFC 4733 events, jitter buffer (in progress).
