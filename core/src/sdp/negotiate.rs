//! Offer/answer (RFC 3264) for the two kinds of leg rvoip handles:
//!
//! - **WebRTC** (`UDP/TLS/RTP/SAVPF`): ICE (RFC 8839, ICE-lite for the gateway), DTLS-SRTP
//!   (RFC 5763/8842: `a=fingerprint`, `a=setup`), `a=rtcp-mux` (RFC 5761), `a=mid` and
//!   `a=group:BUNDLE` (RFC 5888, RFC 8843);
//! - **trunk** (`RTP/AVP`, or `RTP/SAVP` with SDES `a=crypto`, RFC 4568): a `c=` address,
//!   G.711 and telephone-event (RFC 4733), `a=ptime`.
//!
//! Inputs: a received offer or answer ([`SessionDescription`]), the local [`CodecPolicy`]
//! and the local transport parameters ([`LocalMedia`]). Outputs: an SDP to send and a
//! [`Negotiated`] summary (codec and payload types, remote address, direction, remote
//! ICE/DTLS/SDES parameters). One audio stream per session is negotiated; other media
//! sections are rejected with port 0 (RFC 3264 §6). Every failure is an
//! [`OfferAnswerError`], which a UA answers with 488 Not Acceptable Here.
//!
//! Answers use the offerer's payload type numbers (RFC 3264 §6.1) and contain one codec
//! (the first of the local policy that the offer has) plus the telephone-event format of
//! the same clock rate (or another, see [`CodecPolicy::telephone_event_any_clock`]), so
//! both sides send the same codec.
//!
//! ```
//! use rvoip_core::sdp::negotiate::{CodecPolicy, LocalMedia, RtpTransport, Transport, answer};
//! use rvoip_core::sdp::{Direction, SessionDescription};
//!
//! let offer = SessionDescription::parse(
//!     "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//!      m=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n",
//! )
//! .unwrap();
//! let local = LocalMedia {
//!     session_id: 1,
//!     session_version: 1,
//!     address: "198.51.100.7".parse().unwrap(),
//!     port: 20000,
//!     direction: Direction::SendRecv,
//!     ssrc: None,
//!     msid: None,
//!     transport: Transport::Rtp(RtpTransport { rtcp_port: None, rtcp_mux: false, sdes_key: None }),
//! };
//! match answer(&offer, &CodecPolicy::trunk(), &local) {
//!     Ok(a) => {
//!         // PCMU is first in the trunk policy; the offerer's PT numbers are kept.
//!         assert_eq!(a.negotiated.codec.payload_type, 0);
//!         assert_eq!(a.negotiated.telephone_event.unwrap().payload_type, 101);
//!         assert_eq!(a.negotiated.remote_rtp, Some("192.0.2.1:4000".parse().unwrap()));
//!         let _body: String = a.sdp.to_string(); // the 200 OK body
//!     }
//!     Err(e) => panic!("would answer {}", e.sip_status()), // 488
//! }
//! ```

use super::candidate::host_candidate;
use super::crypto::base64_encode;
use super::policy::rtpmap_text;
pub use super::policy::{
    Codec, CodecPolicy, LocalMedia, RtpTransport, TelephoneEvent, Transport, WebRtcTransport,
    random_cname, random_ice_credentials, random_msid_id, random_session_id,
};
use super::{
    Candidate, Connection, CryptoSuite, Direction, Fingerprint, MediaDescription, Mki, Origin,
    SdpError, SessionDescription, Setup,
};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// Why an offer or answer cannot be accepted; a UA answers 488 (RFC 3261 §21.4.26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferAnswerError {
    /// The SDP is malformed.
    Sdp(SdpError),
    /// No acceptable media section (wrong media types or transport profiles).
    NoAcceptableMedia,
    /// An audio section with an acceptable transport has no codec in common.
    NoCommonCodec,
    /// A DTLS-SRTP section has no usable `a=fingerprint` (RFC 8122, RFC 5763 §5).
    MissingFingerprint,
    /// An ICE section has no `a=ice-ufrag`/`a=ice-pwd` (RFC 8839 §5.4).
    MissingIceCredentials,
    /// `a=setup` is not acceptable (holdconn, or actpass in an answer).
    BadSetup,
    /// An `RTP/SAVP` section has no usable `a=crypto` (RFC 4568 §7.1.2).
    NoUsableCrypto,
    /// The answer does not match the offer (section count, media or payload types).
    AnswerMismatch,
    /// The answer rejected the stream (port 0).
    Rejected,
}

impl OfferAnswerError {
    /// The SIP status a UAS responds with: 488 Not Acceptable Here.
    pub const fn sip_status(self) -> u16 {
        488
    }
}

impl From<SdpError> for OfferAnswerError {
    fn from(e: SdpError) -> Self {
        Self::Sdp(e)
    }
}

impl fmt::Display for OfferAnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sdp(e) => write!(f, "bad SDP: {e}"),
            Self::NoAcceptableMedia => f.write_str("no acceptable media section"),
            Self::NoCommonCodec => f.write_str("no codec in common"),
            Self::MissingFingerprint => f.write_str("DTLS-SRTP media without a fingerprint"),
            Self::MissingIceCredentials => f.write_str("ICE media without ice-ufrag/ice-pwd"),
            Self::BadSetup => f.write_str("unacceptable a=setup"),
            Self::NoUsableCrypto => f.write_str("RTP/SAVP media without a usable a=crypto"),
            Self::AnswerMismatch => f.write_str("the answer does not match the offer"),
            Self::Rejected => f.write_str("the stream was rejected"),
        }
    }
}

impl core::error::Error for OfferAnswerError {}

/// The negotiated codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    /// The payload type (the offerer's number).
    pub payload_type: u8,
    /// The encoding name as the remote side wrote it.
    pub name: String,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// The channel count.
    pub channels: u16,
    /// The remote side's `a=fmtp` parameters for it, if any.
    pub fmtp: Option<String>,
}

/// The remote ICE parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteIce {
    /// `a=ice-ufrag`.
    pub ufrag: String,
    /// `a=ice-pwd`.
    pub pwd: String,
    /// The remote side is ICE-lite.
    pub lite: bool,
    /// The `a=candidate` values, raw (decode with [`RemoteIce::candidates`]).
    pub candidate_lines: Vec<String>,
    /// `a=end-of-candidates` was present.
    pub end_of_candidates: bool,
}

impl RemoteIce {
    /// The well-formed remote candidates.
    pub fn candidates(&self) -> impl Iterator<Item = Candidate<'_>> {
        self.candidate_lines
            .iter()
            .filter_map(|c| Candidate::parse(c).ok())
    }
}

/// The DTLS parameters (RFC 5763, RFC 8842).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dtls {
    /// The remote certificate fingerprints (any may match, RFC 8122 §5).
    pub remote_fingerprints: Vec<Fingerprint>,
    /// The local role: `Active` is the DTLS client, `Passive` the server.
    pub local_setup: Setup,
}

/// SDES-SRTP keys (RFC 4568).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdes {
    /// The agreed suite.
    pub suite: CryptoSuite,
    /// The tag of the agreed `a=crypto` line.
    pub tag: u32,
    /// The key ‖ salt the remote side sends with.
    pub remote_key_salt: Vec<u8>,
    /// The remote MKI, if any.
    pub remote_mki: Option<Mki>,
    /// The key ‖ salt the local side sends with.
    pub local_key_salt: Vec<u8>,
}

/// The outcome of an offer/answer exchange, from the local side's point of view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The index of the negotiated media section.
    pub media_index: usize,
    /// Its `a=mid`, if any.
    pub mid: Option<String>,
    /// The voice codec.
    pub codec: NegotiatedCodec,
    /// The telephone-event format (RFC 4733), if agreed: at the codec's clock rate, or at
    /// another one (see [`CodecPolicy::telephone_event_any_clock`]).
    pub telephone_event: Option<TelephoneEvent>,
    /// Where to send RTP (`None` for an unspecified address, hold, or an FQDN).
    pub remote_rtp: Option<SocketAddr>,
    /// Where to send RTCP when it is not multiplexed.
    pub remote_rtcp: Option<SocketAddr>,
    /// RTP and RTCP share the port (RFC 5761).
    pub rtcp_mux: bool,
    /// The local direction (what the local side may do).
    pub direction: Direction,
    /// The remote side put the stream on hold the RFC 2543 way (`c=0.0.0.0`).
    pub old_style_hold: bool,
    /// The remote `a=ptime`, if any.
    pub remote_ptime: Option<u32>,
    /// The remote ICE parameters (WebRTC legs).
    pub remote_ice: Option<RemoteIce>,
    /// The DTLS parameters (WebRTC legs).
    pub dtls: Option<Dtls>,
    /// The SDES keys (`RTP/SAVP` trunk legs).
    pub sdes: Option<Sdes>,
}

/// An answer to send and what it agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The answer SDP.
    pub sdp: SessionDescription<'static>,
    /// The agreed parameters.
    pub negotiated: Negotiated,
}

/// A format offered in a media section.
#[derive(Debug, Clone, Copy)]
struct Format<'a> {
    pt: u8,
    name: &'a str,
    clock_rate: u32,
    channels: u16,
}

/// RFC 3551 §6 static audio payload types that can appear without `a=rtpmap`.
fn static_format(pt: u8) -> Option<Format<'static>> {
    let (name, clock_rate) = match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        13 => ("CN", 8000),
        15 => ("G728", 8000),
        18 => ("G729", 8000),
        _ => return None,
    };
    Some(Format {
        pt,
        name,
        clock_rate,
        channels: 1,
    })
}

/// The RTP formats of a section, in order, each payload type once (so that a hostile
/// `m=` line repeating a number cannot make the lookups quadratic in the input size).
fn formats<'s>(m: &'s MediaDescription<'_>) -> impl Iterator<Item = Format<'s>> + 's {
    let mut seen = [false; 128];
    m.media_line()
        .payload_types()
        .filter(move |pt| {
            seen.get_mut(usize::from(*pt))
                .is_some_and(|slot| !core::mem::replace(slot, true))
        })
        .filter_map(move |pt| match m.rtpmap(pt) {
            Some(r) => Some(Format {
                pt,
                name: r.encoding,
                clock_rate: r.clock_rate,
                channels: r.channel_count(),
            }),
            None => static_format(pt),
        })
}

fn is_event(name: &str) -> bool {
    name.eq_ignore_ascii_case("telephone-event")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WebRtc,
    Plain,
    Sdes,
}

fn proto_kind(proto: &str) -> Option<Kind> {
    match proto {
        "UDP/TLS/RTP/SAVPF" | "UDP/TLS/RTP/SAVP" => Some(Kind::WebRtc),
        "RTP/AVP" | "RTP/AVPF" => Some(Kind::Plain),
        "RTP/SAVP" | "RTP/SAVPF" => Some(Kind::Sdes),
        _ => None,
    }
}

fn transport_accepts(t: &Transport<'_>, k: Kind) -> bool {
    match (t, k) {
        (Transport::WebRtc(_), Kind::WebRtc) | (Transport::Rtp(_), Kind::Plain) => true,
        (Transport::Rtp(r), Kind::Sdes) => r.sdes_key.is_some(),
        _ => false,
    }
}

const SDES_SUITES: [CryptoSuite; 3] = [
    CryptoSuite::AesCm128HmacSha1_80,
    CryptoSuite::AesCm128HmacSha1_32,
    CryptoSuite::AeadAes128Gcm,
];

/// Picks the first offered `a=crypto` with a supported suite, a single well-formed key of
/// the suite's length and no session parameters (none are supported, RFC 4568 §6.3).
fn choose_crypto(m: &MediaDescription<'_>, local_key: &[u8]) -> Option<Sdes> {
    m.cryptos().filter_map(Result::ok).find_map(|c| {
        let suite = c.suite().filter(|s| SDES_SUITES.contains(s))?;
        let mut keys = c.keys();
        let key = keys.next()?.ok()?;
        if keys.next().is_some() || !c.session_params.is_empty() || key.method != "inline" {
            return None;
        }
        let mut buf = [0u8; 64];
        let n = key.decode_key_salt(&mut buf).ok()?;
        let local = local_key.get(..suite.key_salt_len())?;
        (n == suite.key_salt_len()).then(|| Sdes {
            suite,
            tag: c.tag,
            remote_key_salt: buf[..n].to_vec(),
            remote_mki: key.mki,
            local_key_salt: local.to_vec(),
        })
    })
}

/// The remote transport facts of a media section.
struct Remote {
    rtp: Option<SocketAddr>,
    rtcp: Option<SocketAddr>,
    old_style_hold: bool,
    direction: Direction,
}

/// `t` is the section carrying the transport (the BUNDLE-tagged one for a bundle-only
/// section, else `m` itself); `m` gives the direction.
fn remote_of(
    sdp: &SessionDescription<'_>,
    m: &MediaDescription<'_>,
    t: &MediaDescription<'_>,
    mux: bool,
) -> Remote {
    let conn = sdp.connection_for(t).and_then(Result::ok);
    let port = t.media_line().port;
    let ip = conn
        .as_ref()
        .and_then(Connection::ip)
        .filter(|ip| !ip.is_unspecified());
    let rtp = ip.map(|ip| SocketAddr::new(ip, port));
    let rtcp = if mux {
        None
    } else {
        match t.rtcp().and_then(Result::ok) {
            Some(r) => {
                let rip = r
                    .address
                    .and_then(|(_, _, a)| a.parse::<IpAddr>().ok())
                    .filter(|ip| !ip.is_unspecified())
                    .or(ip);
                rip.map(|ip| SocketAddr::new(ip, r.port))
            }
            None => ip.map(|ip| SocketAddr::new(ip, port.wrapping_add(1))),
        }
    };
    // RFC 3264 §8.4 / RFC 6337 §5.3: c=0.0.0.0 (outside ICE, where it is only JSEP's
    // default candidate address) means the writer will not receive.
    let hold = sdp.is_old_style_hold(t);
    let mut direction = sdp.direction(m);
    if hold {
        direction = Direction::from_flags(direction.sends(), false);
    }
    Remote {
        rtp,
        rtcp,
        old_style_hold: hold,
        direction,
    }
}

fn remote_ice(sdp: &SessionDescription<'_>, m: &MediaDescription<'_>) -> Option<RemoteIce> {
    let (ufrag, pwd) = sdp.ice_credentials(m)?;
    Some(RemoteIce {
        ufrag: ufrag.to_string(),
        pwd: pwd.to_string(),
        lite: sdp.ice_lite(),
        candidate_lines: m
            .attributes()
            .filter(|a| a.name == "candidate")
            .filter_map(|a| a.value)
            .map(str::to_string)
            .collect(),
        end_of_candidates: m.has_attribute("end-of-candidates")
            || sdp.attribute("end-of-candidates").is_some(),
    })
}

fn addr_type(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IP4" } else { "IP6" }
}

fn new_session(local: &LocalMedia<'_>) -> SessionDescription<'static> {
    let id = local.session_id.to_string();
    let addr = local.address.to_string();
    let origin = Origin {
        username: "-",
        session_id: &id,
        session_version: local.session_version,
        nettype: "IN",
        addrtype: addr_type(local.address),
        address: &addr,
    };
    SessionDescription::new(&origin, "-")
}

fn push_transport(
    m: &mut MediaDescription<'static>,
    local: &LocalMedia<'_>,
    setup: Setup,
    mux: bool,
) {
    m.push_line(
        b'c',
        format!("IN {} {}", addr_type(local.address), local.address),
    );
    match &local.transport {
        Transport::WebRtc(w) => {
            m.push_attribute(format!("ice-ufrag:{}", w.ice_ufrag));
            m.push_attribute(format!("ice-pwd:{}", w.ice_pwd));
            m.push_attribute(format!("fingerprint:{}", w.fingerprint));
            m.push_attribute(format!("setup:{}", setup.as_str()));
        }
        Transport::Rtp(r) => {
            if let Some(p) = r.rtcp_port.filter(|_| !mux) {
                m.push_attribute(format!("rtcp:{p}"));
            }
        }
    }
    if mux {
        m.push_attribute("rtcp-mux");
    }
}

fn push_tail(m: &mut MediaDescription<'static>, local: &LocalMedia<'_>) {
    if let Transport::WebRtc(w) = &local.transport {
        if w.candidates.is_empty() {
            let c = host_candidate("1", 1, 2_130_706_431, local.address, local.port);
            m.push_attribute(c);
        }
        for c in w.candidates {
            m.push_attribute(format!("candidate:{c}"));
        }
        m.push_attribute("end-of-candidates");
    }
    if let Some((stream, track)) = local.msid {
        m.push_attribute(format!("msid:{stream} {track}"));
    }
    if let Some((ssrc, cname)) = local.ssrc {
        m.push_attribute(format!("ssrc:{ssrc} cname:{cname}"));
    }
}

fn push_event(m: &mut MediaDescription<'static>, pt: u8, clock: u32, policy: &CodecPolicy) {
    m.push_attribute(rtpmap_text(pt, "telephone-event", clock, 1));
    if !policy.dtmf_events.is_empty() {
        m.push_attribute(format!("fmtp:{pt} {}", policy.dtmf_events));
    }
}

/// Builds an offer with one audio section for `local`'s leg: every policy codec and
/// telephone-event, the local direction, and for WebRTC `a=mid:0` + `a=group:BUNDLE 0`,
/// ICE credentials, `a=setup:actpass`, the fingerprint and `a=rtcp-mux`; for a trunk `RTP/AVP`
/// (or `RTP/SAVP` with `a=crypto:1 AES_CM_128_HMAC_SHA1_80` when an SDES key is given) and
/// `a=ptime`.
pub fn offer(policy: &CodecPolicy, local: &LocalMedia<'_>) -> SessionDescription<'static> {
    let mut sdp = new_session(local);
    let (proto, webrtc) = match &local.transport {
        Transport::WebRtc(w) => {
            if w.ice_lite {
                sdp.push_attribute("ice-lite");
            }
            sdp.push_attribute("group:BUNDLE 0");
            ("UDP/TLS/RTP/SAVPF", true)
        }
        Transport::Rtp(r) if r.sdes_key.is_some() => ("RTP/SAVP", false),
        Transport::Rtp(_) => ("RTP/AVP", false),
    };
    let pts: Vec<String> = policy
        .codecs
        .iter()
        .map(|c| c.payload_type)
        .chain(policy.telephone_events.iter().map(|t| t.payload_type))
        .map(|p| p.to_string())
        .collect();
    let m_line = format!("audio {} {proto} {}", local.port, pts.join(" "));
    // Invariant: the line is built from a port, a fixed proto and numbers; it only fails
    // on an empty policy, which then yields a section without formats.
    let mut m = MediaDescription::new(m_line)
        .or_else(|_| MediaDescription::new(format!("audio {} {proto}", local.port)))
        .expect("m= line built from numbers");
    push_transport(&mut m, local, Setup::ActPass, webrtc);
    if webrtc {
        m.push_attribute("mid:0");
    }
    for c in &policy.codecs {
        m.push_attribute(c.rtpmap(c.payload_type));
        if let Some(f) = &c.fmtp {
            m.push_attribute(format!("fmtp:{} {f}", c.payload_type));
        }
    }
    for t in &policy.telephone_events {
        push_event(&mut m, t.payload_type, t.clock_rate, policy);
    }
    if let (Some(p), false) = (policy.ptime, webrtc) {
        m.push_attribute(format!("ptime:{p}"));
    }
    m.push_attribute(local.direction.as_str());
    if let Transport::Rtp(RtpTransport {
        sdes_key: Some(key),
        ..
    }) = &local.transport
    {
        let suite = CryptoSuite::AesCm128HmacSha1_80;
        let key = key.get(..suite.key_salt_len()).unwrap_or(key);
        m.push_attribute(format!(
            "crypto:1 {} inline:{}",
            suite.as_str(),
            base64_encode(key)
        ));
    }
    push_tail(&mut m, local);
    sdp.push_media(m);
    sdp
}

struct Choice<'s> {
    codec: Format<'s>,
    event: Option<Format<'s>>,
}

fn choose_codec<'s>(m: &'s MediaDescription<'_>, policy: &CodecPolicy) -> Option<Choice<'s>> {
    let codec = policy
        .codecs
        .iter()
        .find_map(|c| formats(m).find(|f| c.matches(f.name, f.clock_rate, f.channels)))?;
    let supported = |f: &Format<'_>| {
        is_event(f.name)
            && policy
                .telephone_events
                .iter()
                .any(|t| t.clock_rate == f.clock_rate)
    };
    let event = formats(m)
        .find(|f| supported(f) && f.clock_rate == codec.clock_rate)
        .or_else(|| {
            formats(m)
                .filter(|_| policy.telephone_event_any_clock)
                .find(|f| supported(f))
        });
    Some(Choice { codec, event })
}

fn negotiated_codec(m: &MediaDescription<'_>, f: &Format<'_>) -> NegotiatedCodec {
    NegotiatedCodec {
        payload_type: f.pt,
        name: f.name.to_string(),
        clock_rate: f.clock_rate,
        channels: f.channels,
        fmtp: m.fmtp(f.pt).map(|x| x.params.to_string()),
    }
}

fn reject(m: &MediaDescription<'_>, local: &LocalMedia<'_>) -> MediaDescription<'static> {
    let ml = m.media_line();
    let fmt = if ml.fmt.is_empty() { "0" } else { ml.fmt };
    // Invariant: media, proto and fmt come from a validated m= line.
    let mut r = MediaDescription::new(format!("{} 0 {} {fmt}", ml.media, ml.proto))
        .expect("rejected m= line rebuilt from a valid one");
    // RFC 8866 §5.7: every section needs a c= (none is written at session level).
    r.push_line(
        b'c',
        format!("IN {} {}", addr_type(local.address), local.address),
    );
    if let Some(mid) = m.mid() {
        r.push_attribute(format!("mid:{mid}"));
    }
    r
}

/// Answers `offer` (RFC 3264 §6): accepts the first audio section whose transport profile
/// matches `local` and that has a codec of `policy`, rejects every other section with port
/// 0, and returns the answer with what it agreed.
///
/// Errors: [`OfferAnswerError::MissingFingerprint`] / [`MissingIceCredentials`] /
/// [`BadSetup`] for a WebRTC section lacking them; [`NoCommonCodec`] when an audio section
/// had the right transport but no common codec; [`NoUsableCrypto`] for an `RTP/SAVP`
/// section without a usable key; otherwise [`NoAcceptableMedia`].
///
/// [`MissingIceCredentials`]: OfferAnswerError::MissingIceCredentials
/// [`BadSetup`]: OfferAnswerError::BadSetup
/// [`NoCommonCodec`]: OfferAnswerError::NoCommonCodec
/// [`NoUsableCrypto`]: OfferAnswerError::NoUsableCrypto
/// [`NoAcceptableMedia`]: OfferAnswerError::NoAcceptableMedia
pub fn answer(
    offer: &SessionDescription<'_>,
    policy: &CodecPolicy,
    local: &LocalMedia<'_>,
) -> Result<Answer, OfferAnswerError> {
    let mut failure = OfferAnswerError::NoAcceptableMedia;
    let mut accepted: Option<(usize, Negotiated, MediaDescription<'static>)> = None;
    for (i, m) in offer.media().iter().enumerate() {
        if accepted.is_some() {
            break;
        }
        let ml = m.media_line();
        let Some(kind) = proto_kind(ml.proto) else {
            continue;
        };
        let transport = match ml.port {
            0 => bundle_transport(offer, m),
            _ => Some(m),
        };
        let Some(transport) = transport else {
            continue;
        };
        if ml.media != "audio" || !transport_accepts(&local.transport, kind) {
            continue;
        }
        match answer_section(offer, m, transport, i, kind, policy, local) {
            Ok((n, section)) => accepted = Some((i, n, section)),
            Err(e) => {
                if e != OfferAnswerError::NoCommonCodec && kind == Kind::WebRtc {
                    return Err(e);
                }
                failure = e;
            }
        }
    }
    let Some((index, negotiated, section)) = accepted else {
        return Err(failure);
    };
    let mut sdp = new_session(local);
    if let Transport::WebRtc(w) = &local.transport {
        if w.ice_lite {
            sdp.push_attribute("ice-lite");
        }
        if let Some(mid) = negotiated.mid.as_deref()
            && offer.bundle().is_some_and(|g| g.contains(mid))
        {
            sdp.push_attribute(format!("group:BUNDLE {mid}"));
        }
    }
    for (i, m) in offer.media().iter().enumerate() {
        if i == index {
            sdp.push_media(section.clone());
        } else {
            sdp.push_media(reject(m, local));
        }
    }
    Ok(Answer { sdp, negotiated })
}

/// For a `port 0` + `a=bundle-only` section in the BUNDLE group (RFC 8843 §7.2.1), the
/// offerer-tagged section whose transport it shares: the first section of the group with a
/// port. `None` for a plain rejected section.
fn bundle_transport<'s, 'a>(
    offer: &'s SessionDescription<'a>,
    m: &MediaDescription<'_>,
) -> Option<&'s MediaDescription<'a>> {
    let group = offer.bundle()?;
    if !m.has_attribute("bundle-only") || !group.contains(m.mid()?) {
        return None;
    }
    let tag = group.mids().next()?;
    offer
        .media()
        .iter()
        .find(|x| x.mid() == Some(tag))
        .filter(|x| x.media_line().port != 0)
}

fn answer_section(
    offer: &SessionDescription<'_>,
    m: &MediaDescription<'_>,
    t: &MediaDescription<'_>,
    index: usize,
    kind: Kind,
    policy: &CodecPolicy,
    local: &LocalMedia<'_>,
) -> Result<(Negotiated, MediaDescription<'static>), OfferAnswerError> {
    let ml = m.media_line();
    let mut dtls = None;
    let mut ice = None;
    let mut setup = Setup::ActPass;
    if let Transport::WebRtc(w) = &local.transport {
        let fingerprints: Vec<Fingerprint> = offer.fingerprints(t).collect();
        if fingerprints.is_empty() {
            return Err(OfferAnswerError::MissingFingerprint);
        }
        ice = Some(remote_ice(offer, t).ok_or(OfferAnswerError::MissingIceCredentials)?);
        let remote_setup = match offer.setup(t) {
            None => Setup::ActPass,
            Some(s) => s?,
        };
        setup = match remote_setup {
            Setup::Active => Setup::Passive,
            Setup::Passive => Setup::Active,
            Setup::ActPass if w.answer_setup == Setup::Active => Setup::Active,
            Setup::ActPass => Setup::Passive,
            Setup::HoldConn => return Err(OfferAnswerError::BadSetup),
        };
        dtls = Some(Dtls {
            remote_fingerprints: fingerprints,
            local_setup: setup,
        });
    }
    let choice = choose_codec(m, policy).ok_or(OfferAnswerError::NoCommonCodec)?;
    let sdes = match (kind, &local.transport) {
        (
            Kind::Sdes,
            Transport::Rtp(RtpTransport {
                sdes_key: Some(key),
                ..
            }),
        ) => Some(choose_crypto(m, key).ok_or(OfferAnswerError::NoUsableCrypto)?),
        _ => None,
    };
    let mux = (m.rtcp_mux() || t.rtcp_mux())
        && match &local.transport {
            Transport::WebRtc(_) => true,
            Transport::Rtp(r) => r.rtcp_mux,
        };
    let remote = remote_of(offer, m, t, mux);
    let direction = local.direction.answer_to(remote.direction);

    let c = choice.codec;
    let mut fmt = c.pt.to_string();
    if let Some(e) = &choice.event {
        fmt = format!("{fmt} {}", e.pt);
    }
    let mut a = MediaDescription::new(format!("audio {} {} {fmt}", local.port, ml.proto))
        // Invariant: built from a valid proto and numbers.
        .expect("answer m= line built from valid parts");
    push_transport(&mut a, local, setup, mux);
    if let Some(mid) = m.mid() {
        a.push_attribute(format!("mid:{mid}"));
    }
    a.push_attribute(rtpmap_text(c.pt, c.name, c.clock_rate, c.channels));
    let local_codec = policy
        .codecs
        .iter()
        .find(|p| p.matches(c.name, c.clock_rate, c.channels));
    if let Some(f) = local_codec.and_then(|p| p.fmtp.as_deref()) {
        a.push_attribute(format!("fmtp:{} {f}", c.pt));
    }
    if let Some(e) = &choice.event {
        push_event(&mut a, e.pt, e.clock_rate, policy);
    }
    if let (Some(p), Kind::Plain | Kind::Sdes) = (policy.ptime, kind) {
        a.push_attribute(format!("ptime:{p}"));
    }
    a.push_attribute(direction.as_str());
    if let Some(s) = &sdes {
        a.push_attribute(format!(
            "crypto:{} {} inline:{}",
            s.tag,
            s.suite.as_str(),
            base64_encode(&s.local_key_salt)
        ));
    }
    push_tail(&mut a, local);

    let negotiated = Negotiated {
        media_index: index,
        mid: m.mid().map(str::to_string),
        codec: negotiated_codec(m, &c),
        telephone_event: choice.event.map(|e| TelephoneEvent {
            clock_rate: e.clock_rate,
            payload_type: e.pt,
        }),
        remote_rtp: remote.rtp,
        remote_rtcp: remote.rtcp,
        rtcp_mux: mux,
        direction,
        old_style_hold: remote.old_style_hold,
        remote_ptime: m.ptime(),
        remote_ice: ice,
        dtls,
        sdes,
    };
    Ok((negotiated, a))
}

/// Processes the answer to a local `offer` (RFC 3264 §7): the first non-rejected audio
/// section of the offer is the negotiated stream; the codec is the first answered payload
/// type that the offer had (other than telephone-event, CN, RED and FEC formats).
pub fn process_answer(
    offer: &SessionDescription<'_>,
    answer: &SessionDescription<'_>,
) -> Result<Negotiated, OfferAnswerError> {
    if offer.media().len() != answer.media().len() {
        return Err(OfferAnswerError::AnswerMismatch);
    }
    let (index, om) = offer
        .media()
        .iter()
        .enumerate()
        .find(|(_, m)| {
            let ml = m.media_line();
            ml.media == "audio" && ml.port != 0 && proto_kind(ml.proto).is_some()
        })
        .ok_or(OfferAnswerError::NoAcceptableMedia)?;
    let am = &answer.media()[index];
    let (oml, aml) = (om.media_line(), am.media_line());
    if aml.media != oml.media {
        return Err(OfferAnswerError::AnswerMismatch);
    }
    if aml.port == 0 {
        return Err(OfferAnswerError::Rejected);
    }
    // Invariant: `find` above only returns sections whose proto is known.
    let kind = proto_kind(oml.proto).ok_or(OfferAnswerError::NoAcceptableMedia)?;
    let offered: Vec<Format<'_>> = formats(om).collect();
    let answered = |f: &Format<'_>| {
        offered.iter().any(|o| {
            o.pt == f.pt && o.clock_rate == f.clock_rate && o.name.eq_ignore_ascii_case(f.name)
        })
    };
    let codec = formats(am)
        .filter(|f| answered(f))
        .find(|f| {
            !is_event(f.name)
                && !["CN", "red", "ulpfec", "flexfec-03"]
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(f.name))
        })
        .ok_or(OfferAnswerError::NoCommonCodec)?;
    // Prefer the codec's clock rate; otherwise take what the answerer chose (it was offered).
    let events = || formats(am).filter(|f| answered(f) && is_event(f.name));
    let event = events()
        .find(|f| f.clock_rate == codec.clock_rate)
        .or_else(|| events().next())
        .map(|f| TelephoneEvent {
            clock_rate: f.clock_rate,
            payload_type: f.pt,
        });

    let (mut dtls, mut ice, mut sdes) = (None, None, None);
    match kind {
        Kind::WebRtc => {
            let fingerprints: Vec<Fingerprint> = answer.fingerprints(am).collect();
            if fingerprints.is_empty() {
                return Err(OfferAnswerError::MissingFingerprint);
            }
            ice = Some(remote_ice(answer, am).ok_or(OfferAnswerError::MissingIceCredentials)?);
            // RFC 4145 §4: an answer without a=setup means active.
            let local_setup = match answer.setup(am).transpose()? {
                None | Some(Setup::Active) => Setup::Passive,
                Some(Setup::Passive) => Setup::Active,
                Some(Setup::ActPass | Setup::HoldConn) => return Err(OfferAnswerError::BadSetup),
            };
            dtls = Some(Dtls {
                remote_fingerprints: fingerprints,
                local_setup,
            });
        }
        Kind::Sdes => {
            let ours = om.cryptos().filter_map(Result::ok);
            let theirs: Vec<_> = am.cryptos().filter_map(Result::ok).collect();
            let pair = ours
                .filter_map(|o| {
                    theirs
                        .iter()
                        .find(|t| t.tag == o.tag && t.suite_name == o.suite_name)
                        .map(|t| (o, *t))
                })
                .next()
                .ok_or(OfferAnswerError::NoUsableCrypto)?;
            let suite = pair.0.suite().ok_or(OfferAnswerError::NoUsableCrypto)?;
            let decode = |c: &super::Crypto<'_>| -> Option<(Vec<u8>, Option<Mki>)> {
                let k = c.keys().next()?.ok()?;
                let mut buf = [0u8; 64];
                let n = k.decode_key_salt(&mut buf).ok()?;
                (n == suite.key_salt_len()).then(|| (buf[..n].to_vec(), k.mki))
            };
            let (local_key_salt, _) = decode(&pair.0).ok_or(OfferAnswerError::NoUsableCrypto)?;
            let (remote_key_salt, remote_mki) =
                decode(&pair.1).ok_or(OfferAnswerError::NoUsableCrypto)?;
            sdes = Some(Sdes {
                suite,
                tag: pair.0.tag,
                remote_key_salt,
                remote_mki,
                local_key_salt,
            });
        }
        Kind::Plain => {}
    }
    let mux = om.rtcp_mux() && am.rtcp_mux();
    let remote = remote_of(answer, am, am, mux);
    let ours = offer.direction(om);
    let direction = Direction::from_flags(
        ours.sends() && remote.direction.receives(),
        ours.receives() && remote.direction.sends(),
    );
    Ok(Negotiated {
        media_index: index,
        mid: am.mid().or(om.mid()).map(str::to_string),
        codec: negotiated_codec(am, &codec),
        telephone_event: event,
        remote_rtp: remote.rtp,
        remote_rtcp: remote.rtcp,
        rtcp_mux: mux,
        direction,
        old_style_hold: remote.old_style_hold,
        remote_ptime: am.ptime(),
        remote_ice: ice,
        dtls,
        sdes,
    })
}
