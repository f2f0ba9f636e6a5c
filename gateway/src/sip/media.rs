//! The B2BUA's one door to media: every SDP body that crosses from one leg to the other goes
//! through [`MediaBridge`], so that plugging in the media plane (ICE-lite/DTLS-SRTP on the
//! WebRTC leg, RTP latching on the trunk leg, transcoding) changes this file only.
//!
//! Until the media plane is wired, bodies are relayed unchanged (the legs then exchange media
//! directly; right for WebRTC ⇄ WebRTC calls), after checking what RFC 8827 §6.5 and
//! RFC 8122 require of a WebRTC offer: a `a=fingerprint` (else 488).

use rvoip_core::sdp::SessionDescription;

/// Why an SDP body is refused (the call gets 488).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpRefusal {
    /// Not parseable SDP.
    Malformed,
    /// A WebRTC offer without DTLS fingerprint.
    NoFingerprint,
}

impl std::fmt::Display for SdpRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SdpRefusal::Malformed => "malformed SDP",
            SdpRefusal::NoFingerprint => "WebRTC offer without a=fingerprint",
        })
    }
}

/// Checks an offer arriving on a WebRTC (WebSocket) leg: parseable, and every audio
/// section (or the session) carries `a=fingerprint`.
pub fn check_webrtc_offer(body: &[u8]) -> Result<(), SdpRefusal> {
    let sdp = SessionDescription::parse_bytes(body).map_err(|_| SdpRefusal::Malformed)?;
    let session_fp = sdp
        .lines()
        .iter()
        .filter_map(|l| l.attribute())
        .any(|a| a.name.eq_ignore_ascii_case("fingerprint"));
    let media = sdp.media();
    if media.is_empty() {
        return Err(SdpRefusal::Malformed);
    }
    let all = media
        .iter()
        .all(|m| session_fp || m.has_attribute("fingerprint"));
    if all {
        Ok(())
    } else {
        Err(SdpRefusal::NoFingerprint)
    }
}

/// The media side of one call.
#[derive(Debug, Default)]
pub struct MediaBridge {
    /// Codec seen in the answer, for the call record.
    pub codec: Option<String>,
}

impl MediaBridge {
    /// The offer to send on the B leg for the A leg's `offer`.
    pub fn offer_for_b(&mut self, offer: &[u8]) -> Vec<u8> {
        offer.to_vec()
    }

    /// The answer to send on the A leg for the B leg's `answer`.
    pub fn answer_for_a(&mut self, answer: &[u8]) -> Vec<u8> {
        if let Some(c) = first_codec(answer) {
            self.codec = Some(c);
        }
        answer.to_vec()
    }

    /// A mid-call offer from one leg, for the other.
    pub fn relay_offer(&mut self, offer: &[u8]) -> Vec<u8> {
        offer.to_vec()
    }

    /// A mid-call answer from one leg, for the other.
    pub fn relay_answer(&mut self, answer: &[u8]) -> Vec<u8> {
        answer.to_vec()
    }
}

/// The encoding name of the first payload type of the first audio section.
pub fn first_codec(body: &[u8]) -> Option<String> {
    let sdp = SessionDescription::parse_bytes(body).ok()?;
    let m = sdp.media().first()?;
    let ml = m.media_line();
    let pt: u8 = ml.formats().next()?.parse().ok()?;
    match m.rtpmap(pt) {
        Some(r) => Some(r.encoding.to_string()),
        None => match pt {
            0 => Some("PCMU".into()),
            8 => Some("PCMA".into()),
            9 => Some("G722".into()),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEBRTC: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n\
a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\n";

    #[test]
    fn webrtc_offer_needs_a_fingerprint() {
        assert_eq!(check_webrtc_offer(WEBRTC.as_bytes()), Ok(()));
        let plain = WEBRTC.replace("a=fingerprint:sha-256 AA:BB\r\n", "");
        assert_eq!(
            check_webrtc_offer(plain.as_bytes()),
            Err(SdpRefusal::NoFingerprint)
        );
        assert_eq!(check_webrtc_offer(b"garbage"), Err(SdpRefusal::Malformed));
        assert_eq!(first_codec(WEBRTC.as_bytes()).as_deref(), Some("opus"));
    }
}
