//! The [`Gateway`]: opens the database, creates the demo users and the console password on
//! first start, loads the TLS certificates ([`crate::tls`]), binds the HTTP(S)/WebSocket,
//! SIP UDP, SIP TCP and SIP TLS listeners, starts the trunk
//! tasks, and shuts down gracefully (new calls get 503, answered calls get the grace
//! period, then BYE on both legs; call records are written before [`Gateway::shutdown`]
//! returns).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::sip::registrar::Registrar;
use crate::sip::{Addrs, CallInput, Counters, Shared, random_token};
use crate::store::{Store, User};

/// Options that are not part of the config file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Overrides `storage.data_dir`.
    pub data_dir: Option<PathBuf>,
    /// SIP timer T1 (default 500 ms); tests shorten it so Timer B fires sooner.
    pub sip_t1: Option<Duration>,
}

/// Why the gateway could not start.
#[derive(Debug)]
pub enum StartError {
    /// The database could not be opened.
    Store(String),
    /// The configuration names something unusable (a certificate file that cannot be read,
    /// a key that does not fit): the key and what is wrong.
    Config(crate::config::ConfigError),
    /// A configured feature this build does not have.
    Unsupported {
        /// The config key.
        key: &'static str,
        /// What to do instead.
        message: &'static str,
    },
    /// A listener could not be bound.
    Bind {
        /// What (`http.listen`, `sip.udp`, `sip.tcp`, `sip.tls`).
        key: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The error.
        error: std::io::Error,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Store(e) => write!(f, "cannot open the database: {e}"),
            StartError::Config(e) => write!(f, "{e}"),
            StartError::Unsupported { key, message } => write!(f, "`{key}`: {message}"),
            StartError::Bind { key, addr, error } => {
                write!(f, "cannot listen on {addr} (`{key}`): {error}")
            }
        }
    }
}

impl std::error::Error for StartError {}

/// Credentials created or read at start, for printing.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Console user name.
    pub admin_user: String,
    /// Console password.
    pub admin_password: String,
    /// Demo users (name, password) created by the gateway (empty when the config has users).
    pub demo_users: Vec<(String, String)>,
}

/// A running gateway.
pub struct Gateway {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Credentials for the console and the demo users.
    pub credentials: Credentials,
}

/// A snapshot of what the gateway holds (for tests and the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Calls not yet ended.
    pub calls: usize,
    /// Call tasks alive.
    pub call_tasks: usize,
    /// Dialog legs alive.
    pub legs: usize,
    /// Stream flows (WebSocket/TCP connections).
    pub flows: usize,
    /// Call-ID routes (calls and trunk transactions).
    pub routes: usize,
    /// Entries of the flow index: (stream flow, task told when it closes) pairs.
    pub flow_watchers: usize,
    /// Live registrations.
    pub registrations: usize,
    /// Call records written since start.
    pub records_written: u64,
    /// Media ports in use.
    pub media_ports: usize,
}

fn bind_err(key: &'static str, addr: SocketAddr) -> impl FnOnce(std::io::Error) -> StartError {
    move |error| StartError::Bind { key, addr, error }
}

impl Gateway {
    /// Starts the gateway for `cfg`.
    pub async fn start(mut cfg: Config, opts: Options) -> Result<Gateway, StartError> {
        let tls = crate::tls::TlsSetup::load(&cfg).map_err(StartError::Config)?;
        if let Some(d) = &opts.data_dir {
            cfg.storage.data_dir = d.clone();
        }
        let store =
            Store::open(&cfg.storage.data_dir).map_err(|e| StartError::Store(e.to_string()))?;
        let credentials =
            first_start(&cfg, &store).map_err(|e| StartError::Store(e.to_string()))?;
        let http = TcpListener::bind(cfg.http.listen)
            .await
            .map_err(bind_err("http.listen", cfg.http.listen))?;
        let udp = match cfg.sip.udp {
            Some(a) => Some(Arc::new(
                UdpSocket::bind(a).await.map_err(bind_err("sip.udp", a))?,
            )),
            None => None,
        };
        let tcp = match cfg.sip.tcp {
            Some(a) => Some(TcpListener::bind(a).await.map_err(bind_err("sip.tcp", a))?),
            None => None,
        };
        let sip_tls = match cfg.sip.tls {
            Some(a) => Some(TcpListener::bind(a).await.map_err(bind_err("sip.tls", a))?),
            None => None,
        };
        let addrs = Addrs {
            http: http
                .local_addr()
                .map_err(bind_err("http.listen", cfg.http.listen))?,
            udp: udp.as_ref().and_then(|s| s.local_addr().ok()),
            tcp: tcp.as_ref().and_then(|s| s.local_addr().ok()),
            tls: sip_tls.as_ref().and_then(|s| s.local_addr().ok()),
        };
        let mut timers = rvoip_core::sip::transaction::TimerConfig::default();
        if let Some(t1) = opts.sip_t1 {
            timers.t1 = t1;
        }
        let trunks = crate::sip::trunk::initial_states(&cfg.trunks).await;
        let metrics = Arc::new(Metrics::new());
        let media = match crate::dtls::DtlsIdentity::generate() {
            Ok(id) => {
                Some(crate::media::MediaEngine::new(&cfg.media, id).with_metrics(metrics.clone()))
            }
            Err(e) => {
                tracing::error!("no DTLS certificate, media disabled: {e}");
                None
            }
        };
        let shared = Arc::new(Shared {
            auth: Mutex::new(Shared::new_auth(&cfg.sip.domain)),
            limiter: Mutex::new(crate::sip::ratelimit::RateLimiter::new(
                cfg.limits.requests_per_second_per_source,
            )),
            cfg,
            store: Arc::new(store),
            metrics,
            media,
            clock: crate::sip::Clock::new(),
            udp: udp.clone(),
            addrs,
            flows: Mutex::default(),
            routes: Mutex::default(),
            flow_watchers: Default::default(),
            calls: Mutex::default(),
            registrar: Mutex::new(Registrar::default()),
            trunks: Mutex::new(trunks),
            counters: Counters::default(),
            shutting_down: false.into(),
            timers,
            tls_trunks: tls.trunks,
        });
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some(sock) = udp {
            tasks.push(tokio::spawn(crate::sip::transport::run_udp(
                shared.clone(),
                sock,
                stop_rx.clone(),
            )));
        }
        if let Some(l) = tcp {
            tasks.push(tokio::spawn(crate::sip::transport::run_tcp(
                shared.clone(),
                l,
                stop_rx.clone(),
            )));
        }
        if let (Some(l), Some(acceptor)) = (sip_tls, tls.sip) {
            tasks.push(tokio::spawn(crate::sip::transport::run_tls(
                shared.clone(),
                l,
                acceptor,
                stop_rx.clone(),
            )));
        }
        let n_trunks = Shared::lock(&shared.trunks).len();
        for i in 0..n_trunks {
            tasks.push(tokio::spawn(crate::sip::trunk::run(
                shared.clone(),
                i,
                stop_rx.clone(),
            )));
        }
        tasks.push(tokio::spawn(housekeeping(shared.clone(), stop_rx.clone())));
        let app = crate::http::router(shared.clone(), credentials.clone(), stop_rx.clone());
        let mut http_stop = stop_rx.clone();
        let https = tls.http.is_some();
        tasks.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = http_stop.changed().await;
            };
            let make = app.into_make_service_with_connect_info::<SocketAddr>();
            let r = match tls.http {
                // `tap_io` makes axum's `ConnectInfo<SocketAddr>` available for the TLS
                // listener (it is implemented for `TapIo<L>` whose address is a SocketAddr).
                Some(acceptor) => match crate::tls::TlsListener::new(http, acceptor) {
                    Ok(l) => {
                        use axum::serve::ListenerExt;
                        axum::serve(l.tap_io(|_| {}), make)
                            .with_graceful_shutdown(stopped)
                            .await
                    }
                    Err(e) => Err(e),
                },
                None => {
                    axum::serve(http, make)
                        .with_graceful_shutdown(stopped)
                        .await
                }
            };
            if let Err(e) = r {
                tracing::error!("http server: {e}");
            }
        }));
        tracing::info!(
            http = %addrs.http,
            https,
            udp = ?addrs.udp,
            tcp = ?addrs.tcp,
            tls = ?addrs.tls,
            "gateway listening"
        );
        Ok(Gateway {
            shared,
            stop,
            tasks: Mutex::new(tasks),
            credentials,
        })
    }

    /// The HTTP/WebSocket address.
    pub fn http_addr(&self) -> SocketAddr {
        self.shared.addrs.http
    }

    /// The SIP UDP address.
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.shared.addrs.udp
    }

    /// The SIP TCP address.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.shared.addrs.tcp
    }

    /// The SIP TLS address.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.shared.addrs.tls
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Fault injection for tests: a call task that panics (see
    /// [`crate::sip::b2bua::spawn_panicking_call`]).
    #[doc(hidden)]
    pub fn inject_panicking_call(&self, call_id: &str) {
        crate::sip::b2bua::spawn_panicking_call(&self.shared, call_id);
    }

    /// Ends live call `id` now (see [`Shared::hangup_call`]).
    pub fn hangup_call(&self, id: u64) -> bool {
        self.shared.hangup_call(id)
    }

    /// What the gateway holds now.
    pub fn stats(&self) -> Stats {
        stats(&self.shared)
    }

    /// Graceful shutdown: new calls get 503; unanswered calls end now, answered calls after
    /// `limits.shutdown_grace_seconds` (BYE on both legs); then the listeners stop and every
    /// browser WebSocket gets a Close frame with 1001 (Going Away) after what was queued on
    /// it (the BYEs), so a browser sees a clean close.
    ///
    /// It returns about [`SETTLE`] after the last call record is written (so within the
    /// grace period plus about half a second when calls are up, at once when idle): a
    /// finished call task that still absorbs retransmissions (Timer K, up to its linger
    /// time) is not waited for, and the HTTP server's graceful shutdown (which waits for
    /// open responses, e.g. a console's Server-Sent Events stream) is bounded by
    /// [`HTTP_DRAIN`].
    pub async fn shutdown(&self) {
        let sh = &self.shared;
        sh.shutting_down.store(true, Ordering::SeqCst);
        let routes: Vec<_> = Shared::lock(&sh.routes).values().cloned().collect();
        for tx in routes {
            let _ = tx.send(CallInput::Shutdown);
        }
        let grace = Duration::from_secs(sh.cfg.limits.shutdown_grace_seconds);
        let started = tokio::time::Instant::now();
        let deadline = started + grace + Duration::from_secs(6);
        // Every call ends (answered ones after the grace): its record is written then.
        while sh.counters.calls.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The BYEs just sent get their answers (or a retransmission) meanwhile.
        let settle = (tokio::time::Instant::now() + SETTLE).min(deadline);
        while sh.counters.call_tasks.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < settle
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = self.stop.send(true);
        let tasks = std::mem::take(&mut *Shared::lock(&self.tasks));
        let drained = tokio::time::Instant::now() + HTTP_DRAIN;
        for mut t in tasks {
            if tokio::time::timeout_at(drained, &mut t).await.is_err() {
                t.abort();
            }
        }
        // The connections close on the stop signal (a browser's WebSocket with its closing
        // handshake, 1001 Going Away): the process may exit once they are gone.
        while sh.counters.flows.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < drained
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            calls_left = sh.counters.calls.load(Ordering::SeqCst),
            "gateway stopped"
        );
    }
}

/// How long [`Gateway::shutdown`] lets finished call tasks settle (their BYEs answered)
/// after the last call record is written.
pub const SETTLE: Duration = Duration::from_millis(250);

/// How long [`Gateway::shutdown`] waits for the listeners and the HTTP server's graceful
/// shutdown (open responses finishing) before aborting them.
pub const HTTP_DRAIN: Duration = Duration::from_millis(500);

/// The stats of a shared state.
pub fn stats(sh: &Shared) -> Stats {
    let c = &sh.counters;
    Stats {
        calls: c.calls.load(Ordering::SeqCst),
        call_tasks: c.call_tasks.load(Ordering::SeqCst),
        legs: c.legs.load(Ordering::SeqCst),
        flows: c.flows.load(Ordering::SeqCst),
        routes: Shared::lock(&sh.routes).len(),
        flow_watchers: sh.flow_watchers.len(),
        registrations: Shared::lock(&sh.registrar).len(sh.clock.now()),
        records_written: c.records_written.load(Ordering::SeqCst),
        media_ports: sh.media.as_ref().map_or(0, |m| m.ports_in_use()),
    }
}

/// Expires registrations (keeping the gauge right) once a second.
async fn housekeeping(sh: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                let now = sh.clock.now();
                if Shared::lock(&sh.registrar).purge(now) > 0 {
                    sh.update_registration_gauge();
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// Creates the console password and, with no users configured, the demo users alice and
/// bob, with generated passwords stored in the database.
fn first_start(cfg: &Config, store: &Store) -> Result<Credentials, crate::store::StoreError> {
    let admin_user = cfg.admin.username.clone().unwrap_or_else(|| "admin".into());
    let admin_password = match &cfg.admin.password {
        Some(p) => p.clone(),
        None => match store.setting("admin_password")? {
            Some(p) => p,
            None => {
                let p = random_token(16);
                store.set_setting("admin_password", &p)?;
                p
            }
        },
    };
    let mut demo_users = Vec::new();
    if cfg.users.is_empty() {
        for name in ["alice", "bob"] {
            let password = match store.user(name)? {
                Some(u) => u.password,
                None => {
                    let p = random_token(12);
                    store.put_user(&User {
                        username: name.into(),
                        password: p.clone(),
                        display_name: None,
                        dids: Vec::new(),
                    })?;
                    p
                }
            };
            demo_users.push((name.to_string(), password));
        }
    }
    Ok(Credentials {
        admin_user,
        admin_password,
        demo_users,
    })
}
