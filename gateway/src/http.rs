//! The HTTP side (axum 0.8):
//!
//! - `/ws`: SIP over WebSocket (RFC 7118). The `sip` subprotocol must be offered and is
//!   selected (others are refused with 400); text and binary frames each carry one SIP
//!   message; the connection is a flow (RFC 5626) for responses and for requests to users
//!   registered over it; Via transport `WS`, or `WSS` when the listener serves TLS
//!   (`http.tls_cert`, [`crate::tls::TlsListener`]). Per RFC 7118 §5.2 the SIP URI
//!   transport parameter is `ws` for both (there is no `transport=wss`); the core writes
//!   the Contact from the leg's transport. When the gateway ends a connection it sends a
//!   Close frame (RFC 6455 §7.4.1) and waits briefly for the peer's: 1001 (Going Away) on
//!   shutdown, after the BYEs of the calls on it; 1009 for a message over the size limit;
//!   1002 / 1007 for a protocol violation / a text frame that is not UTF-8 (a browser
//!   otherwise reports 1006, an abnormal close).
//! - `/metrics`: Prometheus text exposition.
//! - `/api/calls`, `/api/registrations`, `/api/trunks`, `/api/stats`, `/api/cdrs`
//!   (`?number=…&since=…&until=…&limit=…&format=csv`; dates as `YYYY-MM-DD` or ms since
//!   the epoch): JSON, behind HTTP Basic authentication with the console credentials.
//! - `/` serves `web-demo/`, `/console` serves `www/` (the console app logs in by itself,
//!   see [`crate::console`]), embedded at compile time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rvoip_core::sip::Limits;
use rvoip_core::sip::ua::Transport;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite;

use crate::server::Credentials;
use crate::sip::Shared;
use crate::sip::trunk::TrunkView;
use crate::store::CdrQuery;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

#[derive(Clone)]
struct AppState {
    sh: Arc<Shared>,
    /// `Basic base64(user:password)` expected on `/api`.
    basic: String,
    /// Turns true when the gateway shuts down: every `/ws` connection then closes with
    /// 1001 (Going Away).
    stop: watch::Receiver<bool>,
}

/// The router. `stop` turns true when the gateway shuts down (after the calls' BYEs were
/// sent): the WebSocket connections then close with 1001 (Going Away).
pub fn router(sh: Arc<Shared>, creds: Credentials, stop: watch::Receiver<bool>) -> Router {
    let basic = format!(
        "Basic {}",
        base64(format!("{}:{}", creds.admin_user, creds.admin_password).as_bytes())
    );
    Router::new()
        .merge(crate::console::router(sh.clone(), creds.clone()))
        .route("/ws", get(ws))
        .route("/metrics", get(metrics))
        .route("/api/calls", get(api_calls))
        .route("/api/registrations", get(api_registrations))
        .route("/api/trunks", get(api_trunks))
        .route("/api/stats", get(api_stats))
        .route("/api/cdrs", get(api_cdrs))
        .route("/console", get(console_index))
        .route("/console/", get(console_index))
        .route("/console/{*path}", get(console_file))
        .route("/", get(demo_index))
        .route("/{*path}", get(demo_file))
        .with_state(AppState { sh, basic, stop })
}

/// Initial read buffer of a `/ws` connection (bytes). tungstenite's default is 128 KiB and
/// it zero-fills the whole spare capacity before every read, so each browser connection
/// (one per registered user, idle most of the time) held 128 KiB of resident memory — half
/// of the gateway's per-call footprint under load. SIP messages over WebSocket are a few
/// KiB (an INVITE with a WebRTC offer: 3–5 KiB); a larger frame grows the buffer to its
/// announced length (bounded by the message limit below) and reads carry on in place.
const WS_READ_BUFFER: usize = 4 * 1024;

async fn ws(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    // A SIP message is at most `Limits::max_message_size` (64 KiB; the core drops larger
    // ones), so a larger WebSocket message or frame ends the connection instead of being
    // buffered up to tungstenite's defaults (64 MiB / 16 MiB).
    let ws = ws
        .protocols(["sip"])
        .read_buffer_size(WS_READ_BUFFER)
        .max_message_size(Limits::default().max_message_size)
        .max_frame_size(Limits::default().max_message_size);
    if ws.selected_protocol().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            "SIP over WebSocket needs the `sip` subprotocol (RFC 7118)\n",
        )
            .into_response();
    }
    let sh = st.sh.clone();
    let stop = st.stop.clone();
    ws.on_upgrade(move |socket| ws_flow(sh, socket, peer, stop))
}

/// How long a `/ws` connection the gateway closes waits for the peer's Close frame before
/// dropping the TCP connection (RFC 6455 §7.1.1: the server closes it after the closing
/// handshake). Bounded so a shutdown stays within [`crate::server::HTTP_DRAIN`].
const CLOSE_WAIT: Duration = Duration::from_millis(300);

async fn ws_flow(
    sh: Arc<Shared>,
    mut socket: WebSocket,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    // The whole listener is TLS or not (see `server.rs`): the flow's transport follows it.
    let transport = if sh.cfg.http.tls_cert.is_some() {
        Transport::Wss
    } else {
        Transport::Ws
    };
    let mut rx = crate::sip::transport::register_flow(&sh, peer, transport);
    tracing::debug!(%peer, transport = transport.via_token(), "websocket open");
    // `Some` when the gateway ends the connection: the Close frame's code and reason.
    let close: Option<(u16, &'static str)> = loop {
        tokio::select! {
            m = socket.recv() => match m {
                Some(Ok(Message::Text(t))) => sh.on_message(transport, peer, t.as_str().as_bytes()),
                Some(Ok(Message::Binary(b))) => sh.on_message(transport, peer, &b),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                // tungstenite answers the peer's Close itself.
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Err(e)) => break error_close(&e),
            },
            out = rx.recv() => match out {
                Some(bytes) => {
                    if socket.send(ws_message(bytes)).await.is_err() {
                        break None;
                    }
                }
                // The flow was replaced or dropped by the gateway.
                None => break Some((close_code::AWAY, "flow closed")),
            },
            () = stopped(&mut stop) => {
                // What the calls queued before the shutdown (their BYEs) goes out first.
                let mut ok = true;
                while let Ok(bytes) = rx.try_recv() {
                    if socket.send(ws_message(bytes)).await.is_err() {
                        ok = false;
                        break;
                    }
                }
                break ok.then_some((close_code::AWAY, "gateway shutting down"));
            }
        }
    };
    if let Some((code, reason)) = close {
        tracing::debug!(%peer, code, reason, "closing websocket");
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if socket.send(Message::Close(Some(frame))).await.is_ok() {
            // The closing handshake: wait (bounded) for the peer's Close, then drop.
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                while let Some(Ok(m)) = socket.recv().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }
    tracing::debug!(%peer, "websocket closed");
    sh.flow_closed(peer);
}

/// Resolves once `stop` is true (or its sender is gone: the gateway is dropped).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// A SIP message for the WebSocket: text when it is UTF-8 (it always is from the core),
/// else binary (RFC 7118 §4.2 allows both).
fn ws_message(bytes: Vec<u8>) -> Message {
    match String::from_utf8(bytes) {
        Ok(s) => Message::Text(s.into()),
        Err(e) => Message::Binary(e.into_bytes().into()),
    }
}

/// The Close frame (RFC 6455 §7.4.1) for a read error of a `/ws` connection that is still
/// writable: 1009 for a message over the size limit, 1002 for a protocol violation, 1007
/// for a text frame that is not UTF-8; `None` when the connection is gone (I/O error,
/// reset, already closed).
fn error_close(e: &axum::Error) -> Option<(u16, &'static str)> {
    use std::error::Error as _;
    let e = e.source()?.downcast_ref::<tungstenite::Error>()?;
    match e {
        tungstenite::Error::Capacity(_) => Some((close_code::SIZE, "message too big")),
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake
            | tungstenite::error::ProtocolError::SendAfterClosing
            | tungstenite::error::ProtocolError::ReceivedAfterClosing,
        ) => None,
        tungstenite::Error::Protocol(_) => Some((close_code::PROTOCOL, "protocol error")),
        tungstenite::Error::Utf8(_) => Some((close_code::INVALID, "text frame is not UTF-8")),
        _ => None,
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    st.sh.update_registration_gauge();
    st.sh.update_call_gauge();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        st.sh.metrics.render(),
    )
        .into_response()
}

/// `None` when authorized, else the 401 to send.
fn authorized(st: &AppState, headers: &HeaderMap) -> Option<Response> {
    let ok = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v.as_bytes(), st.basic.as_bytes()));
    if ok {
        None
    } else {
        Some(
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"rvoip console\""),
                )],
                "authentication required\n",
            )
                .into_response(),
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn json<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn api_calls(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = authorized(&st, &headers) {
        return r;
    }
    let mut calls: Vec<_> = Shared::lock(&st.sh.calls).values().cloned().collect();
    calls.sort_by_key(|c| c.id);
    json(&calls)
}

async fn api_registrations(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = authorized(&st, &headers) {
        return r;
    }
    let now = st.sh.clock.now();
    json(&Shared::lock(&st.sh.registrar).list(now))
}

async fn api_trunks(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = authorized(&st, &headers) {
        return r;
    }
    let v: Vec<TrunkView> = Shared::lock(&st.sh.trunks)
        .iter()
        .map(TrunkView::from)
        .collect();
    json(&v)
}

async fn api_stats(State(st): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = authorized(&st, &headers) {
        return r;
    }
    json(&crate::server::stats(&st.sh))
}

#[derive(Debug, serde::Deserialize, Default)]
struct CdrParams {
    number: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    format: Option<String>,
}

/// `YYYY-MM-DD` (UTC midnight) or milliseconds since the epoch.
fn parse_date(s: &str) -> Option<i64> {
    if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        return s.parse().ok();
    }
    let mut it = s.splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from civil (H. Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

async fn api_cdrs(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<CdrParams>,
) -> Response {
    if let Some(r) = authorized(&st, &headers) {
        return r;
    }
    let mut q = CdrQuery {
        number: p.number.filter(|n| !n.is_empty()),
        limit: p.limit.unwrap_or(1000).min(10_000),
        ..Default::default()
    };
    for (raw, slot, name) in [
        (&p.since, &mut q.since_ms, "since"),
        (&p.until, &mut q.until_ms, "until"),
    ] {
        if let Some(s) = raw.as_deref().filter(|s| !s.is_empty()) {
            match parse_date(s) {
                Some(v) => *slot = Some(v),
                None => {
                    return (
                        StatusCode::BAD_REQUEST,
                        format!("`{name}` must be YYYY-MM-DD or milliseconds\n"),
                    )
                        .into_response();
                }
            }
        }
    }
    let store = st.sh.store.clone();
    let rows = match tokio::task::spawn_blocking(move || store.cdrs(&q)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if p.format.as_deref() == Some("csv") {
        return cdrs_csv(&rows, "cdrs.csv");
    }
    json(&rows)
}

/// Call records as a CSV download named `filename` (`/api/cdrs?format=csv` and the
/// console's export): one header line, one line per record, every field quoted by `csv_field`.
pub(crate) fn cdrs_csv(rows: &[crate::store::CallRecord], filename: &'static str) -> Response {
    let mut out = String::from(
        "id,call_id,direction,from,to,started_ms,answered_ms,ended_ms,cause,transcoded,a_kind,a_peer,a_codec,b_kind,b_peer,b_codec,dtmf\n",
    );
    for c in rows {
        let fields = [
            c.id.to_string(),
            c.call_id.clone(),
            c.direction.clone(),
            c.from.clone(),
            c.to.clone(),
            c.started_ms.to_string(),
            c.answered_ms.map(|v| v.to_string()).unwrap_or_default(),
            c.ended_ms.to_string(),
            c.cause.clone(),
            c.transcoded.to_string(),
            c.a_leg.kind.clone(),
            c.a_leg.peer.clone(),
            c.a_leg.codec.clone().unwrap_or_default(),
            c.b_leg.kind.clone(),
            c.b_leg.peer.clone(),
            c.b_leg.codec.clone().unwrap_or_default(),
            c.dtmf.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        out,
    )
        .into_response()
}

/// RFC 4180 quoting; a leading `=+-@` is prefixed with `'` so spreadsheets do not run it.
fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@']) && f.parse::<f64>().is_err() {
        format!("'{f}")
    } else {
        f.to_string()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn serve(files: &'static [(&'static str, &'static [u8])], path: &str, what: &str) -> Response {
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    if let Some((name, body)) = files.iter().find(|(n, _)| *n == path) {
        return (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(name)),
            )],
            *body,
        )
            .into_response();
    }
    if files.is_empty() && path == "index.html" {
        let html = format!(
            "<!doctype html><meta charset=utf-8><title>rvoip gateway</title>\
<h1>rvoip gateway</h1><p>The {what} was not built into this binary (its directory was \
empty at compile time). SIP over WebSocket is at <code>/ws</code>, metrics at \
<code>/metrics</code>, the API at <code>/api/calls</code>.</p>"
        );
        return (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            html,
        )
            .into_response();
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn demo_index() -> Response {
    serve(assets::WEB_DEMO, "", "web demo (web-demo/)")
}

async fn demo_file(Path(path): Path<String>) -> Response {
    serve(assets::WEB_DEMO, &path, "web demo (web-demo/)")
}

/// `/console`: the console app (its own login, [`crate::console`]) when `www/` is built in.
async fn console_index() -> Response {
    if assets::CONSOLE.is_empty() {
        return serve(assets::CONSOLE, "", "operator console (www/)");
    }
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, HeaderValue::from_static("/console/app"))],
    )
        .into_response()
}

/// Other static files of `www/` (no data in them; the data is behind the console login).
async fn console_file(Path(path): Path<String>) -> Response {
    serve(assets::CONSOLE, &path, "operator console (www/)")
}

/// Standard base64 with padding.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SIP message several times the WebSocket read buffer arrives whole and is answered;
    /// one over the SIP message limit ends the connection with a Close frame 1009 (with tungstenite's 64 MiB
    /// default it would be buffered, dropped by the parser, and the connection kept).
    #[tokio::test]
    async fn websocket_reads_past_its_buffer_and_ends_over_the_message_limit() {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message as WsMessage;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;

        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = crate::config::Config::from_toml(
            "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\n\
             tcp = \"127.0.0.1:0\"\ndomain = \"127.0.0.1\"\n[admin]\n\
             password = \"ws-test-admin-1\"\n",
        )
        .expect("test config is valid");
        let gw = crate::server::Gateway::start(
            cfg,
            crate::server::Options {
                data_dir: Some(dir.path().to_path_buf()),
                sip_t1: None,
            },
        )
        .await
        .expect("gateway starts");
        let mut req = format!("ws://{}/ws", gw.http_addr())
            .into_client_request()
            .expect("request");
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connects");
        // `lines` padding headers of 1,000 bytes (a SIP line may be up to 8 KiB).
        let options = |call_id: &str, lines: usize| {
            let pad = format!("X-Pad: {}\r\n", "a".repeat(1000)).repeat(lines);
            format!(
                "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS ws.invalid;branch=z9hG4bK{call_id}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n\
                 Call-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n{pad}Content-Length: 0\r\n\r\n"
            )
        };
        let big = options("big-1", 5 * WS_READ_BUFFER / 1000);
        assert!(big.len() > 4 * WS_READ_BUFFER);
        ws.send(WsMessage::text(big)).await.expect("send");
        let reply = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
            .await
            .expect("answered in time")
            .expect("still open")
            .expect("a frame");
        let text = reply.into_text().expect("text frame");
        assert!(text.starts_with("SIP/2.0 200 "), "{}", text.as_str());

        let huge = options("huge-1", Limits::default().max_message_size / 1000);
        assert!(huge.len() > Limits::default().max_message_size);
        let _ = ws.send(WsMessage::text(huge)).await;
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                match ws.next().await {
                    Some(Ok(WsMessage::Close(f))) => break f.map(|f| u16::from(f.code)),
                    Some(Err(_)) | None => break None,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert_eq!(
            ended.expect("the gateway ends the connection"),
            Some(close_code::SIZE),
            "with a Close frame 1009 (Message Too Big, RFC 6455 §7.4.1)"
        );
        gw.shutdown().await;
    }

    #[test]
    fn helpers() {
        assert_eq!(base64(b"admin:pw"), "YWRtaW46cHc=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date("2026-11-21"), Some(1_795_219_200_000));
        assert_eq!(parse_date("12345"), Some(12345));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(csv_field("=1+1x"), "'=1+1x");
        assert_eq!(csv_field("-5"), "-5");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("+15551234"), "+15551234");
    }
}
