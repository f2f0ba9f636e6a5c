//! DTLS-SRTP for the WebRTC leg (RFC 5763, RFC 5764), with `webrtc-dtls`.
//!
//! The leg's socket task demultiplexes datagrams (RFC 7983) and hands DTLS records to the
//! handshake through a channel; records DTLS writes come back through another channel and
//! go out of the same socket to the ICE-validated address. So `webrtc-dtls` never owns a
//! socket, and STUN/RTP keep flowing on the one port while the handshake runs.
//!
//! The peer's certificate is not checked against a CA: it is checked against the
//! `a=fingerprint` of its SDP (RFC 8122), and a mismatch fails the handshake. On success
//! the SRTP profile chosen by `use_srtp` and the keying material exported with the label
//! `EXTRACTOR-dtls_srtp` (RFC 5764 §4.2) are returned, split into local and remote keys by
//! the DTLS role.

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc};
use webrtc_dtls::config::{ClientAuthType, Config, ExtendedMasterSecretType};
use webrtc_dtls::conn::DTLSConn;
use webrtc_dtls::crypto::Certificate;
use webrtc_dtls::extension::extension_use_srtp::SrtpProtectionProfile;
use webrtc_util::KeyingMaterialExporter;
use webrtc_util::conn::Conn;

/// The gateway's DTLS identity: an ECDSA P-256 self-signed certificate made at start.
#[derive(Clone)]
pub struct DtlsIdentity {
    cert: Certificate,
    fingerprint: String,
}

impl DtlsIdentity {
    /// Makes a new ECDSA P-256 certificate.
    pub fn generate() -> Result<DtlsIdentity, DtlsError> {
        let cert = Certificate::generate_self_signed_with_alg(
            vec!["rvoip-gateway".to_string()],
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .map_err(|e| DtlsError::Certificate(e.to_string()))?;
        let der = cert
            .certificate
            .first()
            .ok_or_else(|| DtlsError::Certificate("no certificate".into()))?;
        let fingerprint = fingerprint_sha256(der.as_ref());
        Ok(DtlsIdentity { cert, fingerprint })
    }

    /// The SHA-256 fingerprint in SDP form (`AB:CD:…`, upper-case hex), for
    /// `a=fingerprint:sha-256 …`.
    pub fn fingerprint_sha256(&self) -> &str {
        &self.fingerprint
    }
}

/// The (content type, epoch) of each record of a DTLS datagram (RFC 6347 §4.1: type,
/// version, epoch, sequence number, length — 13 bytes — then the fragment); ends at a
/// truncated record.
pub(crate) fn records(mut d: &[u8]) -> impl Iterator<Item = (u8, u16)> + '_ {
    std::iter::from_fn(move || {
        let [ty, _, _, e0, e1, _, _, _, _, _, _, l0, l1, rest @ ..] = d else {
            return None;
        };
        d = rest
            .get(usize::from(u16::from_be_bytes([*l0, *l1]))..)
            .unwrap_or(&[]);
        Some((*ty, u16::from_be_bytes([*e0, *e1])))
    })
}

/// `AB:CD:…` SHA-256 fingerprint of a DER certificate.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut s = String::with_capacity(95);
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

/// Which side of the handshake we are (from SDP `a=setup`: `passive` → server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// DTLS client (`a=setup:active`).
    Client,
    /// DTLS server (`a=setup:passive`).
    Server,
}

/// The SRTP protection profile negotiated by `use_srtp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrtpProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM
    AeadAes128Gcm,
}

impl SrtpProfile {
    /// (master key length, master salt length) in bytes.
    pub fn key_salt_len(self) -> (usize, usize) {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 | SrtpProfile::Aes128CmHmacSha1_32 => (16, 14),
            SrtpProfile::AeadAes128Gcm => (16, 12),
        }
    }
}

/// What a completed handshake yields.
#[derive(Debug, Clone)]
pub struct DtlsSrtpKeys {
    /// Negotiated profile.
    pub profile: SrtpProfile,
    /// Master key and salt we protect outgoing SRTP with.
    pub local_key: Vec<u8>,
    /// Our master salt.
    pub local_salt: Vec<u8>,
    /// Master key the peer protects its SRTP with.
    pub remote_key: Vec<u8>,
    /// The peer's master salt.
    pub remote_salt: Vec<u8>,
}

/// A DTLS failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtlsError {
    /// Making the certificate failed.
    Certificate(String),
    /// The handshake failed (includes a fingerprint mismatch).
    Handshake(String),
    /// No handshake within the time limit.
    Timeout,
    /// The peer chose no SRTP profile we support.
    NoSrtpProfile,
    /// Exporting the keying material failed.
    Export(String),
}

impl std::fmt::Display for DtlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DtlsError::Certificate(e) => write!(f, "DTLS certificate: {e}"),
            DtlsError::Handshake(e) => write!(f, "DTLS handshake failed: {e}"),
            DtlsError::Timeout => write!(f, "DTLS handshake timed out"),
            DtlsError::NoSrtpProfile => write!(f, "DTLS: no common SRTP protection profile"),
            DtlsError::Export(e) => write!(f, "DTLS keying material export: {e}"),
        }
    }
}

impl std::error::Error for DtlsError {}

/// A datagram "connection" made of two channels, so `webrtc-dtls` can run over a socket
/// that the leg task owns and shares with STUN and RTP.
struct ChannelConn {
    inbound: Mutex<mpsc::Receiver<Vec<u8>>>,
    outbound: mpsc::Sender<Vec<u8>>,
    local: SocketAddr,
    remote: SocketAddr,
}

fn closed() -> webrtc_util::Error {
    webrtc_util::Error::Other("channel closed".into())
}

#[async_trait::async_trait]
impl Conn for ChannelConn {
    async fn connect(&self, _addr: SocketAddr) -> webrtc_util::Result<()> {
        Ok(())
    }
    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        let pkt = self.inbound.lock().await.recv().await.ok_or_else(closed)?;
        let n = pkt.len().min(buf.len());
        buf[..n].copy_from_slice(&pkt[..n]);
        Ok(n)
    }
    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        Ok((self.recv(buf).await?, self.remote))
    }
    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.outbound
            .send(buf.to_vec())
            .await
            .map_err(|_| closed())?;
        Ok(buf.len())
    }
    async fn send_to(&self, buf: &[u8], _target: SocketAddr) -> webrtc_util::Result<usize> {
        self.send(buf).await
    }
    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        Ok(self.local)
    }
    fn remote_addr(&self) -> Option<SocketAddr> {
        Some(self.remote)
    }
    async fn close(&self) -> webrtc_util::Result<()> {
        Ok(())
    }
    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

/// The channels of a running handshake: push received DTLS records into `to_dtls`, send
/// what arrives on `from_dtls` to the peer.
pub struct DtlsChannels {
    /// Records received from the peer go here.
    pub to_dtls: mpsc::Sender<Vec<u8>>,
    /// Records to send to the peer come out here.
    pub from_dtls: mpsc::Receiver<Vec<u8>>,
}

/// The `AB:CD:…` upper-case form of an SDP SHA-256 fingerprint given bare or as
/// `<hash-func> <value>` (RFC 8122 §5: hash names and hex are case-insensitive); `None`
/// when it names another hash function.
pub(crate) fn normalize_sha256(fp: &str) -> Option<String> {
    let fp = fp.trim();
    let value = match fp.split_once(char::is_whitespace) {
        Some((hash, value)) if hash.eq_ignore_ascii_case("sha-256") => value.trim(),
        Some(_) => return None,
        None => fp,
    };
    Some(value.to_ascii_uppercase())
}

/// A handshake in progress; `await` it with [`DtlsHandshake::run`].
pub struct DtlsHandshake {
    conn: Arc<ChannelConn>,
    config: Config,
    role: DtlsRole,
    timeout: Duration,
}

impl DtlsHandshake {
    /// Prepares a handshake with `identity`, checking the peer's certificate against
    /// `remote_fingerprint`: the SHA-256 value of `a=fingerprint` (RFC 8122 §5), bare
    /// (`AB:CD:…`) or with its hash name (`sha-256 ab:cd:…`); hex case is ignored. A
    /// fingerprint of another hash function never matches.
    pub fn new(
        identity: &DtlsIdentity,
        role: DtlsRole,
        remote_fingerprint: &str,
        local: SocketAddr,
        remote: SocketAddr,
        timeout: Duration,
    ) -> (DtlsHandshake, DtlsChannels) {
        let (to_dtls, inbound) = mpsc::channel(64);
        let (outbound, from_dtls) = mpsc::channel(64);
        let expected = normalize_sha256(remote_fingerprint);
        let verify = Arc::new(
            move |certs: &[Vec<u8>], _: &[_]| -> Result<(), webrtc_dtls::Error> {
                let ok = certs
                    .first()
                    .zip(expected.as_deref())
                    .is_some_and(|(der, want)| fingerprint_sha256(der) == want);
                if ok {
                    Ok(())
                } else {
                    Err(webrtc_dtls::Error::ErrVerifyDataMismatch)
                }
            },
        );
        let config = Config {
            certificates: vec![identity.cert.clone()],
            srtp_protection_profiles: vec![
                SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm,
                SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80,
                SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_32,
            ],
            extended_master_secret: ExtendedMasterSecretType::Require,
            client_auth: ClientAuthType::RequireAnyClientCert,
            // The chain is self-signed: trust comes from the SDP fingerprint instead.
            insecure_skip_verify: true,
            verify_peer_certificate: Some(verify),
            ..Default::default()
        };
        let conn = Arc::new(ChannelConn {
            inbound: Mutex::new(inbound),
            outbound,
            local,
            remote,
        });
        (
            DtlsHandshake {
                conn,
                config,
                role,
                timeout,
            },
            DtlsChannels { to_dtls, from_dtls },
        )
    }

    /// Runs the handshake to completion and exports the SRTP keys.
    pub async fn run(self) -> Result<(DTLSConn, DtlsSrtpKeys), DtlsError> {
        let is_client = self.role == DtlsRole::Client;
        let conn: Arc<dyn Conn + Send + Sync> = self.conn;
        let dtls = tokio::time::timeout(
            self.timeout,
            DTLSConn::new(conn, self.config, is_client, None),
        )
        .await
        .map_err(|_| DtlsError::Timeout)?
        .map_err(|e| DtlsError::Handshake(e.to_string()))?;
        let profile = match dtls.selected_srtpprotection_profile() {
            SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_80 => SrtpProfile::Aes128CmHmacSha1_80,
            SrtpProtectionProfile::Srtp_Aes128_Cm_Hmac_Sha1_32 => SrtpProfile::Aes128CmHmacSha1_32,
            SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm => SrtpProfile::AeadAes128Gcm,
            _ => return Err(DtlsError::NoSrtpProfile),
        };
        let (kl, sl) = profile.key_salt_len();
        let state = dtls.connection_state().await;
        let km = state
            .export_keying_material("EXTRACTOR-dtls_srtp", &[], 2 * (kl + sl))
            .await
            .map_err(|e| DtlsError::Export(e.to_string()))?;
        // RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt
        let (ck, rest) = km.split_at(kl);
        let (sk, rest) = rest.split_at(kl);
        let (cs, ss) = rest.split_at(sl);
        let (local_key, remote_key, local_salt, remote_salt) = if is_client {
            (ck, sk, cs, ss)
        } else {
            (sk, ck, ss, cs)
        };
        Ok((
            dtls,
            DtlsSrtpKeys {
                profile,
                local_key: local_key.to_vec(),
                local_salt: local_salt.to_vec(),
                remote_key: remote_key.to_vec(),
                remote_salt: remote_salt.to_vec(),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_walks_the_headers_of_a_datagram() {
        let mut d = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xaa, 0xbb];
        d.extend([20, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        // A truncated third header is not a record.
        d.extend([22, 0xfe, 0xfd, 0, 1]);
        assert_eq!(records(&d).collect::<Vec<_>>(), [(22, 0), (20, 1)]);
        // A length past the end ends the walk after that record.
        assert_eq!(
            records(&[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1]).count(),
            1
        );
        assert_eq!(records(&[]).count(), 0);
    }

    /// Wires two handshakes back to back.
    async fn pair(
        server_expects: &str,
        client_expects: &str,
        a: &DtlsIdentity,
        b: &DtlsIdentity,
    ) -> (
        Result<DtlsSrtpKeys, DtlsError>,
        Result<DtlsSrtpKeys, DtlsError>,
    ) {
        let sa: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let sb: SocketAddr = "127.0.0.1:2000".parse().unwrap();
        let t = Duration::from_secs(5);
        let (hs, mut cs) = DtlsHandshake::new(a, DtlsRole::Server, server_expects, sa, sb, t);
        let (hc, mut cc) = DtlsHandshake::new(b, DtlsRole::Client, client_expects, sb, sa, t);
        let to_server = cs.to_dtls.clone();
        let to_client = cc.to_dtls.clone();
        tokio::spawn(async move {
            while let Some(p) = cs.from_dtls.recv().await {
                let _ = to_client.send(p).await;
            }
        });
        tokio::spawn(async move {
            while let Some(p) = cc.from_dtls.recv().await {
                let _ = to_server.send(p).await;
            }
        });
        let (rs, rc) = tokio::join!(hs.run(), hc.run());
        (rs.map(|(_, k)| k), rc.map(|(_, k)| k))
    }

    #[tokio::test]
    async fn handshake_exports_matching_keys() {
        let server = DtlsIdentity::generate().unwrap();
        let client = DtlsIdentity::generate().unwrap();
        assert_eq!(server.fingerprint_sha256().len(), 95);
        assert_ne!(server.fingerprint_sha256(), client.fingerprint_sha256());
        let (s, c) = pair(
            client.fingerprint_sha256(),
            server.fingerprint_sha256(),
            &server,
            &client,
        )
        .await;
        let (s, c) = (s.unwrap(), c.unwrap());
        assert_eq!(s.profile, c.profile);
        assert_eq!(s.local_key, c.remote_key);
        assert_eq!(s.local_salt, c.remote_salt);
        assert_eq!(s.remote_key, c.local_key);
        assert_ne!(s.local_key, s.remote_key);
        let (kl, sl) = s.profile.key_salt_len();
        assert_eq!((s.local_key.len(), s.local_salt.len()), (kl, sl));
    }

    #[tokio::test]
    async fn fingerprint_with_hash_name_and_lower_case_hex() {
        let server = DtlsIdentity::generate().unwrap();
        let client = DtlsIdentity::generate().unwrap();
        let with_name = format!("SHA-256 {}", client.fingerprint_sha256().to_lowercase());
        let (s, c) = pair(
            &with_name,
            &format!("sha-256 {}", server.fingerprint_sha256()),
            &server,
            &client,
        )
        .await;
        assert!(s.is_ok() && c.is_ok(), "{s:?} {c:?}");
    }

    #[test]
    fn fingerprint_forms() {
        assert_eq!(normalize_sha256(" ab:0c ").as_deref(), Some("AB:0C"));
        assert_eq!(normalize_sha256("Sha-256  ab:0c").as_deref(), Some("AB:0C"));
        assert_eq!(normalize_sha256("sha-1 AB:0C"), None);
    }

    #[tokio::test]
    async fn other_hash_function_fails() {
        let server = DtlsIdentity::generate().unwrap();
        let client = DtlsIdentity::generate().unwrap();
        let (s, _c) = pair(
            &format!("sha-1 {}", client.fingerprint_sha256()),
            server.fingerprint_sha256(),
            &server,
            &client,
        )
        .await;
        assert!(s.is_err(), "{s:?}");
    }

    #[tokio::test]
    async fn wrong_fingerprint_fails() {
        let server = DtlsIdentity::generate().unwrap();
        let client = DtlsIdentity::generate().unwrap();
        let other = DtlsIdentity::generate().unwrap();
        let (s, _c) = pair(
            other.fingerprint_sha256(),
            server.fingerprint_sha256(),
            &server,
            &client,
        )
        .await;
        assert!(
            matches!(s, Err(DtlsError::Handshake(_)) | Err(DtlsError::Timeout)),
            "{s:?}"
        );
    }
}
