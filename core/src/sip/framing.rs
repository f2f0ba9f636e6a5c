//! Transport framing: messages from a byte stream (TCP, TLS; RFC 3261 §18.3) and from
//! datagrams (UDP; WebSocket messages, RFC 7118 §5), with RFC 5626 §4.4.1 CRLF
//! keep-alives.
//!
//! Input: bytes as read from the transport. Output: complete messages (stream: an owned
//! `Vec<u8>` per message, cut by Content-Length; datagram: a borrowed [`Message`]) and
//! keep-alive pings (`CRLFCRLF`) / pongs (`CRLF`) reported separately.
use alloc::vec::Vec;

use super::message::{Framing, Limits, Message, ParseError, index_message};
use super::name::HeaderName;
use super::scan::{find_byte, parse_u32, trim_lws};

/// One unit cut from a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The exact bytes of one message; parse with
    /// [`Message::parse_with`]`(…, Framing::Stream)` or [`Message::parse`].
    Message(Vec<u8>),
    /// A keep-alive ping `CRLFCRLF` (RFC 5626 §4.4.1): answer with a pong `CRLF`.
    Ping,
    /// A keep-alive pong `CRLF`.
    Pong,
}

/// Cuts messages out of a byte stream. Push bytes as they arrive, then call
/// [`StreamFramer::next_frame`] until it returns `Ok(None)`. After an error the stream is
/// unframeable and the connection should be closed; the framer keeps returning the error.
#[derive(Clone, Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    limits: Limits,
    failed: Option<ParseError>,
    /// The last frame was a `CRLF` pong cut at the end of the buffer: if the next bytes
    /// are `CRLF` too, the pair was a ping split across reads.
    half_ping: bool,
    /// Where the search for the empty line resumes (bytes before it hold none), so a
    /// head arriving byte by byte is scanned once, not once per byte.
    scan_from: usize,
    /// Start of the line being received (for the line-length limit).
    line_start: usize,
    /// `(start, end)` of a message whose head is indexed and whose body is still
    /// arriving (the head is not re-indexed on every read).
    pending: Option<(usize, usize)>,
}

impl Default for StreamFramer {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl StreamFramer {
    /// A framer enforcing `limits` (message size bounds the buffer).
    pub fn new(limits: Limits) -> Self {
        StreamFramer {
            buf: Vec::new(),
            limits,
            failed: None,
            half_ping: false,
            scan_from: 0,
            line_start: 0,
            pending: None,
        }
    }

    /// Bytes buffered and not yet returned.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends received bytes. Fails with [`ParseError::TooLarge`] if the bytes already
    /// buffered (not drained by [`Self::next_frame`]) exceed the message size limit.
    pub fn push(&mut self, data: &[u8]) -> Result<(), ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.buf.len() > self.limits.max_message_size {
            self.failed = Some(ParseError::TooLarge);
            return Err(ParseError::TooLarge);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    ///
    /// A lone `CRLF` at a message boundary is reported as [`Frame::Pong`] at once (a
    /// client waiting for a pong must not wait for more bytes). If a ping arrives split
    /// as `CRLF` + `CRLF` across reads, the framer reports `Pong` then `Ping`, so a server
    /// still answers every ping.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        match self.frame() {
            Ok(f) => Ok(f),
            Err(e) => {
                self.failed = Some(e);
                self.buf = Vec::new();
                Err(e)
            }
        }
    }

    fn frame(&mut self) -> Result<Option<Frame>, ParseError> {
        if let Some((start, total)) = self.pending {
            return Ok(self.emit(start, total));
        }
        // Stray LFs between messages are ignored (RFC 3261 §7.5 allows CRLFs).
        let lf = self.buf.iter().take_while(|&&b| b == b'\n').count();
        if lf > 0 {
            self.consume(lf);
        }
        let half_ping = core::mem::take(&mut self.half_ping);
        match self.buf.as_slice() {
            [] => {
                self.half_ping = half_ping;
                return Ok(None);
            }
            [b'\r', b'\n', ..] if half_ping => {
                self.consume(2);
                return Ok(Some(Frame::Ping));
            }
            [b'\r'] if half_ping => {
                self.half_ping = true;
                return Ok(None);
            }
            [b'\r', b'\n', b'\r', b'\n', ..] => {
                self.consume(4);
                return Ok(Some(Frame::Ping));
            }
            [b'\r', b'\n', b'\r'] | [b'\r'] => return Ok(None),
            [b'\r', b'\n', ..] => {
                self.consume(2);
                self.half_ping = self.buf.is_empty();
                return Ok(Some(Frame::Pong));
            }
            _ => {}
        }
        if !self.blank_line_seen()? {
            return Ok(None);
        }
        let Some((scan, entries)) = index_message(&self.buf, &self.limits)? else {
            return Ok(None);
        };
        let mut cl: Option<usize> = None;
        for e in entries
            .iter()
            .filter(|e| e.name == HeaderName::ContentLength)
        {
            let (a, b) = (scan.start + e.vs as usize, scan.start + e.ve as usize);
            let v = self
                .buf
                .get(a..b)
                .and_then(|v| core::str::from_utf8(v).ok());
            let n = v
                .and_then(|v| parse_u32(trim_lws(v)))
                .ok_or(ParseError::BadContentLength)? as usize;
            if cl.is_some_and(|c| c != n) {
                return Err(ParseError::ConflictingContentLength);
            }
            cl = Some(n);
        }
        let total = scan
            .body_start
            .checked_add(cl.unwrap_or(0))
            .ok_or(ParseError::TooLarge)?;
        if total - scan.start > self.limits.max_message_size {
            return Err(ParseError::TooLarge);
        }
        Ok(self.emit(scan.start, total))
    }

    /// The message `start..total` once all its bytes are buffered.
    fn emit(&mut self, start: usize, total: usize) -> Option<Frame> {
        if self.buf.len() < total {
            self.pending = Some((start, total));
            return None;
        }
        let msg = self.buf.get(start..total).unwrap_or(&[]).to_vec();
        self.consume(total);
        Some(Frame::Message(msg))
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
        self.scan_from = 0;
        self.line_start = 0;
        self.pending = None;
    }

    /// `true` once the buffer holds an empty line after the start line; enforces the
    /// size and line-length limits while waiting.
    fn blank_line_seen(&mut self) -> Result<bool, ParseError> {
        let mut i = self.scan_from;
        while let Some(nl) = find_byte(&self.buf, i, b'\n') {
            if nl.saturating_sub(self.line_start) > self.limits.max_line_len.saturating_add(1) {
                return Err(ParseError::LineTooLong);
            }
            self.line_start = nl + 1;
            match self.buf.get(nl + 1..) {
                Some([b'\n', ..] | [b'\r', b'\n', ..]) => {
                    self.scan_from = nl;
                    return Ok(true);
                }
                Some([] | [b'\r']) => {
                    self.scan_from = nl;
                    return Ok(false);
                }
                _ => i = nl + 1,
            }
        }
        self.scan_from = self.buf.len();
        if self.buf.len().saturating_sub(self.line_start) > self.limits.max_line_len {
            return Err(ParseError::LineTooLong);
        }
        if self.buf.len() > self.limits.max_message_size {
            return Err(ParseError::TooLarge);
        }
        Ok(false)
    }
}

/// A parsed datagram.
#[derive(Clone, Debug)]
pub enum Datagram<'a> {
    /// A SIP message.
    Message(Message<'a>),
    /// Only CR/LF bytes: a keep-alive (answer a `CRLFCRLF` ping with `CRLF` if desired).
    KeepAlive,
}

/// Parses one UDP datagram or WebSocket message: one datagram is one message; bytes
/// after Content-Length are ignored; without Content-Length the body is the rest of the
/// datagram (RFC 3261 §18.3).
pub fn parse_datagram<'a>(buf: &'a [u8], limits: &Limits) -> Result<Datagram<'a>, ParseError> {
    if !buf.is_empty() && super::scan::all_class(buf, super::scan::CRLF) {
        return Ok(Datagram::KeepAlive);
    }
    Message::parse_with(buf, limits, Framing::Datagram).map(Datagram::Message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPT: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 5\r\n\r\nhello";

    #[test]
    fn several_messages_and_keepalives_any_split() {
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(OPT);
        stream.extend_from_slice(OPT);
        stream.extend_from_slice(b"\r\n");
        stream.extend_from_slice(OPT);
        for chunk in 1..stream.len() {
            let mut f = StreamFramer::default();
            let mut got = Vec::new();
            for c in stream.chunks(chunk) {
                f.push(c).unwrap();
                while let Some(fr) = f.next_frame().unwrap() {
                    got.push(fr);
                }
            }
            let msgs = got
                .iter()
                .filter(|f| matches!(f, Frame::Message(m) if m == OPT))
                .count();
            assert_eq!(msgs, 3, "chunk {chunk}: {got:?}");
            assert_eq!(f.buffered(), 0);
            assert_eq!(
                got.iter().filter(|f| **f == Frame::Ping).count(),
                1,
                "chunk {chunk}"
            );
            if chunk >= 4 {
                assert_eq!(got.first(), Some(&Frame::Ping), "chunk {chunk}");
                assert_eq!(got.iter().filter(|f| **f == Frame::Pong).count(), 1);
            }
        }
    }

    #[test]
    fn framing_errors_are_sticky() {
        let mut f = StreamFramer::default();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n")
            .unwrap();
        assert_eq!(f.next_frame(), Err(ParseError::BadContentLength));
        assert_eq!(f.next_frame(), Err(ParseError::BadContentLength));
        assert!(f.push(b"x").is_err());

        let mut f = StreamFramer::new(Limits {
            max_message_size: 100,
            ..Limits::default()
        });
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1000\r\n\r\n")
            .unwrap();
        assert_eq!(f.next_frame(), Err(ParseError::TooLarge));

        let mut f = StreamFramer::new(Limits {
            max_line_len: 10,
            ..Limits::default()
        });
        f.push(b"OPTIONS sip:a@b SIP/2.0").unwrap();
        assert_eq!(f.next_frame(), Err(ParseError::LineTooLong));
    }

    #[test]
    fn datagram_rules() {
        assert!(matches!(
            parse_datagram(b"\r\n\r\n", &Limits::default()),
            Ok(Datagram::KeepAlive)
        ));
        let mut two = OPT.to_vec();
        two.extend_from_slice(b"garbage after content-length");
        let Ok(Datagram::Message(m)) = parse_datagram(&two, &Limits::default()) else {
            panic!()
        };
        assert_eq!(m.body(), b"hello");
        assert_eq!(m.raw(), OPT);
        let no_cl = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nrest of it";
        let Ok(Datagram::Message(m)) = parse_datagram(no_cl, &Limits::default()) else {
            panic!()
        };
        assert_eq!(m.body(), b"rest of it");
    }
}
