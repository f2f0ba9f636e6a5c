//! TLS for the gateway, with rustls 0.23 on the `ring` provider (pure Rust and C without
//! system libraries, so nothing to install):
//!
//! - HTTPS/WSS on the HTTP listener when `http.tls_cert` and `http.tls_key` are given
//!   ([`TlsListener`], an axum [`Listener`]). ALPN offers only `http/1.1` (RFC 7301), the
//!   protocol SIP over WebSocket is upgraded from (RFC 6455, RFC 7118 §5.1).
//! - The SIP-TLS listener `sip.tls` (RFC 3261 §26.2, RFC 5630), with `sip.tls_cert` /
//!   `sip.tls_key`, or the HTTP certificate when those are absent. TLS connections carry the
//!   same stream framing as TCP (see [`crate::sip::transport`]).
//! - Outgoing SIP-TLS to trunks with `transport = "tls"` ([`TrunkTls`]): the provider's
//!   certificate chain is verified against `tls_ca` (when given, those CAs only) or the
//!   webpki (Mozilla) roots, and its name against the trunk's host (the outbound proxy's
//!   when there is one), which is also sent as SNI (RFC 6066 §3; not sent for IP literals,
//!   whose certificate must then carry an IP address SAN).
//!
//! Inputs: the [`Config`] paths (PEM files). Outputs: acceptors and connectors for the
//! listeners and [`crate::sip::transport`]. Every error is a [`ConfigError`] naming the key
//! of the file at fault (`http.tls_key`, `trunks[0].tls_ca`, …), which `gateway` reports with
//! exit status 2.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector, server};

use crate::config::{Config, ConfigError, TrunkConfig, TrunkTransport};

/// Longest a TLS handshake may take before the connection is dropped (a peer that opens a
/// connection and says nothing must not hold it).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress on one listener at most; connections past it are closed at once.
pub const MAX_PENDING_HANDSHAKES: usize = 256;

/// The TLS material of a configuration, loaded and checked.
pub struct TlsSetup {
    /// HTTPS/WSS (`http.tls_cert`).
    pub http: Option<TlsAcceptor>,
    /// SIP-TLS listener (`sip.tls`).
    pub sip: Option<TlsAcceptor>,
    /// Per trunk, in config order: the connector of `transport = "tls"` trunks.
    pub trunks: Vec<Option<TrunkTls>>,
}

/// How to open TLS connections to one trunk.
#[derive(Clone)]
pub struct TrunkTls {
    /// Verifies the provider against `tls_ca` or the webpki roots.
    pub connector: TlsConnector,
    /// SNI and the name the certificate must carry.
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for TrunkTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrunkTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsSetup {
    /// Reads the certificates and keys `cfg` names; an error names the key at fault.
    pub fn load(cfg: &Config) -> Result<TlsSetup, ConfigError> {
        let http = match (&cfg.http.tls_cert, &cfg.http.tls_key) {
            (Some(c), Some(k)) => Some(TlsAcceptor::from(server_config(
                (c, "http.tls_cert"),
                (k, "http.tls_key"),
                &[b"http/1.1"],
            )?)),
            _ => None,
        };
        let sip = match (cfg.sip.tls, &cfg.sip.tls_cert, &cfg.sip.tls_key) {
            (None, _, _) => None,
            (Some(_), Some(c), Some(k)) => Some(TlsAcceptor::from(server_config(
                (c, "sip.tls_cert"),
                (k, "sip.tls_key"),
                &[],
            )?)),
            (Some(_), _, _) => match (&cfg.http.tls_cert, &cfg.http.tls_key) {
                (Some(c), Some(k)) => Some(TlsAcceptor::from(server_config(
                    (c, "http.tls_cert"),
                    (k, "http.tls_key"),
                    &[],
                )?)),
                _ => return Err(cerr("sip.tls", "needs sip.tls_cert and sip.tls_key")),
            },
        };
        let mut trunks = Vec::with_capacity(cfg.trunks.len());
        for (i, t) in cfg.trunks.iter().enumerate() {
            trunks.push(if t.transport == TrunkTransport::Tls {
                Some(trunk_tls(i, t)?)
            } else {
                None
            });
        }
        Ok(TlsSetup { http, sip, trunks })
    }
}

fn cerr(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

/// The crypto provider every config here is built with (explicit, so that another crate
/// enabling a second rustls provider cannot make the process default ambiguous).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of a PEM file (at least one).
pub fn load_certs(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let data = std::fs::read(path)
        .map_err(|e| cerr(key, format!("cannot read `{}`: {e}", path.display())))?;
    let certs = CertificateDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cerr(key, format!("`{}` is not valid PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(cerr(
            key,
            format!("`{}` holds no PEM CERTIFICATE", path.display()),
        ));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub fn load_key(path: &Path, key: &str) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let data = std::fs::read(path)
        .map_err(|e| cerr(key, format!("cannot read `{}`: {e}", path.display())))?;
    PrivateKeyDer::from_pem_slice(&data).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => cerr(
            key,
            format!(
                "`{}` holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
                path.display()
            ),
        ),
        e => cerr(key, format!("`{}` is not valid PEM: {e}", path.display())),
    })
}

/// A server config for a certificate chain and its key, offering `alpn`.
pub fn server_config(
    (cert, cert_key): (&Path, &str),
    (key, key_key): (&Path, &str),
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, ConfigError> {
    let chain = load_certs(cert, cert_key)?;
    let private = load_key(key, key_key)?;
    let mut sc = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| cerr(cert_key, format!("TLS setup: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            cerr(
                key_key,
                format!(
                    "`{}` does not fit `{}` or is not a supported key: {e}",
                    key.display(),
                    cert.display()
                ),
            )
        })?;
    sc.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(sc))
}

/// A client config verifying servers against `ca` (those certificates only) or the webpki
/// roots; `insecure` accepts any certificate.
pub fn client_config(
    ca: Option<(&Path, &str)>,
    insecure: bool,
) -> Result<Arc<ClientConfig>, ConfigError> {
    let p = provider();
    let builder = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| cerr("trunks", format!("TLS setup: {e}")))?;
    let cc = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(p)))
            .with_no_client_auth()
    } else {
        let roots = match ca {
            Some((path, key)) => {
                let mut roots = RootCertStore::empty();
                for c in load_certs(path, key)? {
                    roots.add(c).map_err(|e| {
                        cerr(
                            key,
                            format!("`{}`: not a usable CA certificate: {e}", path.display()),
                        )
                    })?;
                }
                roots
            }
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(cc))
}

/// The host of `host[:port]` (brackets of an IPv6 literal removed) as a TLS server name.
pub fn server_name(host_port: &str) -> Option<ServerName<'static>> {
    if let Ok(a) = host_port.parse::<SocketAddr>() {
        return Some(ServerName::IpAddress(a.ip().into()));
    }
    if let Ok(ip) = host_port.parse::<IpAddr>() {
        return Some(ServerName::IpAddress(ip.into()));
    }
    let host = match host_port.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => h,
        _ => host_port,
    };
    ServerName::try_from(host.to_string()).ok()
}

/// The connector of trunk `i`: its name is the outbound proxy's host when there is one (the
/// TLS peer is the proxy), else the trunk's host.
fn trunk_tls(i: usize, t: &TrunkConfig) -> Result<TrunkTls, ConfigError> {
    let (peer, key) = match &t.outbound_proxy {
        Some(p) => (p.as_str(), format!("trunks[{i}].outbound_proxy")),
        None => (t.host.as_str(), format!("trunks[{i}].host")),
    };
    let server_name = server_name(peer).ok_or_else(|| {
        cerr(
            key,
            format!("`{peer}` is not a valid TLS server name (DNS name or IP address)"),
        )
    })?;
    let ca_key = format!("trunks[{i}].tls_ca");
    let cc = client_config(
        t.tls_ca.as_deref().map(|p| (p, ca_key.as_str())),
        t.tls_insecure_skip_verify,
    )?;
    if t.tls_insecure_skip_verify {
        tracing::warn!(
            trunk = t.name,
            "tls_insecure_skip_verify: the trunk's certificate is NOT verified"
        );
    }
    Ok(TrunkTls {
        connector: TlsConnector::from(cc),
        server_name,
    })
}

/// `tls_insecure_skip_verify`: any certificate is accepted, but the handshake signatures
/// are still checked (the session keys belong to whoever holds the presented key).
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Accepts TCP connections on `listener` and runs each TLS handshake in its own task (with
/// [`HANDSHAKE_TIMEOUT`], at most [`MAX_PENDING_HANDSHAKES`] at once), so a slow or silent
/// client never holds up the others; `on_ready` gets each established stream. Runs until
/// dropped.
pub async fn accept_loop<F>(listener: TcpListener, acceptor: TlsAcceptor, on_ready: F)
where
    F: Fn(server::TlsStream<TcpStream>, SocketAddr) + Clone + Send + 'static,
{
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!("tls accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = pending.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "too many TLS handshakes in progress: connection closed");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ready = on_ready.clone();
        tokio::spawn(async move {
            let r = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
            drop(permit);
            match r {
                Ok(Ok(stream)) => ready(stream, peer),
                Ok(Err(e)) => tracing::debug!(%peer, "tls handshake: {e}"),
                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
            }
        });
    }
}

/// An axum [`Listener`] serving HTTPS: a background task accepts and handshakes
/// ([`accept_loop`]); `accept` hands out established streams with their peer address.
pub struct TlsListener {
    rx: mpsc::Receiver<(server::TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsListener {
    /// Serves TLS with `acceptor` on `listener`.
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(accept_loop(listener, acceptor, move |s, peer| {
            // A full queue means the server is not accepting: the connection is dropped.
            if tx.try_send((s, peer)).is_err() {
                tracing::debug!(%peer, "https accept queue full: connection closed");
            }
        }));
        Ok(TlsListener { rx, local, task })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Listener for TlsListener {
    type Io = server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept task only ends when aborted by our own drop: wait forever.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        assert_eq!(
            server_name("sip.example.net:5061"),
            Some(ServerName::try_from("sip.example.net").unwrap())
        );
        assert_eq!(
            server_name("sip.example.net"),
            Some(ServerName::try_from("sip.example.net").unwrap())
        );
        assert!(matches!(
            server_name("127.0.0.1:5061"),
            Some(ServerName::IpAddress(_))
        ));
        assert!(matches!(
            server_name("[::1]:5061"),
            Some(ServerName::IpAddress(_))
        ));
        assert_eq!(server_name("bad host"), None);
    }

    #[test]
    fn missing_and_bad_files_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = load_certs(&missing, "http.tls_cert").unwrap_err();
        assert_eq!(e.key, "http.tls_cert");
        assert!(e.message.contains("nope.pem"), "{e}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not pem at all\n").unwrap();
        let e = load_certs(&junk, "sip.tls_cert").unwrap_err();
        assert_eq!(e.key, "sip.tls_cert");
        let e = load_key(&junk, "http.tls_key").unwrap_err();
        assert_eq!(e.key, "http.tls_key");
        assert!(e.message.contains("no PEM private key"), "{e}");
    }

    #[test]
    fn setup_errors_name_the_key_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = rcgen::generate_simple_self_signed(vec!["a.test".into()]).unwrap();
        let cert = dir.path().join("a.pem");
        let key = dir.path().join("a.key");
        std::fs::write(&cert, a.cert.pem()).unwrap();
        std::fs::write(&key, a.key_pair.serialize_pem()).unwrap();
        let missing = dir.path().join("missing.pem");
        let load = |toml: String| TlsSetup::load(&Config::from_toml(&toml).unwrap());
        // The SIP listener falls back to the HTTP certificate.
        let s = load(format!(
            "[http]\ntls_cert = {cert:?}\ntls_key = {key:?}\n[sip]\ntls = \"127.0.0.1:0\"\n"
        ))
        .unwrap();
        assert!(s.http.is_some() && s.sip.is_some() && s.trunks.is_empty());
        // Without `sip.tls` no SIP acceptor is built, whatever the HTTP side has.
        let s = load(format!("[http]\ntls_cert = {cert:?}\ntls_key = {key:?}\n")).unwrap();
        assert!(s.http.is_some() && s.sip.is_none());
        let e = load(format!(
            "[sip]\ntls = \"127.0.0.1:0\"\ntls_cert = {cert:?}\ntls_key = {missing:?}\n"
        ))
        .err()
        .unwrap();
        assert_eq!(e.key, "sip.tls_key", "{e}");
        let e = load(format!(
            "[[trunks]]\nname = \"t\"\nhost = \"sip.example.net\"\ntransport = \"tls\"\n\
             tls_ca = {missing:?}\n"
        ))
        .err()
        .unwrap();
        assert_eq!(e.key, "trunks[0].tls_ca", "{e}");
        let s = load(
            "[[trunks]]\nname = \"u\"\nhost = \"198.51.100.1\"\n\
             [[trunks]]\nname = \"t\"\nhost = \"sip.example.net\"\ntransport = \"tls\"\n\
             outbound_proxy = \"proxy.example.net:5061\"\n"
                .to_string(),
        )
        .unwrap();
        assert!(s.trunks[0].is_none());
        assert_eq!(
            s.trunks[1].as_ref().unwrap().server_name,
            ServerName::try_from("proxy.example.net").unwrap(),
            "the TLS peer is the outbound proxy"
        );
    }

    #[test]
    fn a_key_that_does_not_fit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = rcgen::generate_simple_self_signed(vec!["a.test".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b.test".into()]).unwrap();
        let cert = dir.path().join("a.pem");
        let key = dir.path().join("b.key");
        std::fs::write(&cert, a.cert.pem()).unwrap();
        std::fs::write(&key, b.key_pair.serialize_pem()).unwrap();
        let e = server_config((&cert, "http.tls_cert"), (&key, "http.tls_key"), &[]).unwrap_err();
        assert_eq!(e.key, "http.tls_key", "{e}");
        let good = dir.path().join("a.key");
        std::fs::write(&good, a.key_pair.serialize_pem()).unwrap();
        let sc = server_config((&cert, "http.tls_cert"), (&good, "http.tls_key"), &[b"h"]).unwrap();
        assert_eq!(sc.alpn_protocols, vec![b"h".to_vec()]);
    }
}
