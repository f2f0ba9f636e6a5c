//! ICE for WebRTC legs: an ICE-lite agent, a controlling full agent for host candidates,
//! consent freshness and the RFC 7983 demultiplexer.
//!
//! - [`IceLiteAgent`] (RFC 8445 §2.5, §6.1.1, §7.3; RFC 7675): what the gateway runs per
//!   WebRTC leg. It never sends checks; it answers the peer's Binding requests, nominates on
//!   USE-CANDIDATE, moves its media target only to an address that passed a check, and
//!   treats the peer's checks as consent (30 s without one: consent lost).
//! - [`IceAgent`] (RFC 8445 §6–§8, RFC 7675): a full agent, controlling by default, for host
//!   candidates: pairs, paced checks (Ta), retransmissions, aggressive or regular
//!   nomination, consent checks every ~5 s. It answers the peer's checks too.
//! - [`classify`] (RFC 7983, RFC 5761): STUN / DTLS / RTP / RTCP on one port.
//! - [`Candidate`] (RFC 8445 §5.1, RFC 8839 §5.1): priorities and `a=candidate` lines.
//!
//! Both agents are sans-IO machines. Feed them with `handle_receive(now, Receive)` (a STUN
//! datagram with its source and the local address it arrived on) and `handle_timeout(now)`;
//! drain `poll_transmit()` ([`Transmit`]: datagrams to send from a local address),
//! `poll_event()` ([`IceEvent`]) and `poll_timeout()` after every call.
//!
//! ## Driving the lite agent (the gateway side)
//!
//! ```
//! use rvoip_core::ice::{
//!     classify, IceAgent, IceAgentConfig, IceEvent, IceLiteAgent, PacketKind, Receive,
//! };
//! use rvoip_core::rand::SplitMix64;
//! use rvoip_core::time::Instant;
//!
//! let gw_addr = "203.0.113.1:40000".parse().unwrap();
//! let browser_addr = "198.51.100.7:61000".parse().unwrap();
//! let mut rng = SplitMix64::new(1); // the gateway passes an OS-backed Rng
//! let mut gw = IceLiteAgent::new(&mut rng, &[gw_addr]);
//! // The answer SDP carries `a=ice-lite` and these (ufrag, pwd, candidates).
//! let lines = gw.sdp_attributes();
//! assert!(lines[0].starts_with("ice-ufrag:") && lines[2].starts_with("candidate:"));
//!
//! // "The browser": a controlling full agent that read our answer.
//! let mut browser = IceAgent::new(SplitMix64::new(2), IceAgentConfig::default(), &[browser_addr]);
//! browser.set_remote_credentials(gw.local_credentials().clone());
//! browser.add_remote_candidate(gw.local_candidates()[0].clone()).unwrap();
//! // ... and the offer's credentials go to the gateway.
//! gw.set_remote_credentials(browser.local_credentials().clone());
//!
//! let mut now = Instant::ZERO;
//! for _ in 0..20 {
//!     browser.handle_timeout(now);
//!     while let Some(t) = browser.poll_transmit() {
//!         // The gateway's socket loop: demultiplex, then feed STUN to the agent.
//!         if classify(&t.contents) == PacketKind::Stun {
//!             let r = Receive { source: t.source, destination: t.destination, contents: &t.contents };
//!             let _ = gw.handle_receive(now, r); // Err: rejected (and maybe answered 400/401)
//!         }
//!     }
//!     while let Some(t) = gw.poll_transmit() {
//!         let r = Receive { source: t.source, destination: t.destination, contents: &t.contents };
//!         let _ = browser.handle_receive(now, r);
//!     }
//!     now += core::time::Duration::from_millis(50);
//! }
//! assert!(matches!(gw.poll_event(), Some(IceEvent::Connected { remote, .. }) if remote == browser_addr));
//! // Send media only to this address, and only while it is `Some`.
//! assert_eq!(gw.may_send_to(), Some(browser_addr));
//! ```

mod agent;
mod candidate;
mod demux;
mod lite;

pub use agent::{IceAgent, IceAgentConfig, Nomination, Role};
pub use candidate::{Candidate, CandidateKind, candidate_priority, pair_priority};
pub use demux::{PacketKind, classify};
pub use lite::IceLiteAgent;

use crate::rand::Rng;
use crate::stun::{
    Attribute, AttributeType, ErrorCode, Message, MessageBuilder, MessageType, StunError,
    TransactionId,
};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

/// How long without consent before an agent declares it lost (RFC 7675 §5.1: 30 s).
pub const CONSENT_TIMEOUT: Duration = Duration::from_secs(30);
/// Most datagrams queued for the driver before further ones are dropped.
const MAX_QUEUED: usize = 128;

/// A received datagram.
#[derive(Debug, Clone, Copy)]
pub struct Receive<'a> {
    /// Where it came from.
    pub source: SocketAddr,
    /// The local address it arrived on.
    pub destination: SocketAddr,
    /// The datagram.
    pub contents: &'a [u8],
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// The datagram.
    pub contents: Vec<u8>,
}

/// What an agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceEvent {
    /// A pair was selected (first time, or again after consent was lost): media may flow
    /// between `local` and `remote`.
    Connected {
        /// The local address.
        local: SocketAddr,
        /// The peer's address: the media target.
        remote: SocketAddr,
    },
    /// The selected pair changed (a new nominated, validated pair): move the media target.
    SelectedPairChanged {
        /// The local address.
        local: SocketAddr,
        /// The peer's new address.
        remote: SocketAddr,
    },
    /// Consent expired (RFC 7675): stop sending media until `Connected` again.
    ConsentLost {
        /// The address consent was lost for.
        remote: SocketAddr,
    },
    /// Every check failed: ICE failed (full agent only).
    Failed,
}

/// The overall state of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceState {
    /// No pair validated yet.
    Checking,
    /// A pair is selected and consent is fresh.
    Connected,
    /// Consent was lost; media must not be sent.
    Disconnected,
    /// Checks failed (full agent only).
    Failed,
}

/// Why an agent rejected or ignored a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IceError {
    /// Not a valid STUN message.
    Stun(StunError),
    /// FINGERPRINT present but wrong.
    FingerprintMismatch,
    /// USERNAME or MESSAGE-INTEGRITY missing, or PRIORITY missing (answered 400).
    BadRequest,
    /// Wrong USERNAME or MESSAGE-INTEGRITY (answered 401).
    Unauthenticated,
    /// Unknown comprehension-required attributes (answered 420).
    UnknownAttributes,
    /// Both sides claim the same role (answered 487, or our role switched).
    RoleConflict,
    /// A response to no outstanding transaction, or with bad integrity (dropped).
    UnmatchedResponse,
    /// A STUN message the agent does not handle (an indication, another method).
    Ignored,
    /// Arrived on an address that is not a local candidate.
    UnknownDestination,
    /// A malformed candidate line.
    InvalidCandidate,
    /// A candidate this agent cannot use (TCP, mDNS hostname).
    UnsupportedCandidate,
    /// Too many remote addresses or candidates: dropped.
    TooManyPairs,
}

impl fmt::Display for IceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IceError::Stun(e) => write!(f, "STUN: {e}"),
            IceError::FingerprintMismatch => f.write_str("STUN fingerprint mismatch"),
            IceError::BadRequest => f.write_str("bad Binding request"),
            IceError::Unauthenticated => f.write_str("wrong ICE credentials"),
            IceError::UnknownAttributes => f.write_str("unknown comprehension-required attributes"),
            IceError::RoleConflict => f.write_str("ICE role conflict"),
            IceError::UnmatchedResponse => f.write_str("unmatched or unauthenticated response"),
            IceError::Ignored => f.write_str("STUN message ignored"),
            IceError::UnknownDestination => f.write_str("not a local candidate address"),
            IceError::InvalidCandidate => f.write_str("invalid candidate"),
            IceError::UnsupportedCandidate => f.write_str("unsupported candidate"),
            IceError::TooManyPairs => f.write_str("too many candidate pairs"),
        }
    }
}

impl core::error::Error for IceError {}

impl From<StunError> for IceError {
    fn from(e: StunError) -> Self {
        IceError::Stun(e)
    }
}

/// `ice-char = ALPHA / DIGIT / "+" / "/"` (RFC 8839 §5.4).
pub(crate) fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// ICE credentials: `ice-ufrag` and `ice-pwd` (RFC 8445 §5.3, RFC 8839 §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username fragment.
    pub ufrag: String,
    /// The password.
    pub pwd: String,
}

impl Credentials {
    /// Fresh random credentials: an 8-character ufrag (48 bits) and a 24-character password
    /// (144 bits) of ice-chars (RFC 8445 §5.3 asks for at least 24 and 128 random bits;
    /// RFC 8839 for at least 4 and 22 characters).
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        const CHARS: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut draw = |n: usize| -> String {
            (0..n)
                // Invariant: below(64) < 64 indexes the 64-byte table.
                .map(|_| char::from(CHARS[rng.below(64) as usize]))
                .collect()
        };
        Credentials {
            ufrag: draw(8),
            pwd: draw(24),
        }
    }

    /// Credentials from SDP; `None` unless `ufrag` has 4..=256 and `pwd` 22..=256 ice-chars
    /// (RFC 8839 §5.4).
    pub fn new(ufrag: &str, pwd: &str) -> Option<Self> {
        let ok = |s: &str, min: usize| (min..=256).contains(&s.len()) && s.bytes().all(is_ice_char);
        (ok(ufrag, 4) && ok(pwd, 22)).then(|| Credentials {
            ufrag: ufrag.into(),
            pwd: pwd.into(),
        })
    }
}

/// A Binding request that passed authentication.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValidRequest {
    pub(crate) tid: TransactionId,
    pub(crate) use_candidate: bool,
    pub(crate) priority: u32,
    pub(crate) controlling: Option<u64>,
    pub(crate) controlled: Option<u64>,
}

/// Parses a datagram as STUN and checks FINGERPRINT when present.
pub(crate) fn parse(contents: &[u8]) -> Result<Message<'_>, IceError> {
    let msg = Message::parse(contents)?;
    if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
        return Err(IceError::FingerprintMismatch);
    }
    Ok(msg)
}

/// Authenticates a Binding request (RFC 8489 §9.1.3, RFC 8445 §7.3). On failure, returns
/// the error and the error response to send, if any.
pub(crate) fn authenticate_request(
    msg: &Message<'_>,
    local: &Credentials,
    remote: Option<&Credentials>,
) -> Result<ValidRequest, (IceError, Option<Vec<u8>>)> {
    let tid = msg.transaction_id();
    let (Some(username), true) = (msg.username(), msg.has_integrity()) else {
        return Err((
            IceError::BadRequest,
            Some(error_response(tid, ErrorCode::BAD_REQUEST, None, &[])),
        ));
    };
    let unauth = || {
        (
            IceError::Unauthenticated,
            Some(error_response(tid, ErrorCode::UNAUTHENTICATED, None, &[])),
        )
    };
    let (ours, theirs) = username.split_once(':').ok_or_else(unauth)?;
    if ours != local.ufrag || remote.is_some_and(|r| r.ufrag != theirs) {
        return Err(unauth());
    }
    if msg.verify_integrity(local.pwd.as_bytes()).is_err() {
        return Err(unauth());
    }
    let key = Some(local.pwd.as_bytes());
    let unknown: Vec<AttributeType> = msg.unknown_comprehension_required().take(16).collect();
    if !unknown.is_empty() {
        return Err((
            IceError::UnknownAttributes,
            Some(error_response(
                tid,
                ErrorCode::UNKNOWN_ATTRIBUTE,
                key,
                &unknown,
            )),
        ));
    }
    let Some(priority) = msg.priority() else {
        return Err((
            IceError::BadRequest,
            Some(error_response(tid, ErrorCode::BAD_REQUEST, key, &[])),
        ));
    };
    Ok(ValidRequest {
        tid,
        use_candidate: msg.use_candidate(),
        priority,
        controlling: msg.ice_controlling(),
        controlled: msg.ice_controlled(),
    })
}

/// A Binding success response: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT.
pub(crate) fn success_response(tid: TransactionId, mapped: SocketAddr, pwd: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_SUCCESS, tid);
    // Invariant: a Vec target only fails on messages over 64 KiB; this one is 64 bytes.
    b.add(&Attribute::XorMappedAddress(mapped)).expect("fits");
    b.add_message_integrity(pwd.as_bytes()).expect("fits");
    b.add_fingerprint().expect("fits");
    v
}

/// A Binding error response, integrity-protected when `key` is given.
pub(crate) fn error_response(
    tid: TransactionId,
    code: ErrorCode<'_>,
    key: Option<&[u8]>,
    unknown: &[AttributeType],
) -> Vec<u8> {
    let mut v = Vec::with_capacity(96);
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_ERROR, tid);
    // Invariant: a Vec target only fails on messages over 64 KiB; this one is < 200 bytes
    // (at most 16 unknown attributes) and the codes used are valid.
    b.add(&Attribute::ErrorCode(code)).expect("valid code");
    if !unknown.is_empty() {
        b.add_unknown_attributes(unknown.iter().copied())
            .expect("fits");
    }
    if let Some(k) = key {
        b.add_message_integrity(k).expect("fits");
    }
    b.add_fingerprint().expect("fits");
    v
}

/// Queues a datagram unless the queue is full (the driver is not draining).
pub(crate) fn queue(q: &mut alloc::collections::VecDeque<Transmit>, t: Transmit) {
    if q.len() < MAX_QUEUED {
        q.push_back(t);
    }
}

/// Queues an event unless the queue is full (the driver is not draining).
pub(crate) fn queue_event(q: &mut alloc::collections::VecDeque<IceEvent>, e: IceEvent) {
    if q.len() < MAX_QUEUED {
        q.push_back(e);
    }
}
