//! Gateway configuration: the embedded default (`gateway` with no arguments) and the TOML
//! file (`gateway --config gateway.toml`).
//!
//! Every field has a default, so a config file only names what it changes. Unknown keys are
//! an error (a typo must not be silently ignored), and every error names the key it is about:
//! `toml` reports the path of a badly typed or unknown key, and [`Config::validate`] reports
//! semantic errors (`media.port_min`, `trunks[1].host`, …) with the same dotted path.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP, WebSocket, web demo, console, API.
    pub http: HttpConfig,
    /// SIP listeners for trunks and SIP phones.
    pub sip: SipConfig,
    /// Media ports and addresses.
    pub media: MediaConfig,
    /// Where the database lives.
    pub storage: StorageConfig,
    /// Operator console login.
    pub admin: AdminConfig,
    /// Limits against overload and abuse.
    pub limits: LimitsConfig,
    /// Codec policy per leg kind.
    pub codecs: CodecConfig,
    /// Users defined in the config (in addition to those in the database).
    pub users: Vec<UserConfig>,
    /// SIP trunks to providers.
    pub trunks: Vec<TrunkConfig>,
    /// Dial plan rules, tried in order.
    pub dialplan: Vec<DialRule>,
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address of the HTTP/WebSocket listener.
    pub listen: SocketAddr,
    /// PEM certificate chain (leaf first) for HTTPS/WSS; plain HTTP/WS when absent. With
    /// it the whole listener (web demo, console, `/api`, `/metrics`, `/ws`) is HTTPS and SIP
    /// over it is WSS (RFC 7118).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert` (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub tls_key: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `[sip]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// UDP listener (none to disable).
    pub udp: Option<SocketAddr>,
    /// TCP listener (none to disable).
    pub tcp: Option<SocketAddr>,
    /// SIP-TLS listener (RFC 3261 §26, RFC 5630), e.g. `127.0.0.1:5061`; none by default.
    pub tls: Option<SocketAddr>,
    /// PEM certificate chain for the SIP-TLS listener; `http.tls_cert` when absent.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `sip.tls_cert`; `http.tls_key` when absent.
    pub tls_key: Option<PathBuf>,
    /// SIP domain: the realm of digest challenges and the host of local users' AORs.
    pub domain: String,
    /// Address to put in Via/Contact when the gateway is behind NAT.
    pub public_address: Option<IpAddr>,
    /// RFC 4028 session interval in seconds asked for on every call leg (0: no session
    /// timers). Default 1800.
    pub session_expires: u32,
    /// RFC 4028 Min-SE in seconds: smaller intervals are refused with 422. Default 90, the
    /// RFC's floor; lower values are for tests only.
    pub min_se: u32,
    /// Seconds a TCP/TLS connection the gateway opened (to a trunk) may carry no traffic
    /// before it is closed, unless a call or transaction still uses it; the next request
    /// opens a new one (0: never close). RFC 3261 §18 and RFC 5923 leave this to the
    /// implementation; the default, 300 s (5 minutes), outlasts an OPTIONS keep-alive
    /// interval and the pauses of a call set-up while freeing trunks we no longer talk to.
    pub connection_idle_timeout: u32,
}

impl Default for SipConfig {
    fn default() -> Self {
        let lo = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5060);
        SipConfig {
            udp: Some(lo),
            tcp: Some(lo),
            tls: None,
            tls_cert: None,
            tls_key: None,
            domain: "127.0.0.1".into(),
            public_address: None,
            session_expires: 1800,
            min_se: 90,
            connection_idle_timeout: 300,
        }
    }
}

/// `[media]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// Local address media sockets bind to.
    pub address: IpAddr,
    /// Address written into SDP (NAT); defaults to `address`.
    pub public_address: Option<IpAddr>,
    /// Lowest media port (inclusive).
    pub port_min: u16,
    /// Highest media port (inclusive).
    pub port_max: u16,
    /// Media threads (each runs one epoll loop over the sockets of its calls); 0 = one
    /// per CPU.
    pub threads: usize,
    /// Interrupt moderation (µs): a media thread that woke for only a few packets sleeps
    /// this long before waiting again, so it handles more packets per wake-up — less CPU
    /// per packet, at most this much added latency. 0 = off.
    pub batch_delay_us: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            public_address: None,
            port_min: 20000,
            port_max: 29999,
            threads: 0,
            batch_delay_us: 0,
        }
    }
}

/// `[storage]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Data directory; the SQLite database is `gateway.sqlite3` inside it.
    pub data_dir: PathBuf,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("rvoip-data"),
        }
    }
}

/// `[admin]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Console user name (default `admin`).
    pub username: Option<String>,
    /// Console password; when absent one is generated at first start, stored, and printed.
    pub password: Option<String>,
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Concurrent calls; past it new calls get 503.
    pub max_calls: u32,
    /// Concurrent registrations (bindings).
    pub max_registrations: u32,
    /// SIP requests per second accepted from one source host (IPv4 address, IPv6 /64)
    /// before rate limiting; see `sip::ratelimit` for the exemptions.
    pub requests_per_second_per_source: u32,
    /// Grace period for active calls on shutdown, in seconds.
    pub shutdown_grace_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_calls: 500,
            max_registrations: 10_000,
            requests_per_second_per_source: 50,
            shutdown_grace_seconds: 10,
        }
    }
}

/// `[codecs]`: codec names in order of preference.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodecConfig {
    /// Codecs offered/accepted on WebRTC legs.
    pub webrtc: Vec<String>,
    /// Codecs offered/accepted on trunk legs.
    pub trunk: Vec<String>,
}

impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig {
            webrtc: vec!["opus".into(), "PCMU".into(), "PCMA".into(), "G722".into()],
            trunk: vec!["PCMU".into(), "PCMA".into(), "G722".into()],
        }
    }
}

/// The codec names the gateway knows.
pub const KNOWN_CODECS: &[&str] = &["opus", "PCMU", "PCMA", "G722"];

/// `[[users]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// SIP user name (the user part of `sip:name@domain`).
    pub username: String,
    /// Digest password.
    pub password: String,
    /// Display name for calls from this user.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Inbound numbers (E.164) routed to this user.
    #[serde(default)]
    pub dids: Vec<String>,
}

/// Transport towards a trunk.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TrunkTransport {
    /// SIP over UDP.
    #[default]
    Udp,
    /// SIP over TCP.
    Tcp,
    /// SIP over TLS (RFC 3261 §26): the provider's certificate is verified against
    /// `tls_ca` or the webpki roots, with the trunk's host as server name (SNI).
    Tls,
}

/// `[[trunks]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Name used by the dial plan and in records.
    pub name: String,
    /// Provider host (IP literal or name) and port, e.g. `"sip.example.net:5060"`.
    pub host: String,
    /// Transport.
    #[serde(default)]
    pub transport: TrunkTransport,
    /// Outbound proxy (`host:port`) to send requests through instead of `host`.
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    /// Digest user name for registration and challenged INVITEs.
    #[serde(default)]
    pub username: Option<String>,
    /// Digest password.
    #[serde(default)]
    pub password: Option<String>,
    /// Register to the provider.
    #[serde(default)]
    pub register: bool,
    /// Registration expiry asked for, in seconds.
    #[serde(default = "default_register_expires")]
    pub register_expires: u32,
    /// Caller id (E.164) presented in From/P-Asserted-Identity; the caller's own when absent.
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Add P-Asserted-Identity.
    #[serde(default)]
    pub asserted_identity: bool,
    /// OPTIONS keep-alive interval in seconds (0 disables; the trunk is then always up).
    #[serde(default = "default_options_interval")]
    pub options_interval: u32,
    /// With `transport = "tls"`: PEM file of the CA certificates that may sign the
    /// provider's certificate, instead of the built-in webpki (Mozilla) roots.
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// With `transport = "tls"`: accept any certificate from the provider. The connection
    /// is still encrypted but anyone on the path can impersonate the provider and read or
    /// redirect calls; only for tests and providers with broken certificates.
    #[serde(default)]
    pub tls_insecure_skip_verify: bool,
}

fn default_register_expires() -> u32 {
    600
}

fn default_options_interval() -> u32 {
    30
}

/// Where a dial rule sends a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    /// A registered local user (the number after rewriting is the user name).
    User,
    /// These trunks, tried in order (failover on 5xx/timeout).
    Trunks(Vec<String>),
    /// The built-in echo test.
    Echo,
    /// The built-in tone.
    Tone,
}

impl<'de> Deserialize<'de> for DialTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "user" => Ok(DialTarget::User),
            "echo" => Ok(DialTarget::Echo),
            "tone" => Ok(DialTarget::Tone),
            t if t.starts_with("trunk:") => {
                let names: Vec<String> = t["trunk:".len()..]
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
                if names.is_empty() {
                    return Err(serde::de::Error::custom(
                        "`trunk:` needs at least one trunk name",
                    ));
                }
                Ok(DialTarget::Trunks(names))
            }
            other => Err(serde::de::Error::custom(format!(
                "unknown target `{other}`: expected `user`, `echo`, `tone` or `trunk:NAME[,NAME…]`"
            ))),
        }
    }
}

/// `[[dialplan]]`: a rule matching the dialled number.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DialRule {
    /// Pattern: digits and `X` (any digit), `N` (2–9), `Z` (1–9), `.` (one or more of
    /// anything, only at the end), `+` literal; or `*` for anything.
    pub pattern: String,
    /// Digits removed from the front before `prepend`.
    #[serde(default)]
    pub strip: usize,
    /// Prefix added after stripping (e.g. `+1`).
    #[serde(default)]
    pub prepend: String,
    /// Where the call goes.
    pub target: DialTarget,
}

/// A configuration error, naming the key it is about.
#[derive(Debug)]
pub struct ConfigError {
    /// Dotted path of the key (`media.port_min`), or the file for I/O errors.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config error at `{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// The embedded default: everything on 127.0.0.1, demo users come from the database
    /// (created on first start), echo (`600`/`echo`) and tone (`601`/`tone`) extensions.
    pub fn embedded_default() -> Config {
        let rule = |pattern: &str, target| DialRule {
            pattern: pattern.into(),
            strip: 0,
            prepend: String::new(),
            target,
        };
        Config {
            dialplan: vec![
                rule("600", DialTarget::Echo),
                rule("echo", DialTarget::Echo),
                rule("601", DialTarget::Tone),
                rule("tone", DialTarget::Tone),
                DialRule {
                    pattern: "*".into(),
                    strip: 0,
                    prepend: String::new(),
                    target: DialTarget::User,
                },
            ],
            ..Config::default()
        }
    }

    /// Parses a TOML document and validates it.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let line_of = |e: &toml::de::Error| {
            e.span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        };
        let de = toml::Deserializer::parse(text).map_err(|e| {
            let at = line_of(&e)
                .map(|l| format!("line {l}"))
                .unwrap_or_else(|| "document".into());
            err(at, e.message().to_string())
        })?;
        let c: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            let line = line_of(&inner)
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default();
            err(key, format!("{}{line}", inner.message()))
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(path.display().to_string(), format!("cannot read: {e}")))?;
        Config::from_toml(&text)
    }

    /// Semantic checks the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.media.port_min == 0 {
            return Err(err("media.port_min", "must be at least 1"));
        }
        if self.media.port_min > self.media.port_max {
            return Err(err(
                "media.port_min",
                "must not be greater than media.port_max",
            ));
        }
        if self.http.tls_cert.is_some() != self.http.tls_key.is_some() {
            return Err(err(
                "http.tls_cert",
                "tls_cert and tls_key must be given together",
            ));
        }
        if self.sip.tls_cert.is_some() != self.sip.tls_key.is_some() {
            return Err(err(
                "sip.tls_cert",
                "tls_cert and tls_key must be given together",
            ));
        }
        if self.sip.tls.is_some() && self.sip.tls_cert.is_none() && self.http.tls_cert.is_none() {
            return Err(err(
                "sip.tls",
                "a SIP-TLS listener needs a certificate: sip.tls_cert and sip.tls_key \
                 (or http.tls_cert and http.tls_key)",
            ));
        }
        if self.sip.domain.trim().is_empty() {
            return Err(err("sip.domain", "must not be empty"));
        }
        if self.sip.min_se == 0 {
            return Err(err("sip.min_se", "must be at least 1"));
        }
        if self.sip.session_expires != 0 && self.sip.session_expires < self.sip.min_se {
            return Err(err(
                "sip.session_expires",
                "must be 0 (off) or at least sip.min_se",
            ));
        }
        if self.limits.max_calls == 0 {
            return Err(err("limits.max_calls", "must be at least 1"));
        }
        for (key, list) in [
            ("codecs.webrtc", &self.codecs.webrtc),
            ("codecs.trunk", &self.codecs.trunk),
        ] {
            if list.is_empty() {
                return Err(err(key, "needs at least one codec"));
            }
            for (i, c) in list.iter().enumerate() {
                if !KNOWN_CODECS.iter().any(|k| k.eq_ignore_ascii_case(c)) {
                    return Err(err(
                        format!("{key}[{i}]"),
                        format!("unknown codec `{c}` (known: {})", KNOWN_CODECS.join(", ")),
                    ));
                }
            }
        }
        let mut names = HashSet::new();
        for (i, u) in self.users.iter().enumerate() {
            if u.username.is_empty() || !u.username.chars().all(is_user_char) {
                return Err(err(
                    format!("users[{i}].username"),
                    "must be non-empty letters, digits, `.`, `-`, `_`, `+`",
                ));
            }
            if u.password.is_empty() {
                return Err(err(format!("users[{i}].password"), "must not be empty"));
            }
            if !names.insert(u.username.as_str()) {
                return Err(err(
                    format!("users[{i}].username"),
                    format!("duplicate user `{}`", u.username),
                ));
            }
        }
        let mut trunk_names = HashSet::new();
        for (i, t) in self.trunks.iter().enumerate() {
            if t.name.is_empty() || !trunk_names.insert(t.name.as_str()) {
                return Err(err(
                    format!("trunks[{i}].name"),
                    "must be non-empty and unique",
                ));
            }
            if !valid_host_port(&t.host) {
                return Err(err(
                    format!("trunks[{i}].host"),
                    format!("`{}` is not host[:port]", t.host),
                ));
            }
            if let Some(p) = &t.outbound_proxy
                && !valid_host_port(p)
            {
                return Err(err(
                    format!("trunks[{i}].outbound_proxy"),
                    format!("`{p}` is not host[:port]"),
                ));
            }
            if t.transport != TrunkTransport::Tls {
                if t.tls_ca.is_some() {
                    return Err(err(
                        format!("trunks[{i}].tls_ca"),
                        "only for transport = \"tls\"",
                    ));
                }
                if t.tls_insecure_skip_verify {
                    return Err(err(
                        format!("trunks[{i}].tls_insecure_skip_verify"),
                        "only for transport = \"tls\"",
                    ));
                }
            } else if t.tls_ca.is_some() && t.tls_insecure_skip_verify {
                return Err(err(
                    format!("trunks[{i}].tls_insecure_skip_verify"),
                    "contradicts tls_ca: give one or the other",
                ));
            }
            if t.register && (t.username.is_none() || t.password.is_none()) {
                return Err(err(
                    format!("trunks[{i}].register"),
                    "registration needs username and password",
                ));
            }
        }
        for (i, r) in self.dialplan.iter().enumerate() {
            if let Err(m) = crate::dialplan::check_pattern(&r.pattern) {
                return Err(err(format!("dialplan[{i}].pattern"), m));
            }
            if let DialTarget::Trunks(ts) = &r.target {
                for t in ts {
                    if !trunk_names.contains(t.as_str()) {
                        return Err(err(
                            format!("dialplan[{i}].target"),
                            format!("no trunk named `{t}`"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Address written into SDP for media.
    pub fn media_sdp_address(&self) -> IpAddr {
        self.media.public_address.unwrap_or(self.media.address)
    }
}

fn is_user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+')
}

fn valid_host_port(s: &str) -> bool {
    if s.parse::<SocketAddr>().is_ok() || s.parse::<IpAddr>().is_ok() {
        return true;
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid_and_on_loopback() {
        let c = Config::embedded_default();
        c.validate().unwrap();
        assert_eq!(c.http.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.sip.udp, Some("127.0.0.1:5060".parse().unwrap()));
        assert!(c.dialplan.iter().any(|r| r.target == DialTarget::Echo));
        assert!(c.dialplan.iter().any(|r| r.target == DialTarget::Tone));
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../gateway.example.toml");
        let c = Config::from_toml(text).unwrap();
        assert_eq!(c.trunks.len(), 2);
        assert_eq!(c.dialplan[0].target, DialTarget::Echo);
        assert!(
            matches!(&c.dialplan.last().unwrap().target, DialTarget::Trunks(t) if t.len() == 2)
        );
    }

    #[test]
    fn errors_name_the_key() {
        let e = Config::from_toml("[media]\nport_min = 3000\nport_max = 2000\n").unwrap_err();
        assert_eq!(e.key, "media.port_min");
        let e = Config::from_toml("[media]\nport_mni = 3000\n").unwrap_err();
        assert!(
            e.message.contains("port_mni") && e.message.contains("line 2"),
            "{e}"
        );
        assert_eq!(e.key, "media.port_mni");
        let e = Config::from_toml("[sip]\nudp = \"nonsense\"\n").unwrap_err();
        assert_eq!(e.key, "sip.udp", "{e}");
        let e = Config::from_toml("[sip\nudp = 1\n").unwrap_err();
        assert_eq!(e.key, "line 1", "{e}");
        let e = Config::from_toml("[[dialplan]]\npattern = \"1NXX\"\ntarget = \"trunk:nope\"\n")
            .unwrap_err();
        assert_eq!(e.key, "dialplan[0].target");
        let e = Config::from_toml("[codecs]\ntrunk = [\"PCMU\", \"GSM\"]\n").unwrap_err();
        assert_eq!(e.key, "codecs.trunk[1]");
        let e = Config::from_toml("[[trunks]]\nname = \"a\"\nhost = \"bad host\"\n").unwrap_err();
        assert_eq!(e.key, "trunks[0].host");
        let e = Config::from_toml("[[users]]\nusername = \"a b\"\npassword = \"x\"\n").unwrap_err();
        assert_eq!(e.key, "users[0].username");
    }

    #[test]
    fn tls_keys_are_checked() {
        let e = Config::from_toml("[sip]\ntls = \"127.0.0.1:5061\"\n").unwrap_err();
        assert_eq!(e.key, "sip.tls", "{e}");
        let e = Config::from_toml("[sip]\ntls_cert = \"c.pem\"\n").unwrap_err();
        assert_eq!(e.key, "sip.tls_cert", "{e}");
        let c = Config::from_toml(
            "[http]\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n[sip]\ntls = \"127.0.0.1:5061\"\n",
        )
        .unwrap();
        assert_eq!(c.sip.tls, Some("127.0.0.1:5061".parse().unwrap()));
        let e =
            Config::from_toml("[[trunks]]\nname = \"a\"\nhost = \"h:5061\"\ntls_ca = \"ca.pem\"\n")
                .unwrap_err();
        assert_eq!(e.key, "trunks[0].tls_ca", "{e}");
        let e = Config::from_toml(
            "[[trunks]]\nname = \"a\"\nhost = \"h:5061\"\ntransport = \"tls\"\n\
             tls_ca = \"ca.pem\"\ntls_insecure_skip_verify = true\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "trunks[0].tls_insecure_skip_verify", "{e}");
        let c =
            Config::from_toml("[[trunks]]\nname = \"a\"\nhost = \"h:5061\"\ntransport = \"tls\"\n")
                .unwrap();
        assert_eq!(c.trunks[0].transport, TrunkTransport::Tls);
    }

    #[test]
    fn host_port_validation() {
        assert!(valid_host_port("sip.example.net"));
        assert!(valid_host_port("sip.example.net:5080"));
        assert!(valid_host_port("127.0.0.1:5060"));
        assert!(valid_host_port("[::1]:5060"));
        assert!(!valid_host_port("sip.example.net:0"));
        assert!(!valid_host_port("a b"));
        assert!(!valid_host_port(""));
    }
}
