//! SRTP/SRTCP (RFC 3711, 7714, 5764) (in progress).
