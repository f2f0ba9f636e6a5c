//! Prometheus metrics, rendered in the text exposition format at `/metrics`.
//!
//! A small registry of counters and gauges keyed by name and label set. Nothing here is on
//! the per-packet path: media tasks aggregate their counters and add them in batches.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Metric kind, for the `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
}

struct Family {
    help: &'static str,
    kind: Kind,
    series: BTreeMap<Vec<(&'static str, String)>, f64>,
}

/// The registry.
pub struct Metrics {
    families: Mutex<BTreeMap<&'static str, Family>>,
}

/// The metric families the gateway exports, with their help text.
pub const FAMILIES: &[(&str, Kind, &str)] = &[
    ("rvoip_calls_active", Kind::Gauge, "Calls in progress."),
    (
        "rvoip_calls_total",
        Kind::Counter,
        "Calls ended, by outcome.",
    ),
    (
        "rvoip_registrations",
        Kind::Gauge,
        "Current registrations (bindings).",
    ),
    (
        "rvoip_sip_requests_total",
        Kind::Counter,
        "SIP requests received, by method.",
    ),
    (
        "rvoip_sip_responses_total",
        Kind::Counter,
        "SIP responses sent and received, by code and direction.",
    ),
    (
        "rvoip_rtp_packets_total",
        Kind::Counter,
        "RTP packets, by leg kind and direction.",
    ),
    (
        "rvoip_rtp_bytes_total",
        Kind::Counter,
        "RTP payload bytes, by leg kind and direction.",
    ),
    (
        "rvoip_rtp_lost_total",
        Kind::Counter,
        "RTP packets lost (from sequence gaps), by leg kind.",
    ),
    (
        "rvoip_rtp_jitter_ms",
        Kind::Gauge,
        "Mean interarrival jitter of active legs, by leg kind.",
    ),
    (
        "rvoip_transcoding_active",
        Kind::Gauge,
        "Calls being transcoded.",
    ),
    (
        "rvoip_dtls_failures_total",
        Kind::Counter,
        "DTLS handshakes that failed.",
    ),
    (
        "rvoip_dtmf_relayed_total",
        Kind::Counter,
        "DTMF digits received on a call leg and relayed to the other, by the kind of leg \
         they came from (webrtc, sip, trunk) and method (rfc4733, info).",
    ),
    (
        "rvoip_rate_limited_total",
        Kind::Counter,
        "SIP requests refused by the per-source rate limit.",
    ),
    (
        "rvoip_trunk_up",
        Kind::Gauge,
        "Trunk state from its OPTIONS keep-alive (1 up, 0 down), by trunk.",
    ),
    (
        "rvoip_trunk_options_total",
        Kind::Counter,
        "OPTIONS keep-alives ended, by trunk and result (status code or timeout).",
    ),
    (
        "rvoip_trunk_options_rtt_ms",
        Kind::Gauge,
        "Round-trip time of the last answered OPTIONS keep-alive, by trunk.",
    ),
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family of [`FAMILIES`] declared (so `/metrics` lists them all
    /// from the start, with zero values where no label set applies).
    pub fn new() -> Metrics {
        let mut families = BTreeMap::new();
        for &(name, kind, help) in FAMILIES {
            families.insert(
                name,
                Family {
                    help,
                    kind,
                    series: BTreeMap::new(),
                },
            );
        }
        Metrics {
            families: Mutex::new(families),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<&'static str, Family>) -> R) -> R {
        // Metrics are plain numbers: a poisoned lock still holds a usable map.
        let mut g = self.families.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Adds `v` to a series (creating it at 0). Unknown family names are ignored in release
    /// builds and a bug in debug builds.
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        self.with(|m| match m.get_mut(name) {
            Some(f) => {
                let key = labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
                *f.series.entry(key).or_insert(0.0) += v;
            }
            None => debug_assert!(false, "unknown metric {name}"),
        })
    }

    /// Increments a counter by one.
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1.0);
    }

    /// Sets a gauge.
    pub fn set(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        self.with(|m| match m.get_mut(name) {
            Some(f) => {
                let key = labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
                f.series.insert(key, v);
            }
            None => debug_assert!(false, "unknown metric {name}"),
        })
    }

    /// Current value of a series (tests, API).
    pub fn get(&self, name: &str, labels: &[(&'static str, &str)]) -> f64 {
        self.with(|m| {
            let key: Vec<(&'static str, String)> =
                labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
            m.get(name)
                .and_then(|f| f.series.get(&key))
                .copied()
                .unwrap_or(0.0)
        })
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            for (name, f) in m.iter() {
                let kind = match f.kind {
                    Kind::Counter => "counter",
                    Kind::Gauge => "gauge",
                };
                let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} {kind}", f.help);
                if f.series.is_empty() {
                    let _ = writeln!(out, "{name} 0");
                }
                for (labels, v) in &f.series {
                    out.push_str(name);
                    if !labels.is_empty() {
                        out.push('{');
                        for (i, (k, val)) in labels.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            let _ = write!(out, "{k}=\"{}\"", escape_label(val));
                        }
                        out.push('}');
                    }
                    let _ = writeln!(out, " {v}");
                }
            }
            out
        })
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_rendering() {
        let m = Metrics::new();
        m.inc("rvoip_calls_total", &[("outcome", "answered")]);
        m.inc("rvoip_calls_total", &[("outcome", "answered")]);
        m.inc("rvoip_calls_total", &[("outcome", "busy")]);
        m.set("rvoip_calls_active", &[], 3.0);
        m.set("rvoip_calls_active", &[], 2.0);
        m.add(
            "rvoip_rtp_packets_total",
            &[("leg", "webrtc"), ("dir", "in")],
            50.0,
        );
        assert_eq!(m.get("rvoip_calls_total", &[("outcome", "answered")]), 2.0);
        assert_eq!(m.get("rvoip_calls_active", &[]), 2.0);
        let text = m.render();
        assert!(
            text.contains("# TYPE rvoip_calls_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("rvoip_calls_total{outcome=\"answered\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("rvoip_calls_active 2\n"), "{text}");
        assert!(
            text.contains("rvoip_rtp_packets_total{leg=\"webrtc\",dir=\"in\"} 50\n"),
            "{text}"
        );
        assert!(
            text.contains("rvoip_dtls_failures_total 0\n"),
            "every family is listed: {text}"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::new();
        m.inc("rvoip_calls_total", &[("outcome", "failed: \"x\"\n")]);
        assert!(m.render().contains(r#"outcome="failed: \"x\"\n""#));
    }
}
