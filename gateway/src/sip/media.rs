//! The B2BUA's one door to media: every SDP body that crosses from one leg to the other goes
//! through [`MediaBridge`], so that plugging in the media plane (ICE-lite/DTLS-SRTP on the
//! WebRTC leg, RTP latching on the trunk leg, transcoding) changes this file only.
//!
//! With a [`MediaEngine`], calls between a WebRTC leg and a plain SIP leg are anchored: the
//! A leg's offer is answered with the media plane's local parameters (ICE-lite, DTLS
//! fingerprint, `a=setup:passive` on WebRTC legs; RFC 3264 via
//! [`rvoip_core::sdp::negotiate`]), a fresh offer goes to the B leg, and the B leg's answer
//! configures the bridge (passthrough or transcoding). Echo and tone calls are anchored on
//! one leg. WebRTC ⇄ WebRTC calls, and every call without an engine, relay SDP unchanged.
//! A WebRTC offer must carry `a=fingerprint` (RFC 8827 §6.5, RFC 8122), else 488.
//!
//! Hold and unhold on an anchored call (RFC 3264 §8.4, RFC 6337 §5): a mid-call offer
//! whose direction differs from what that leg's peer last said is relayed — the B2BUA
//! re-offers the other leg with the same direction ([`MediaBridge::reoffer`]); the other
//! leg's answer ([`MediaBridge::reoffer_answered`]) decides our answer to the first leg
//! ([`MediaBridge::answer_reoffer`] mirrors it). Each leg's agreed direction gates the media
//! plane: a leg we may not send on gets no RTP ([`CallMedia::set_sending`]). ICE and DTLS
//! state of a WebRTC leg is kept across re-offers (same credentials and fingerprint),
//! except that an offer restarting ICE (new `a=ice-ufrag`/`a=ice-pwd`, RFC 8839
//! §4.4.1.1.2) is answered with new credentials of ours, which the ICE-lite agent then
//! checks against ([`CallMedia::restart_ice`]); DTLS carries on unless the fingerprint
//! changed (RFC 8842 §5).

use std::net::IpAddr;

use rvoip_core::sdp::negotiate::{
    self, CodecPolicy, LocalMedia, RtpTransport, Transport, WebRtcTransport,
};
use rvoip_core::sdp::{Direction, Fingerprint, SessionDescription, Setup};

use rvoip_core::ice::Credentials;

use crate::media::{
    CallMedia, CallSpec, LegId, LegKind, LocalParams, MediaEngine, OsRng, Peer, RemoteParams,
};

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

/// How a call's media is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// SDP relayed unchanged between the legs (no media plane, or WebRTC ⇄ WebRTC).
    Relay,
    /// The media plane terminates both legs (or the one leg of echo/tone).
    Anchored,
}

/// The media side of one call: SDP in, SDP out, and the media plane's [`CallMedia`].
pub struct MediaBridge {
    engine: Option<MediaEngine>,
    address: IpAddr,
    a_webrtc: bool,
    b_webrtc: bool,
    mode: Mode,
    call: Option<CallMedia>,
    session_id: u64,
    /// Per leg (A, B): the `o=` version of the last SDP we made for it. Each leg is its own
    /// SDP session to its peer, so each counts on its own: RFC 3264 §8 has every new offer
    /// or answer increment the version by exactly one (a counter shared by both legs made
    /// a relayed hold skip versions: 1, 3, 5 on the leg that asked for it).
    version: [u64; 2],
    /// Our answer to the A leg's offer.
    a_answer: Option<String>,
    /// Our offer on the B leg.
    b_offer: Option<String>,
    /// Codec on the A leg, for the call record.
    pub codec: Option<String>,
    /// Codec on the B leg, for the call record.
    pub b_codec: Option<String>,
    /// Per leg (A, B): the direction we agreed (what we may do on it).
    local_dir: [Direction; 2],
    /// Per leg: the direction its peer last wrote in an offer or answer.
    remote_dir: [Direction; 2],
    /// Our re-offer in progress on a leg (hold/unhold relay).
    pending: Option<(LegId, String)>,
    /// Per leg: the ICE credentials its peer last gave (WebRTC legs), to tell an ICE
    /// restart (RFC 8839 §4.4.1.1.2) from a re-offer that keeps ICE as it is.
    remote_ice: [Option<Credentials>; 2],
}

/// The index of a leg in the per-leg arrays.
fn ix(leg: LegId) -> usize {
    match leg {
        LegId::A => 0,
        LegId::B => 1,
    }
}

/// The other leg.
pub fn other(leg: LegId) -> LegId {
    match leg {
        LegId::A => LegId::B,
        LegId::B => LegId::A,
    }
}

/// The direction an SDP body states for its audio stream, from its writer's side: the first
/// audio section with a port (the one [`negotiate`] picks), else the first section, read by
/// [`SessionDescription::effective_direction`] — `a=sendrecv`/`sendonly`/`recvonly`/
/// `inactive` (media, else session level), with an RFC 2543 hold (the `c=` that applies to
/// that section is `0.0.0.0`, outside ICE) meaning it will not receive (RFC 3264 §8.4).
pub fn sdp_direction(body: &[u8]) -> Option<Direction> {
    let sdp = SessionDescription::parse_bytes(body).ok()?;
    let media = sdp.media();
    let m = media
        .iter()
        .find(|m| {
            let ml = m.media_line();
            ml.media == "audio" && ml.port != 0
        })
        .or_else(|| media.first())?;
    Some(sdp.effective_direction(m))
}

impl std::fmt::Debug for MediaBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaBridge")
            .field("mode", &self.mode)
            .field("anchored", &self.call.is_some())
            .finish_non_exhaustive()
    }
}

fn kind(webrtc: bool) -> LegKind {
    if webrtc {
        LegKind::WebRtc
    } else {
        LegKind::Rtp { rtcp_port: true }
    }
}

fn policy(webrtc: bool) -> CodecPolicy {
    if webrtc {
        CodecPolicy::webrtc()
    } else {
        CodecPolicy::trunk()
    }
}

impl MediaBridge {
    /// The media of a call whose A leg is WebRTC (`a_webrtc`) or plain SIP, and whose B leg
    /// (if any) is WebRTC or plain SIP. Without an engine, SDP is relayed.
    pub fn new(
        engine: Option<MediaEngine>,
        address: IpAddr,
        a_webrtc: bool,
        b_webrtc: bool,
    ) -> Self {
        let mut rng = super::GwRng::new();
        MediaBridge {
            engine,
            address,
            a_webrtc,
            b_webrtc,
            mode: Mode::Relay,
            call: None,
            session_id: negotiate::random_session_id(&mut rng),
            version: [1; 2],
            a_answer: None,
            b_offer: None,
            codec: None,
            b_codec: None,
            local_dir: [Direction::SendRecv; 2],
            remote_dir: [Direction::SendRecv; 2],
            pending: None,
            remote_ice: [None, None],
        }
    }

    /// Whether the media plane anchors the call (re-offers are then answered per leg).
    pub fn is_anchored(&self) -> bool {
        self.mode == Mode::Anchored
    }

    /// The running media of the call, if anchored.
    pub fn call_media(&mut self) -> Option<&mut CallMedia> {
        self.call.as_mut()
    }

    /// Takes the media out (to hang it up).
    pub fn take_call(&mut self) -> Option<CallMedia> {
        self.call.take()
    }

    fn local_media<'a>(
        &self,
        leg: LegId,
        local: &'a LocalParams,
        webrtc: bool,
        fingerprint: Option<Fingerprint>,
        direction: Direction,
    ) -> Option<LocalMedia<'a>> {
        let transport = if webrtc {
            let ice = local.ice.as_ref()?;
            Transport::WebRtc(WebRtcTransport {
                ice_ufrag: &ice.ufrag,
                ice_pwd: &ice.pwd,
                fingerprint: fingerprint?,
                ice_lite: true,
                answer_setup: Setup::Passive,
                candidates: &[],
            })
        } else {
            Transport::Rtp(RtpTransport {
                rtcp_port: local.rtcp_port,
                rtcp_mux: true,
                sdes_key: None,
            })
        };
        Some(LocalMedia {
            session_id: self.session_id,
            session_version: self.version[ix(leg)],
            address: self.address,
            port: local.addr.port(),
            direction,
            // Browsers take a stream without them as "unsignaled" (a default stream id, stats
            // lost across renegotiation): WebRTC legs announce the SSRC the media session
            // sends with, its RTCP CNAME and a per-leg msid (RFC 5576, RFC 8830); the same in
            // every offer and answer of the call. Trunk legs stay plain RTP/AVP.
            ssrc: local.ssrc.zip(local.cname.as_deref()).filter(|_| webrtc),
            msid: local
                .msid
                .as_ref()
                .filter(|_| webrtc)
                .map(|(s, t)| (s.as_str(), t.as_str())),
            transport,
        })
    }

    fn fingerprint(&self, local: &LocalParams) -> Option<Fingerprint> {
        let fp = local.fingerprint.as_ref()?;
        Fingerprint::parse(&format!("sha-256 {fp}")).ok()
    }

    /// Answers `offer` on `leg` with the leg's local parameters, at most `direction`, and
    /// applies the result (the agreed direction gates the leg's sending).
    fn answer_leg(
        &mut self,
        leg: LegId,
        offer: &[u8],
        webrtc: bool,
        direction: Direction,
    ) -> Result<String, u16> {
        let call = self.call.as_ref().ok_or(500u16)?;
        let mut local = call.local(leg).ok_or(500u16)?.clone();
        let fp = self.fingerprint(&local);
        let sdp = SessionDescription::parse_bytes(offer).map_err(|_| 488u16)?;
        let lm = self
            .local_media(leg, &local, webrtc, fp, direction)
            .ok_or(500u16)?;
        let mut ans = negotiate::answer(&sdp, &policy(webrtc), &lm).map_err(|e| e.sip_status())?;
        let remote = match RemoteParams::from_negotiated(&ans.negotiated, !webrtc) {
            Some(r) => Some(r),
            // An RFC 2543 hold (`c=0.0.0.0`) of a leg already running keeps its transport.
            None if ans.negotiated.old_style_hold => None,
            None => return Err(488),
        };
        // ICE restart (RFC 8839 §4.4.1.1.2): the offer's ufrag or pwd differs from what the
        // peer last gave for this stream. The answerer then draws new credentials of its own
        // (§4.4.1.1.1, RFC 8829 §5.3.1) — the same form as at call start — and the ICE-lite
        // agent checks against both new pairs from now on. A re-offer repeating the peer's
        // credentials (hold, unhold, a refresh) keeps ours.
        let restart = match (&remote, &self.remote_ice[ix(leg)]) {
            (Some(RemoteParams::WebRtc { ice, .. }), Some(prev)) => ice != prev,
            _ => false,
        };
        let fresh = if restart {
            let fresh = Credentials::random(&mut OsRng);
            local.ice = Some(fresh.clone());
            let lm = self
                .local_media(leg, &local, webrtc, fp, direction)
                .ok_or(500u16)?;
            // The same offer against the same policy: only our credentials in it change.
            ans = negotiate::answer(&sdp, &policy(webrtc), &lm).map_err(|e| e.sip_status())?;
            Some(fresh)
        } else {
            None
        };
        let agreed = ans.negotiated.direction;
        self.local_dir[ix(leg)] = agreed;
        self.remote_dir[ix(leg)] = sdp_direction(offer).unwrap_or(Direction::SendRecv);
        let name = ans.negotiated.codec.name.to_string();
        if leg == LegId::A {
            self.codec = Some(name);
        } else {
            self.b_codec = Some(name);
        }
        if let Some(c) = self.call.as_mut() {
            if let (Some(fresh), Some(RemoteParams::WebRtc { ice, .. })) = (fresh, &remote) {
                tracing::debug!(?leg, "media: ICE restart, new local credentials");
                c.restart_ice(leg, fresh, ice.clone());
            }
            if let Some(remote) = remote {
                if let RemoteParams::WebRtc { ice, .. } = &remote {
                    self.remote_ice[ix(leg)] = Some(ice.clone());
                }
                c.apply_remote(leg, remote);
            }
            c.set_sending(leg, agreed.sends());
        }
        Ok(ans.sdp.to_string())
    }

    /// The offer to send on the B leg for the A leg's `offer`; `Err(status)` refuses the
    /// call (488 for SDP nobody can answer, 503 when no media port is free).
    pub fn offer_for_b(&mut self, offer: &[u8]) -> Result<Vec<u8>, u16> {
        let Some(engine) = self.engine.clone() else {
            return Ok(offer.to_vec());
        };
        if (self.a_webrtc && self.b_webrtc) || offer.is_empty() {
            return Ok(offer.to_vec());
        }
        let call = engine
            .create_call(CallSpec {
                peer: Peer::Bridge,
                a: kind(self.a_webrtc),
                b: Some(kind(self.b_webrtc)),
            })
            .map_err(|e| {
                tracing::warn!("media: {e}");
                503u16
            })?;
        self.call = Some(call);
        self.mode = Mode::Anchored;
        self.a_answer =
            Some(self.answer_leg(LegId::A, offer, self.a_webrtc, Direction::SendRecv)?);
        let call = self.call.as_ref().ok_or(500u16)?;
        let local = call.local(LegId::B).ok_or(500u16)?.clone();
        let fp = self.fingerprint(&local);
        let lm = self
            .local_media(LegId::B, &local, self.b_webrtc, fp, Direction::SendRecv)
            .ok_or(500u16)?;
        let b_offer = negotiate::offer(&policy(self.b_webrtc), &lm).to_string();
        self.b_offer = Some(b_offer.clone());
        Ok(b_offer.into_bytes())
    }

    /// The answer to send on the A leg for the B leg's `answer` (183 or 200).
    pub fn answer_for_a(&mut self, answer: &[u8]) -> Vec<u8> {
        if self.mode == Mode::Relay {
            if let Some(c) = first_codec(answer) {
                self.codec = Some(c.clone());
                self.b_codec = Some(c);
            }
            return answer.to_vec();
        }
        if let (Some(offer), Ok(ans)) = (
            self.b_offer.as_deref(),
            SessionDescription::parse_bytes(answer),
        ) && let Ok(offer) = SessionDescription::parse(offer)
        {
            match negotiate::process_answer(&offer, &ans) {
                Ok(n) => {
                    self.b_codec = Some(n.codec.name.to_string());
                    self.local_dir[1] = n.direction;
                    self.remote_dir[1] = sdp_direction(answer).unwrap_or(Direction::SendRecv);
                    match RemoteParams::from_negotiated(&n, !self.b_webrtc) {
                        Some(p) => {
                            if let RemoteParams::WebRtc { ice, .. } = &p {
                                self.remote_ice[1] = Some(ice.clone());
                            }
                            if let Some(c) = &self.call {
                                c.apply_remote(LegId::B, p);
                            }
                        }
                        None => tracing::warn!("media: B leg answer not usable"),
                    }
                }
                Err(e) => tracing::warn!("media: B leg answer refused: {e}"),
            }
        }
        self.a_answer.clone().unwrap_or_default().into_bytes()
    }

    /// Anchors a one-leg service call (echo, tone) and returns the answer to `offer`.
    pub fn answer_service(&mut self, peer: Peer, offer: &[u8]) -> Result<Vec<u8>, u16> {
        let engine = self.engine.clone().ok_or(488u16)?;
        let call = engine
            .create_call(CallSpec {
                peer,
                a: kind(self.a_webrtc),
                b: None,
            })
            .map_err(|_| 503u16)?;
        self.call = Some(call);
        self.mode = Mode::Anchored;
        self.answer_leg(LegId::A, offer, self.a_webrtc, Direction::SendRecv)
            .map(String::into_bytes)
    }

    fn webrtc(&self, leg: LegId) -> bool {
        if leg == LegId::A {
            self.a_webrtc
        } else {
            self.b_webrtc
        }
    }

    /// Whether a mid-call `offer` on `leg` of an anchored bridged call changes the
    /// direction its peer last stated (hold, unhold): then it is relayed to the other leg
    /// ([`MediaBridge::reoffer`]) before it is answered; otherwise (a refresh, a codec or
    /// address change) it is answered locally.
    pub fn changes_direction(&self, leg: LegId, offer: &[u8]) -> bool {
        let bridged = self
            .call
            .as_ref()
            .is_some_and(|c| c.local(LegId::B).is_some());
        bridged && sdp_direction(offer).is_some_and(|d| d != self.remote_dir[ix(leg)])
    }

    /// A mid-call offer on `leg` when anchored, answered by the media plane: the answer's
    /// direction mirrors what the other leg agreed (a leg held on one side stays held in
    /// the answer to the other).
    pub fn answer_reoffer(&mut self, leg: LegId, offer: &[u8]) -> Result<Vec<u8>, u16> {
        self.version[ix(leg)] += 1;
        let bridged = self
            .call
            .as_ref()
            .is_some_and(|c| c.local(LegId::B).is_some());
        let direction = if bridged {
            self.local_dir[ix(other(leg))].reversed()
        } else {
            Direction::SendRecv
        };
        let answer = self.answer_leg(leg, offer, self.webrtc(leg), direction);
        if answer.is_err() {
            // Refused with an error status: no SDP went out, the version is not used.
            self.version[ix(leg)] -= 1;
        }
        answer.map(String::into_bytes)
    }

    /// Our offer on `leg` with `direction` (the hold or unhold of the other leg relayed),
    /// with the leg's ICE credentials, fingerprint and address unchanged.
    pub fn reoffer(&mut self, leg: LegId, direction: Direction) -> Result<Vec<u8>, u16> {
        self.version[ix(leg)] += 1;
        let webrtc = self.webrtc(leg);
        let call = self.call.as_ref().ok_or(500u16)?;
        let local = call.local(leg).ok_or(500u16)?.clone();
        let fp = self.fingerprint(&local);
        let lm = self
            .local_media(leg, &local, webrtc, fp, direction)
            .ok_or(500u16)?;
        let offer = negotiate::offer(&policy(webrtc), &lm).to_string();
        self.pending = Some((leg, offer.clone()));
        Ok(offer.into_bytes())
    }

    /// The answer to our re-offer on `leg`: applies it and returns the direction agreed on
    /// the leg (what we may do there); `Err(488)` for an answer that does not fit the offer.
    pub fn reoffer_answered(&mut self, leg: LegId, answer: &[u8]) -> Result<Direction, u16> {
        let (pleg, offer) = self.pending.take().ok_or(500u16)?;
        if pleg != leg {
            return Err(500);
        }
        let offer = SessionDescription::parse(&offer).map_err(|_| 500u16)?;
        let ans = SessionDescription::parse_bytes(answer).map_err(|_| 488u16)?;
        let n = negotiate::process_answer(&offer, &ans).map_err(|_| 488u16)?;
        self.local_dir[ix(leg)] = n.direction;
        self.remote_dir[ix(leg)] = sdp_direction(answer).unwrap_or(Direction::SendRecv);
        if let Some(c) = &self.call {
            if let Some(p) = RemoteParams::from_negotiated(&n, !self.webrtc(leg)) {
                if let RemoteParams::WebRtc { ice, .. } = &p {
                    self.remote_ice[ix(leg)] = Some(ice.clone());
                }
                c.apply_remote(leg, p);
            }
            c.set_sending(leg, n.direction.sends());
        }
        Ok(n.direction)
    }

    /// A SIP message `msg` a leg's UA sends: when it carries our SDP for that leg (our
    /// `o=` session id), its version is the leg's latest. The UA makes SDP of its own — a
    /// session refresh by re-INVITE re-sends our last SDP with the version incremented
    /// (RFC 4028 §9 with RFC 3264 §8) — and our next offer or answer on the leg must count
    /// on from it, not go back (after two refreshes, a hold was answered with version 2
    /// where the peer had last seen 3).
    pub fn note_sent(&mut self, leg: LegId, msg: &[u8]) {
        if let Some(v) = our_sdp_version(msg, self.session_id) {
            let last = &mut self.version[ix(leg)];
            *last = (*last).max(v);
        }
    }

    /// Our re-offer on a leg failed (the session is unchanged).
    pub fn reoffer_failed(&mut self) {
        self.pending = None;
    }

    /// The direction we agreed on `leg`.
    pub fn local_direction(&self, leg: LegId) -> Direction {
        self.local_dir[ix(leg)]
    }

    /// A mid-call offer from one leg, for the other (relay mode).
    pub fn relay_offer(&mut self, offer: &[u8]) -> Vec<u8> {
        offer.to_vec()
    }

    /// A mid-call answer from one leg, for the other (relay mode).
    pub fn relay_answer(&mut self, answer: &[u8]) -> Vec<u8> {
        answer.to_vec()
    }
}

/// The `o=` version of the SDP body of the SIP message `msg`, if it is an SDP of the
/// session `session_id` (RFC 4566 §5.2: `o=<user> <sess-id> <sess-version> …`).
fn our_sdp_version(msg: &[u8], session_id: u64) -> Option<u64> {
    let split = msg.windows(4).position(|w| w == b"\r\n\r\n")?;
    let body = msg.get(split + 4..)?;
    let text = std::str::from_utf8(body).ok()?;
    let origin = text.lines().find_map(|l| l.strip_prefix("o="))?;
    let mut fields = origin.split_ascii_whitespace().skip(1);
    let id: u64 = fields.next()?.parse().ok()?;
    let version = fields.next()?.parse().ok()?;
    (id == session_id).then_some(version)
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
    fn direction_of_an_sdp_body() {
        let plain = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 0\r\n";
        let with = |extra: &str| format!("{plain}{extra}");
        assert_eq!(sdp_direction(plain.as_bytes()), Some(Direction::SendRecv));
        assert_eq!(
            sdp_direction(with("a=sendonly\r\n").as_bytes()),
            Some(Direction::SendOnly)
        );
        assert_eq!(
            sdp_direction(with("a=inactive\r\n").as_bytes()),
            Some(Direction::Inactive)
        );
        // RFC 2543 hold: c=0.0.0.0 means the writer will not receive.
        let old = plain.replace("c=IN IP4 10.0.0.1", "c=IN IP4 0.0.0.0");
        assert_eq!(sdp_direction(old.as_bytes()), Some(Direction::SendOnly));
        // …but not in a WebRTC offer (JSEP's default c= line).
        assert_eq!(sdp_direction(WEBRTC.as_bytes()), Some(Direction::SendRecv));
        assert_eq!(sdp_direction(b"junk"), None);
        assert_eq!(other(LegId::A), LegId::B);
    }

    #[test]
    fn direction_reads_the_audio_section_not_the_raw_text() {
        let head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n";
        // A rejected video section's c=0.0.0.0 does not hold the audio stream.
        let video = format!(
            "{head}t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n\
             m=video 0 RTP/AVP 31\r\nc=IN IP4 0.0.0.0\r\n"
        );
        assert_eq!(sdp_direction(video.as_bytes()), Some(Direction::SendRecv));
        // A media-level address overrides a session-level 0.0.0.0…
        let session = format!(
            "{head}c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.1\r\n"
        );
        assert_eq!(sdp_direction(session.as_bytes()), Some(Direction::SendRecv));
        // …and the audio section is the one read even when another section comes first.
        let first = format!(
            "{head}c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=video 0 RTP/AVP 31\r\n\
             m=audio 4000 RTP/AVP 0\r\n"
        );
        assert_eq!(sdp_direction(first.as_bytes()), Some(Direction::SendOnly));
        // An IPv6 hold.
        let v6 = format!("{head}t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 ::\r\n");
        assert_eq!(sdp_direction(v6.as_bytes()), Some(Direction::SendOnly));
        // ICE attributes in an unrelated section do not excuse the audio section's hold.
        let ice_elsewhere = format!(
            "{head}t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n\
             m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n\
             a=ice-pwd:0123456789abcdef01234567\r\n"
        );
        assert_eq!(
            sdp_direction(ice_elsewhere.as_bytes()),
            Some(Direction::SendOnly)
        );
    }

    #[test]
    fn versions_count_per_leg_from_what_the_ua_sent() {
        let mut m = MediaBridge::new(None, IpAddr::from([127, 0, 0, 1]), false, false);
        let id = m.session_id;
        let msg = |id: u64, v: u64| {
            format!(
                "INVITE sip:a@b SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n\
                 v=0\r\no=- {id} {v} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
            )
            .into_bytes()
        };
        assert_eq!(our_sdp_version(&msg(id, 3), id), Some(3));
        // Two session refreshes went out on the A leg (versions 2 and 3).
        m.note_sent(LegId::A, &msg(id, 2));
        m.note_sent(LegId::A, &msg(id, 3));
        assert_eq!(m.version, [3, 1]);
        // Never backwards; another session's SDP (relayed) and bodiless messages count not.
        m.note_sent(LegId::A, &msg(id, 2));
        m.note_sent(LegId::A, &msg(id.wrapping_add(1), 9));
        m.note_sent(LegId::B, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        m.note_sent(LegId::B, b"BYE sip:a@b SIP/2.0\r\n");
        assert_eq!(m.version, [3, 1]);
    }

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
