//! SIP transactions (RFC 3261 §17): the four state machines and their matching keys.
//!
//! - [`timer`]: Timers A–M as an enum-indexed table; T1/T2/T4 in [`TimerConfig`].
//! - [`client`]: INVITE and non-INVITE client transactions (§17.1, RFC 6026).
//! - [`server`]: INVITE and non-INVITE server transactions (§17.2, RFC 6026).
//! - [`TxKey`]: server-side matching by branch, sent-by and method (§17.2.3), with the
//!   RFC 2543 fallback for branches without the `z9hG4bK` magic cookie; client-side
//!   matching by branch and CSeq method (§17.1.3).
//!
//! The machines take status codes and bytes and return actions; they never parse. The user
//! agent ([`crate::sip::ua`]) owns the transaction table, matches messages to machines with
//! [`TxKey`], builds the ACK for non-2xx responses and bounds the table size.

pub mod client;
pub mod server;
pub mod timer;

use alloc::string::{String, ToString};
use core::fmt;

pub use client::{ClientState, ClientTimerAction, ClientTransaction, ResponseAction};
pub use server::{ServerState, ServerTimerAction, ServerTransaction};
pub use timer::{Timer, TimerConfig, TimerTable};

use crate::sip::ua::msg::{Method, SipMsg, StartLine};

/// The RFC 3261 branch magic cookie (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// Why a request cannot be matched to a server transaction (it gets a stateless 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// No Via (or a top Via that does not parse), no Call-ID, no CSeq or no From tag where
    /// the RFC 2543 fallback needs it.
    MissingHeader,
    /// The branch is the bare magic cookie or otherwise unusable (RFC 4475 `badbranch`).
    BadBranch,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::MissingHeader => "request lacks the headers needed to match it",
            KeyError::BadBranch => "unusable Via branch",
        })
    }
}

impl core::error::Error for KeyError {}

/// The key of a transaction in the table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxKey {
    /// RFC 3261 matching (§17.2.3): branch, sent-by of the top Via, method (ACK is folded
    /// into INVITE so that it finds the INVITE server transaction).
    Branch {
        /// FNV-1a of the branch: compared first, so that table lookups rarely compare
        /// the strings (which all share the magic cookie prefix).
        hash: u64,
        /// The branch parameter (starts with the magic cookie).
        branch: String,
        /// The sent-by (`host[:port]`) of the top Via; empty for client keys.
        sent_by: String,
        /// The method (INVITE for ACK).
        method: Method,
    },
    /// RFC 2543 fallback (§17.2.3): Request-URI, From tag, Call-ID, CSeq number, top Via
    /// and method (INVITE for ACK).
    Legacy {
        /// Request-URI, From tag, Call-ID, CSeq number and top Via, joined.
        fingerprint: String,
        /// The method (INVITE for ACK).
        method: Method,
    },
}

impl TxKey {
    /// The server transaction key of a request. The top Via is read by the message
    /// layer's [`crate::sip::Via`] parser (the validator's); the sent-by of the key is its
    /// host, lower-cased, and port.
    pub fn server(req: &SipMsg) -> Result<TxKey, KeyError> {
        let via = req.top_via().ok_or(KeyError::MissingHeader)?;
        let method = match &req.start {
            StartLine::Request {
                method: Method::Ack,
                ..
            } => Method::Invite,
            StartLine::Request { method, .. } => method.clone(),
            StartLine::Response { .. } => return Err(KeyError::MissingHeader),
        };
        // The message layer's Via reader (the validator's): the UA keys only requests it
        // validated, whose every Via parses.
        let parsed = crate::sip::header::Via::parse(via).ok_or(KeyError::MissingHeader)?;
        match parsed.branch() {
            Some(b) if b.starts_with(MAGIC_COOKIE) => {
                if b.len() == MAGIC_COOKIE.len() {
                    return Err(KeyError::BadBranch);
                }
                let mut sent_by = parsed.host_str.to_ascii_lowercase();
                if let Some(p) = parsed.port {
                    sent_by.push(':');
                    crate::sip::text::push_u64(&mut sent_by, u64::from(p));
                }
                Ok(TxKey::Branch {
                    hash: fnv1a(b),
                    branch: b.to_string(),
                    sent_by,
                    method,
                })
            }
            _ => {
                let uri = req.uri().ok_or(KeyError::MissingHeader)?;
                let call_id = req.call_id().ok_or(KeyError::MissingHeader)?;
                let cseq = req.cseq_num().ok_or(KeyError::MissingHeader)?;
                let from_tag = req.from_tag().unwrap_or("");
                let mut fingerprint = String::new();
                for part in &[uri, from_tag, call_id, via] {
                    fingerprint.push_str(part);
                    fingerprint.push('\n');
                }
                crate::sip::text::push_u64(&mut fingerprint, u64::from(cseq));
                Ok(TxKey::Legacy {
                    fingerprint,
                    method,
                })
            }
        }
    }

    /// The client transaction key of a response (§17.1.3): top Via branch and CSeq method.
    pub fn client(resp: &SipMsg) -> Option<TxKey> {
        let (_, method) = resp.cseq()?;
        Some(TxKey::for_request(resp.branch()?, method))
    }

    /// The client key of a request we send with `branch`.
    pub fn for_request(branch: &str, method: Method) -> TxKey {
        TxKey::Branch {
            hash: fnv1a(branch),
            branch: branch.to_string(),
            sent_by: String::new(),
            method,
        }
    }

    /// The same key with another method (a CANCEL's key → its INVITE's key).
    pub fn with_method(&self, m: Method) -> TxKey {
        // (Field by field: the old method is neither cloned nor dropped.)
        match self {
            TxKey::Branch {
                hash,
                branch,
                sent_by,
                ..
            } => TxKey::Branch {
                hash: *hash,
                branch: branch.clone(),
                sent_by: sent_by.clone(),
                method: m,
            },
            TxKey::Legacy { fingerprint, .. } => TxKey::Legacy {
                fingerprint: fingerprint.clone(),
                method: m,
            },
        }
    }
}

/// 64-bit FNV-1a of `s`.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The sent-by part of a Via value (`SIP/2.0/UDP host:port;params` → `host:port`).
pub fn via_sent_by(via: &str) -> &str {
    // The second word (ASCII whitespace between words), up to its first `;`: one byte
    // loop (a word holds no whitespace, so nothing is left to trim).
    let b = via.as_bytes();
    let mut i = 0;
    for word in 0..2 {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(|c| !c.is_ascii_whitespace()) {
            i += 1;
        }
        if word == 1 {
            return crate::sip::scan::split_byte(via.get(start..i).unwrap_or(""), b';').0;
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(via: &str, method: &str) -> SipMsg {
        let raw = alloc::format!(
            "{method} sip:b@h SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\n\
             Call-ID: c1\r\nCSeq: 1 {method}\r\n\r\n"
        );
        SipMsg::parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn ack_matches_invite_and_cancel_does_not() {
        let via = "SIP/2.0/UDP h:5060;branch=z9hG4bKabc";
        let inv = TxKey::server(&req(via, "INVITE")).unwrap();
        assert_eq!(TxKey::server(&req(via, "ACK")).unwrap(), inv);
        let cancel = TxKey::server(&req(via, "CANCEL")).unwrap();
        assert_ne!(cancel, inv);
        assert_eq!(cancel.with_method(Method::Invite), inv);
        // Same branch, other sent-by: another transaction.
        let other = TxKey::server(&req("SIP/2.0/UDP x:5060;branch=z9hG4bKabc", "INVITE")).unwrap();
        assert_ne!(other, inv);
    }

    #[test]
    fn server_key_sent_by_is_host_and_port_of_the_parsed_via() {
        let key = |via: &str| TxKey::server(&req(via, "OPTIONS"));
        let k = key("SIP/2.0/UDP h.example:5060;branch=z9hG4bKk").unwrap();
        let TxKey::Branch { sent_by, .. } = &k else {
            panic!("{k:?}")
        };
        assert_eq!(sent_by, "h.example:5060");
        // Case of the host does not matter; the port does, and so does its absence.
        assert_eq!(
            key("SIP/2.0/UDP H.Example:5060;branch=z9hG4bKk"),
            Ok(k.clone())
        );
        assert_ne!(
            key("SIP/2.0/UDP h.example:5070;branch=z9hG4bKk"),
            Ok(k.clone())
        );
        assert_ne!(key("SIP/2.0/UDP h.example;branch=z9hG4bKk"), Ok(k));
        let v6 = key("SIP/2.0/TCP [2001:DB8::1]:5061;branch=z9hG4bKk").unwrap();
        assert!(matches!(&v6, TxKey::Branch { sent_by, .. } if sent_by == "[2001:db8::1]:5061"));
        // A top Via the message layer cannot read gives no key.
        assert_eq!(key("bogus;branch=z9hG4bKk"), Err(KeyError::MissingHeader));
    }

    #[test]
    fn sent_by_is_the_second_word_up_to_its_parameters() {
        for via in [
            "SIP/2.0/UDP h:5060;branch=z9hG4bK1",
            "SIP/2.0/UDP  [::1]:5060 ;branch=z9hG4bK1",
            "\tSIP/2.0/TCP\r\n h;rport",
            "SIP/2.0/UDP h",
            "SIP/2.0/UDP",
            "",
            "SIP/2.0/UDP ;x h",
            "SIP/2.0/WSS é.example;branch=1",
        ] {
            let naive = via.split_ascii_whitespace().nth(1).unwrap_or("");
            let naive = naive.split(';').next().unwrap_or("").trim_ascii();
            assert_eq!(via_sent_by(via), naive, "{via:?}");
        }
    }

    #[test]
    fn bare_cookie_is_bad_branch_and_2543_falls_back() {
        assert_eq!(
            TxKey::server(&req("SIP/2.0/UDP h;branch=z9hG4bK", "INVITE")),
            Err(KeyError::BadBranch)
        );
        let a = TxKey::server(&req("SIP/2.0/UDP h;branch=1234", "INVITE")).unwrap();
        assert!(matches!(a, TxKey::Legacy { .. }));
        assert_eq!(
            TxKey::server(&req("SIP/2.0/UDP h;branch=1234", "ACK")).unwrap(),
            a
        );
    }
}
