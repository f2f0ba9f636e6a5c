//! The SIP user agent (RFC 3261 §8, §12–§15, §17 and extensions) as a sans-IO machine.
//!
//! One [`UserAgent`] owns the transaction table, the dialogs, the calls and the
//! registration of one SIP identity. It speaks in the domain's words:
//!
//! - **commands**: [`UserAgent::register`], [`UserAgent::unregister`], [`UserAgent::call`],
//!   [`UserAgent::answer`], [`UserAgent::reject`], [`UserAgent::hangup`],
//!   [`UserAgent::hold`] / [`UserAgent::unhold`] (re-INVITE), [`UserAgent::update`]
//!   (RFC 3311), [`UserAgent::send_dtmf`] (INFO, RFC 6086), [`UserAgent::send_message`]
//!   (RFC 3428), [`UserAgent::transfer`] (REFER, RFC 3515);
//! - **input**: [`UserAgent::handle_receive`] with a [`Received`] message (one datagram, or
//!   one message framed from a stream, or a keep-alive CRLF) and
//!   [`UserAgent::handle_timeout`];
//! - **output**: [`UserAgent::poll_transmit`] ([`Transmit`]), [`UserAgent::poll_event`]
//!   ([`Event`]), [`UserAgent::poll_timeout`].
//!
//! SDP bodies are opaque bytes. Randomness (branches, tags, Call-IDs, the first CSeq,
//! cnonces, glare and refresh jitter) comes from the [`Rng`] given at construction.
//!
//! Received bytes are parsed by the shared message layer ([`crate::sip::parse_datagram`]),
//! requests checked by [`crate::sip::validate::validate`] (a bad request gets the response
//! RFC 3261 §8.2 / RFC 4475 ask for: 400, 416, 420, 501, 505…), then converted to the owned
//! [`SipMsg`] the state machines keep. Requests that cannot be matched to a transaction (an
//! unusable branch, RFC 4475 `badbranch`) get a stateless 400, unknown dialogs 481, CSeq
//! going backwards 500, and past [`UaConfig::max_transactions`] new requests get 503 with
//! Retry-After instead of new state. Nothing on peer input panics or grows without bound.
//!
//! What is implemented (all driven by the tests in `core/tests/ua_*.rs`):
//!
//! | area | RFC |
//! |---|---|
//! | transactions, timers A–M, RFC 2543 matching fallback, CANCEL matching | 3261 §17, 6026 |
//! | dialogs, route sets, target refresh, CSeq rules, forking (one early dialog per fork) | 3261 §12, §13 |
//! | INVITE/ACK/CANCEL/BYE, 2xx retransmission until ACK, BYE after 64·T1 | 3261 §13–§15 |
//! | re-INVITE and UPDATE offers (hold/unhold), glare 491 + randomized retry | 3261 §14, 3311 |
//! | REGISTER with refresh at 50–90 %, un-REGISTER, digest 401/407 (nc, stale) | 3261 §10, §22 |
//! | digest 401/407 on in-dialog re-INVITE, UPDATE, session refresh and BYE: resent once per challenge with the dialog's next CSeq | 3261 §12.2.1.1, §22.2 |
//! | digest 401/407 on the initial INVITE (also after a REGISTER used the realm, one nonce-count per nonce across `Authorization`/`Proxy-Authorization`): ACK, resend with CSeq + 1, up to 3 rounds (`stale=true`, a proxy chain's realms), a refusal ends the call | 3261 §8.1.3.5, §22.2–§22.3, 7616 §3.4 |
//! | Outbound `+sip.instance`/`reg-id`, CRLF keep-alive ping/pong | 5626 |
//! | PRACK / 100rel (RSeq/RAck, 1xx retransmission, 5xx after 64·T1) | 3262 |
//! | session timers (refresher, UPDATE refresh or re-INVITE when the peer lacks UPDATE, BYE on expiry, 422/Min-SE) | 4028 |
//! | OPTIONS, INFO DTMF (`application/dtmf-relay`), MESSAGE | 3261 §11, 6086, 3428 |
//! | REFER blind/attended with Replaces, NOTIFY `message/sipfrag` | 3515, 3891 |
//! | registrar and digest challenges on the server side (sip-auth's `DigestServer`): 401, or 407 for INVITE with [`UaConfig::proxy_auth`] | 3261 §10.3, §22 |
//!
//! Calls are indexed by SIP Call-ID and by next timer (`table.rs`): routing an in-dialog
//! request and finding due call timers cost O(log n) in the number of calls.
//!
//! ```
//! use rvoip_core::rand::SplitMix64;
//! use rvoip_core::sip::ua::{Event, Received, UaConfig, UserAgent};
//! use rvoip_core::time::Instant;
//!
//! let alice_addr = "10.0.0.1:5060".parse().unwrap();
//! let bob_addr = "10.0.0.2:5060".parse().unwrap();
//! let mut alice = UserAgent::new(UaConfig::new("sip:alice@example.com", alice_addr), SplitMix64::new(1));
//! let mut bob = UserAgent::new(UaConfig::new("sip:bob@example.com", bob_addr), SplitMix64::new(2));
//! let now = Instant::ZERO;
//! let call = alice.call(now, "sip:bob@10.0.0.2:5060", b"v=0\r\n").unwrap();
//! // The driver moves bytes: alice → bob.
//! let invite = alice.poll_transmit().unwrap();
//! assert_eq!(invite.destination, bob_addr);
//! bob.handle_receive(now, Received { transport: invite.transport, source: alice_addr, bytes: &invite.bytes });
//! let Some(Event::IncomingCall { call: incoming, .. }) = bob.poll_event() else { panic!() };
//! bob.answer(now, incoming, b"v=0\r\n").unwrap();
//! // 100 Trying, 180 Ringing, 200 OK back to alice.
//! while let Some(t) = bob.poll_transmit() {
//!     alice.handle_receive(now, Received { transport: t.transport, source: bob_addr, bytes: &t.bytes });
//! }
//! assert_eq!(alice.poll_event(), Some(Event::Ringing { call }));
//! assert!(matches!(alice.poll_event(), Some(Event::Answered { .. })));
//! let ack = alice.poll_transmit().unwrap();
//! assert!(ack.bytes.starts_with(b"ACK "));
//! ```

mod build;
mod call;
mod extensions;
mod layer;
mod map;
pub mod msg;
mod offer;
mod register;
mod requests;
mod table;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::SocketAddr;

use crate::rand::Rng;
use crate::sip::auth::DigestClient;
#[cfg(feature = "sip-server")]
use crate::sip::auth::{DigestServer, Ha1Store, ServerConfig};
use crate::sip::transaction::{TimerConfig, TxKey};
use crate::time::{Duration, Instant};

pub use build::{reason, resolve, response};
pub use call::UaError;
pub use msg::{Method, SipMsg};

use layer::{ClientEntry, ServerEntry};
use map::Map;
#[cfg(feature = "btree-tables")]
use map::Set;
use register::Registration;

/// The earliest of some optional deadlines (one loop for every timer question).
pub(crate) fn earliest(ts: &[Option<Instant>]) -> Option<Instant> {
    let mut min: Option<Instant> = None;
    for &t in ts {
        if let Some(t) = t
            && min.is_none_or(|m| t < m)
        {
            min = Some(t);
        }
    }
    min
}

/// What the UA accepts (methods, extensions, body types) for request validation.
const VALIDATE: crate::sip::validate::ValidateConfig<'static> =
    crate::sip::validate::ValidateConfig {
        allowed_methods: crate::sip::validate::DEFAULT_METHODS,
        supported_extensions: &["100rel", "timer", "replaces", "outbound", "path"],
        accepted_content_types: &[
            "application/sdp",
            "application/dtmf-relay",
            "message/sipfrag",
            "text/plain",
        ],
        uri_schemes: &["sip", "sips", "tel"],
        forwarding: false,
        rfc2543_compat: true,
    };

/// The transport a message travels over (RFC 3261 §18, RFC 7118 for WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, the transaction layer retransmits.
    Udp,
    /// TCP (reliable).
    Tcp,
    /// TLS over TCP (reliable).
    Tls,
    /// WebSocket (RFC 7118, reliable).
    Ws,
    /// Secure WebSocket (RFC 7118, reliable).
    Wss,
}

impl Transport {
    /// Whether the transport is reliable (no retransmission timers, Timers D/I/J/K = 0).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// The Via transport token.
    pub fn via_token(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }
}

/// A message received by the driver.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The transport it came over.
    pub transport: Transport,
    /// The peer address it came from (responses to requests go back there, RFC 3581).
    pub source: SocketAddr,
    /// One whole SIP message, or a keep-alive (`\r\n\r\n` ping / `\r\n` pong, RFC 5626).
    pub bytes: &'a [u8],
}

/// A message the driver must send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The transport to use.
    pub transport: Transport,
    /// The destination address.
    pub destination: SocketAddr,
    /// The serialized message.
    pub bytes: Vec<u8>,
}

/// The application's handle of a call (one INVITE dialog).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// We hung up (BYE sent, or CANCEL of our unanswered call).
    LocalHangup,
    /// The peer sent BYE.
    RemoteHangup,
    /// The call was rejected with this final status (by the peer, or by us via `reject`).
    Rejected(u16),
    /// The caller cancelled before the call was answered (we were called).
    Cancelled,
    /// No answer in time: Timer B, no ACK for our 2xx (64·T1), no answer to a ring, or a
    /// 408/481 to a mid-call offer.
    Timeout,
    /// The call was replaced by another (attended transfer, RFC 3891).
    Replaced,
    /// The RFC 4028 session timer ended the call, and we sent BYE (§10): the session
    /// expired without a refresh from the peer (we were not the refresher), or our own
    /// refresh failed (we were).
    SessionExpired,
}

/// Registration state changes (RFC 3261 §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
// As `Event`: a tag byte, then the fields (2 B less gzipped in the package).
#[repr(C, u8)]
pub enum RegistrationState {
    /// Registered; the registrar granted `expires` seconds.
    Registered {
        /// Granted lifetime in seconds.
        expires: u32,
    },
    /// The binding was removed (Expires: 0 accepted).
    Unregistered,
    /// The registrar refused (wrong password → 401/403, …) or did not answer (408).
    Failed {
        /// The final status code.
        code: u16,
    },
}

/// What the UA reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A tag byte and each variant's fields in order: `call` first at one offset in every
// variant that has one, so a driver's match reading it (rvoip-wasm's `encode_event`)
// compiles to one load instead of one per variant (21 B less gzipped in the package).
#[repr(C, u8)]
pub enum Event {
    /// A new incoming call; answer with [`UserAgent::answer`] or [`UserAgent::reject`].
    IncomingCall {
        /// The call.
        call: CallId,
        /// The caller (From header value).
        from: String,
        /// The SDP offer, if the INVITE had one.
        sdp: Option<Vec<u8>>,
    },
    /// The callee is ringing (180).
    Ringing {
        /// The call.
        call: CallId,
    },
    /// A provisional response carried SDP (early media, 183).
    EarlyMedia {
        /// The call.
        call: CallId,
        /// The SDP answer.
        sdp: Vec<u8>,
    },
    /// The call is established (our INVITE got 2xx, or our 2xx got its ACK).
    Answered {
        /// The call.
        call: CallId,
        /// The peer's SDP in that message, if any.
        sdp: Option<Vec<u8>>,
    },
    /// The call is over.
    Ended {
        /// The call.
        call: CallId,
        /// Why.
        reason: EndReason,
    },
    /// The peer sent a new offer in the dialog (re-INVITE or UPDATE); answer it with
    /// [`UserAgent::answer`] (or [`UserAgent::reject`] with e.g. 488).
    OfferReceived {
        /// The call.
        call: CallId,
        /// The offer (None for a re-INVITE without SDP: answer with an offer).
        sdp: Option<Vec<u8>>,
    },
    /// Our re-INVITE/UPDATE was answered (2xx) with this SDP.
    MediaUpdated {
        /// The call.
        call: CallId,
        /// The answer.
        sdp: Option<Vec<u8>>,
    },
    /// Our re-INVITE/UPDATE was refused with this status (the session is unchanged).
    OfferRejected {
        /// The call.
        call: CallId,
        /// The final status code.
        code: u16,
    },
    /// The registration state changed.
    Registration(RegistrationState),
    /// RFC 5626: a CRLF ping got no pong within 10 s; the flow is considered failed and the
    /// UA registers again.
    KeepaliveTimeout,
    /// A MESSAGE (RFC 3428) arrived.
    IncomingMessage {
        /// The sender (From header value).
        from: String,
        /// Its Content-Type.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
    /// The final status of a MESSAGE we sent.
    MessageStatus {
        /// Handle returned by [`UserAgent::send_message`].
        id: u64,
        /// The final status code (408 on timeout).
        code: u16,
    },
    /// A DTMF digit arrived by INFO (`application/dtmf-relay`, RFC 6086).
    DtmfReceived {
        /// The call.
        call: CallId,
        /// The digit (`0-9*#A-D`).
        digit: char,
        /// Duration in ms.
        duration: u32,
    },
    /// The peer asked us to transfer the call (REFER, RFC 3515); accept with
    /// [`UserAgent::accept_transfer`].
    TransferRequested {
        /// The call that received the REFER.
        call: CallId,
        /// The Refer-To URI (may carry `?Replaces=` for attended transfer).
        target: String,
    },
    /// Progress of a transfer we requested (the NOTIFY sipfrag status line).
    TransferProgress {
        /// The call that sent the REFER.
        call: CallId,
        /// The status code in the sipfrag (100, 180, 200, 4xx…).
        code: u16,
    },
}

/// Configuration of a [`UserAgent`].
#[derive(Debug, Clone)]
pub struct UaConfig {
    /// Our address-of-record, e.g. `sip:alice@example.com` (From of our requests, To of
    /// REGISTER).
    pub aor: String,
    /// Display name in From.
    pub display_name: Option<String>,
    /// Digest user name (empty: the user part of the AOR).
    pub auth_user: String,
    /// Digest password (empty: no credentials).
    pub password: String,
    /// The address we are reachable at (Via sent-by and Contact).
    pub local_addr: SocketAddr,
    /// The host (and optional port) written in Via and Contact instead of `local_addr`,
    /// e.g. a random `xxxx.invalid` for a WebSocket client (RFC 7118 §5.2) or a public
    /// address behind NAT.
    pub advertised_host: Option<String>,
    /// The transport we use.
    pub transport: Transport,
    /// Outbound proxy / registrar address: every request goes there (RFC 5626's flow).
    /// Without one, a request goes to its next hop's IP-literal address (feature
    /// `ip-routing`; without that feature, sending fails with [`UaError::NoRoute`]).
    pub proxy: Option<SocketAddr>,
    /// The registrar's domain URI (Request-URI of REGISTER); default: the AOR's domain.
    pub registrar_uri: Option<String>,
    /// T1, T2, T4.
    pub timers: TimerConfig,
    /// The most transactions kept at once; past it new requests get 503 + Retry-After.
    pub max_transactions: usize,
    /// The most calls kept at once; past it new INVITEs get 486.
    pub max_calls: usize,
    /// Requested registration lifetime in seconds.
    pub register_expires: u32,
    /// RFC 5626 `+sip.instance` (a `urn:uuid:…`) for the Contact, if any.
    pub instance_id: Option<String>,
    /// RFC 5626 `reg-id` for the Contact (used with `instance_id`).
    pub reg_id: Option<u32>,
    /// RFC 5626 CRLF keep-alive interval for stream transports (jittered to 80–100 %);
    /// `None` disables it.
    pub keepalive: Option<Duration>,
    /// RFC 4028 session interval we ask for in seconds (`None`: no session timer).
    pub session_expires: Option<u32>,
    /// How long a call may ring unanswered (outgoing: then CANCEL; incoming: then 480);
    /// default 180 s (Timer C's order of magnitude).
    pub no_answer_timeout: Duration,
    /// RFC 4028 Min-SE: smaller Session-Expires in incoming INVITEs get 422 (default 90).
    pub min_se: u32,
    /// RFC 3262: send the 180 reliably (Require: 100rel, RSeq, PRACK) when the caller
    /// supports 100rel (it is always sent reliably when the caller requires it).
    pub use_100rel: bool,
    /// Act as a minimal registrar: accept REGISTER and keep bindings (for tests and the
    /// gateway); challenge with digest when `users` is not empty (feature `sip-server`).
    #[cfg(feature = "sip-server")]
    pub registrar: bool,
    /// Challenge incoming INVITEs with digest (401) against `users` (feature `sip-server`).
    #[cfg(feature = "sip-server")]
    pub challenge_invites: bool,
    /// Server side, proxy mode (RFC 3261 §22.3): challenge INVITEs with 407 and
    /// `Proxy-Authenticate`, and read their credentials from `Proxy-Authorization`,
    /// instead of 401 / `WWW-Authenticate` / `Authorization` (a gateway or proxy in front
    /// of the callee). REGISTER is always challenged with 401 (§10.3). Default: false
    /// (feature `sip-server`).
    #[cfg(feature = "sip-server")]
    pub proxy_auth: bool,
    /// Server side: (user, password) pairs accepted in the AOR's domain as realm. Not
    /// empty → REGISTER (registrar mode) and, with `challenge_invites`, INVITE are
    /// challenged with digest (sip-auth's `DigestServer`) (feature `sip-server`).
    #[cfg(feature = "sip-server")]
    pub users: Vec<(String, String)>,
    /// The User-Agent header value.
    pub user_agent: String,
    /// The Allow header value (RFC 3261 §20.5) written in our INVITEs, re-INVITEs and
    /// UPDATEs with an offer, 2xx answers, OPTIONS responses and 405/501 responses.
    /// `None` (the default): every method this UA handles, including MESSAGE, REFER and
    /// NOTIFY ([`UaConfig::DEFAULT_ALLOW`]). A user of the UA that refuses some of them
    /// itself (a B2BUA that does not relay transfers) names only what it takes, so a peer
    /// does not try a method that then gets 405.
    pub allow: Option<String>,
}

impl UaConfig {
    /// A configuration with RFC defaults for `aor` reachable at `local_addr` over UDP.
    // Inlined: a caller that then sets fields (the browser phone sets most) drops no
    // defaults it can see are empty, and allocates no default User-Agent it replaces.
    #[inline(always)]
    pub fn new(aor: impl Into<String>, local_addr: SocketAddr) -> UaConfig {
        UaConfig {
            aor: aor.into(),
            display_name: None,
            auth_user: String::new(),
            password: String::new(),
            local_addr,
            transport: Transport::Udp,
            advertised_host: None,
            proxy: None,
            registrar_uri: None,
            timers: TimerConfig::default(),
            max_transactions: 4096,
            max_calls: 256,
            register_expires: 3600,
            instance_id: None,
            reg_id: None,
            keepalive: None,
            session_expires: None,
            min_se: 90,
            no_answer_timeout: Duration::from_secs(180),
            use_100rel: false,
            #[cfg(feature = "sip-server")]
            registrar: false,
            #[cfg(feature = "sip-server")]
            challenge_invites: false,
            #[cfg(feature = "sip-server")]
            proxy_auth: false,
            #[cfg(feature = "sip-server")]
            users: Vec::new(),
            user_agent: String::from("rvoip"),
            allow: None,
        }
    }

    /// The Allow value used when [`UaConfig::allow`] is `None`: every method the UA
    /// handles.
    pub const DEFAULT_ALLOW: &'static str = build::ALLOW;

    /// The Allow header value we write: [`UaConfig::allow`] or [`UaConfig::DEFAULT_ALLOW`].
    pub fn allow(&self) -> &str {
        self.allow.as_deref().unwrap_or(Self::DEFAULT_ALLOW)
    }

    /// The user part of the address-of-record: between its first `:` and the next `@`
    /// (`""` without them), e.g. `alice` for `sip:alice@example.com`; the digest user name
    /// when [`UaConfig::auth_user`] is empty.
    pub fn aor_user(&self) -> &str {
        use crate::sip::scan::split_byte;
        match split_byte(split_byte(&self.aor, b':').1.unwrap_or(""), b'@') {
            (user, Some(_)) => user,
            _ => "",
        }
    }

    /// The domain of the address-of-record: what follows its last `@` (`""` without one),
    /// e.g. `example.com` for `sip:alice@example.com`. The default registrar is
    /// `sip:` + this, and a dialed number without a host is sent to it.
    pub fn aor_domain(&self) -> &str {
        let a = self.aor.as_bytes();
        // A byte scan (`rsplit_once` would bring std's reverse char search into the package).
        let mut i = a.len();
        while i > 0 {
            i -= 1;
            if a[i] == b'@' {
                return self.aor.get(i + 1..).unwrap_or_default();
            }
        }
        ""
    }
}

/// A SIP user agent: UAC and UAS for calls, registration client, MESSAGE/INFO/REFER.
pub struct UserAgent<R: Rng> {
    cfg: UaConfig,
    rng: R,
    now: Instant,
    /// Boxed entries (~400 B each) keep the B-tree leaves small (11 entries inline).
    clients: Map<TxKey, Box<ClientEntry>>,
    /// Transaction deadlines: (when, is server, key), so the next one is found in O(log n).
    /// Without `btree-tables` (a browser UA's few transactions) the transactions' own
    /// deadlines are scanned instead.
    #[cfg(feature = "btree-tables")]
    tx_timers: Set<(Instant, bool, TxKey)>,
    servers: Map<TxKey, Box<ServerEntry>>,
    calls: table::CallTable,
    next_call: u64,
    next_message: u64,
    registration: Registration,
    #[cfg(feature = "sip-server")]
    bindings: Map<(String, String), Instant>,
    digest: DigestClient,
    #[cfg(feature = "sip-server")]
    digest_server: Option<DigestServer>,
    #[cfg(feature = "sip-server")]
    credential_store: Ha1Store,
    pongs: u64,
    hostport: String,
    keepalive_at: Option<Instant>,
    pong_deadline: Option<Instant>,
    transmits: map::Queue<Transmit>,
    events: map::Queue<Event>,
}

impl<R: Rng> core::fmt::Debug for UserAgent<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UserAgent")
            .field("aor", &self.cfg.aor)
            .field("transactions", &self.transaction_count())
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl<R: Rng> UserAgent<R> {
    /// A user agent with configuration `cfg` drawing randomness from `rng`.
    pub fn new(cfg: UaConfig, rng: R) -> Self {
        // Via and Contact name the advertised host, else the local address.
        let hostport = match &cfg.advertised_host {
            Some(h) => h.clone(),
            None => build::hostport(cfg.local_addr),
        };
        Self::with_hostport(cfg, rng, hostport)
    }

    /// [`UserAgent::new`] with `cfg.advertised_host` set to `host`: for drivers that always
    /// advertise a host (the browser phone's random `.invalid` one, RFC 7118 §5), whose
    /// build then has no code to write the local address as `host:port`.
    pub fn with_advertised_host(mut cfg: UaConfig, rng: R, host: String) -> Self {
        cfg.advertised_host = Some(host.clone());
        Self::with_hostport(cfg, rng, host)
    }

    /// The user agent naming itself `hostport` in Via and Contact.
    fn with_hostport(cfg: UaConfig, rng: R, hostport: String) -> Self {
        let user = if cfg.auth_user.is_empty() {
            String::from(cfg.aor_user())
        } else {
            cfg.auth_user.clone()
        };
        let digest = DigestClient::new(user, cfg.password.clone());
        #[cfg(feature = "sip-server")]
        let mut rng = rng;
        #[cfg(feature = "sip-server")]
        let (credential_store, digest_server) = {
            let mut store = Ha1Store::new();
            let realm = String::from(cfg.aor_domain());
            for (u, p) in &cfg.users {
                store.insert_password(&realm, u, p);
            }
            let server = (!cfg.users.is_empty())
                .then(|| DigestServer::new(ServerConfig::new(realm.clone()), &mut rng));
            (store, server)
        };
        UserAgent {
            cfg,
            rng,
            now: Instant::ZERO,
            clients: Map::new(),
            #[cfg(feature = "btree-tables")]
            tx_timers: Set::new(),
            servers: Map::new(),
            calls: table::CallTable::default(),
            next_call: 1,
            next_message: 1,
            registration: Registration::default(),
            #[cfg(feature = "sip-server")]
            bindings: Map::new(),
            digest,
            #[cfg(feature = "sip-server")]
            digest_server,
            #[cfg(feature = "sip-server")]
            credential_store,
            pongs: 0,
            hostport,
            keepalive_at: None,
            pong_deadline: None,
            transmits: map::Queue::new(),
            events: map::Queue::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &UaConfig {
        &self.cfg
    }

    /// How many transactions (client + server) are alive.
    pub fn transaction_count(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// How many calls are alive.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next instant at which [`UserAgent::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(&[
            self.next_transaction_timer(),
            self.calls.next_timer(),
            self.registration.refresh_at,
            self.keepalive_at,
            self.pong_deadline,
        ])
    }

    /// Processes every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.layer_timeouts(now);
        self.call_timeouts(now);
        self.register_timeouts(now);
        self.calls.reschedule();
    }

    /// Processes one received message (or keep-alive).
    pub fn handle_receive(&mut self, now: Instant, rx: Received<'_>) {
        self.receive(now, rx);
        self.calls.reschedule();
    }

    fn receive(&mut self, now: Instant, rx: Received<'_>) {
        self.now = now;
        let limits = crate::sip::Limits::default();
        match crate::sip::parse_datagram(rx.bytes, &limits) {
            Ok(crate::sip::Datagram::KeepAlive) => self.handle_keepalive(rx),
            Ok(crate::sip::Datagram::Message(m)) => {
                if let Some(req) = m.as_request() {
                    // RFC 3261 §8.2 / RFC 4475: the shared validator names the response a
                    // bad request deserves (400, 416, 420, 501, 505…).
                    if let Err(rejection) = crate::sip::validate::validate(req, &VALIDATE) {
                        self.reject_invalid(rx, &m, &rejection);
                        return;
                    }
                    self.receive_request(now, rx, SipMsg::from_message(&m));
                } else if let Some(resp) = m.as_response()
                    && crate::sip::validate::validate_response(resp).is_ok()
                {
                    self.receive_response(now, SipMsg::from_message(&m));
                }
            }
            Err(_) => self.reject_unparsable(rx),
        }
    }

    fn push_event(&mut self, e: Event) {
        self.events.push_back(e);
    }

    fn random_token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let mut s = String::with_capacity(len);
        let mut bits = 0u64;
        for i in 0..len {
            if i % 12 == 0 {
                bits = self.rng.next_u64();
            }
            // Invariant: masked to 0..32, within ALPHABET.
            s.push(char::from(ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        s
    }
}

#[cfg(test)]
mod send_tests {
    /// The gateway moves a UA into a tokio task: it must be `Send` when its Rng is.
    #[test]
    fn user_agent_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<super::UserAgent<crate::rand::SplitMix64>>();
    }
}

#[cfg(test)]
mod config_tests {
    use super::UaConfig;

    /// The AOR's user is between its first `:` and the next `@`.
    #[test]
    fn aor_user_is_between_the_scheme_and_the_at() {
        let addr = "127.0.0.1:5060".parse().unwrap();
        for (aor, user) in [
            ("sip:alice@example.com", "alice"),
            ("sip:alice:secret@example.com", "alice:secret"),
            ("sip:example.com", ""),
            ("alice@example.com", ""),
            ("sip:@example.com", ""),
            ("", ""),
        ] {
            assert_eq!(UaConfig::new(aor, addr).aor_user(), user, "{aor}");
        }
    }

    /// The AOR's domain is what follows its last `@`, as `rsplit_once('@')` finds it.
    #[test]
    fn aor_domain_is_after_the_last_at() {
        let addr = "127.0.0.1:5060".parse().unwrap();
        for (aor, domain) in [
            ("sip:alice@example.com", "example.com"),
            ("sips:bob@[2001:db8::1]:5061", "[2001:db8::1]:5061"),
            ("sip:a%40b@c@d.example", "d.example"),
            ("sip:example.com", ""),
            ("sip:alice@", ""),
            ("@x", "x"),
            ("", ""),
            ("sip:ü@dömain", "dömain"),
        ] {
            let cfg = UaConfig::new(aor, addr);
            assert_eq!(cfg.aor_domain(), domain, "{aor}");
            assert_eq!(domain, aor.rsplit_once('@').map_or("", |(_, d)| d), "{aor}");
        }
    }
}
