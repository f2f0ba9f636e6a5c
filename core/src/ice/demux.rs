//! Demultiplexing STUN, DTLS and RTP/RTCP on one UDP port (RFC 7983 §7) and RTP from RTCP
//! under rtcp-mux (RFC 5761 §4).
//!
//! Input: one datagram. Output: its [`PacketKind`]. No state.

/// What a datagram received on a WebRTC media port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// STUN (first byte 0..=3).
    Stun,
    /// DTLS (first byte 20..=63).
    Dtls,
    /// RTP (first byte 128..=191, second byte not an RTCP packet type).
    Rtp,
    /// RTCP (first byte 128..=191, second byte 192..=223).
    Rtcp,
    /// A TURN ChannelData message (first byte 64..=79); not used without TURN: drop.
    TurnChannel,
    /// ZRTP (16..=19), QUIC, or anything else: drop.
    Other,
}

/// Classifies `datagram` by its first byte (RFC 7983 §7) and, for RTP/RTCP, by its second
/// (RFC 5761 §4: RTCP packet types 192..=223 never collide with RTP payload types 0..=63
/// and 96..=127, even with the marker bit set).
pub fn classify(datagram: &[u8]) -> PacketKind {
    match datagram {
        [0..=3, ..] => PacketKind::Stun,
        [20..=63, ..] => PacketKind::Dtls,
        [64..=79, ..] => PacketKind::TurnChannel,
        [128..=191, 192..=223, ..] => PacketKind::Rtcp,
        [128..=191, _, ..] => PacketKind::Rtp,
        _ => PacketKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_byte() {
        for b in 0..=255u8 {
            let k = classify(&[b, 0, 0, 0]);
            let want = match b {
                0..=3 => PacketKind::Stun,
                4..=19 => PacketKind::Other,
                20..=63 => PacketKind::Dtls,
                64..=79 => PacketKind::TurnChannel,
                80..=127 => PacketKind::Other,
                128..=191 => PacketKind::Rtp,
                192..=255 => PacketKind::Other,
            };
            assert_eq!(k, want, "first byte {b}");
        }
        assert_eq!(classify(&[]), PacketKind::Other);
        // A lone version byte cannot be RTP.
        assert_eq!(classify(&[0x80]), PacketKind::Other);
    }

    #[test]
    fn rtp_versus_rtcp() {
        // RTCP SR (200), RR (201), SDES, BYE, APP, RTPFB (205), PSFB (206), XR (207).
        for pt in [200u8, 201, 202, 203, 204, 205, 206, 207] {
            assert_eq!(classify(&[0x80, pt, 0, 1]), PacketKind::Rtcp);
        }
        assert_eq!(classify(&[0x81, 192, 0, 1]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x80, 223, 0, 1]), PacketKind::Rtcp);
        // PCMU (0), opus (111), and opus with the marker bit (0x80 | 111 = 239).
        assert_eq!(classify(&[0x80, 0, 0, 1]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 111, 0, 1]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 0x80 | 111, 0, 1]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 0x80 | 96, 0, 1]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 224, 0, 1]), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 191, 0, 1]), PacketKind::Rtp);
    }
}
