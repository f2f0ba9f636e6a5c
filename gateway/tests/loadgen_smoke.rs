//! The load generator, small: a few calls for two seconds against the real `gateway`
//! binary, passthrough and transcoding. Every call must be set up, media must arrive both
//! ways with under 1 % loss and sane latencies, and the gateway's counters must return to
//! zero — so the tool cannot silently rot.

use std::time::Duration;

use rvoip_gateway::loadgen::{self, LoadConfig, Report};

async fn run(calls: usize, transcode: bool) -> Report {
    let mut cfg = LoadConfig::new(calls, Duration::from_secs(2));
    cfg.gateway_bin = env!("CARGO_BIN_EXE_gateway").into();
    cfg.transcode = transcode;
    cfg.rate = 20.0;
    cfg.baseline_streams = 2;
    // The bare-relay floor once (it measures the machine, not the codec path).
    cfg.relay_floor = !transcode;
    let r = loadgen::run(cfg).await.expect("the load runs");
    println!("{r}");
    r
}

fn check(r: &Report, calls: usize) {
    assert_eq!((r.ok, r.failed), (calls, 0), "every call is set up: {r}");
    assert_eq!(r.setup_ms.n, calls, "{r}");
    assert!(r.setup_ms.p50 > 0.0, "{r}");
    for (name, d) in [("A→B", &r.a_to_b), ("B→A", &r.b_to_a)] {
        // 2 s at 50 packets/s per call (half of it, on a machine this busy), at least.
        assert!(d.packets_sent >= 50 * calls as u64, "{name}: {r}");
        assert!(d.received > 0, "{name}: nothing arrived: {r}");
        let rtp_ratio = d.packets_received as f64 / d.packets_sent as f64;
        if r.transcode {
            // The transcoder plays its own stream out of a jitter buffer (concealing what
            // is missing or late), so packet counts are not a loss measure there, and the
            // timing is on a few bursts per call: on a loaded machine the jitter buffer
            // drops some late input (no onset). Most must still arrive.
            assert!(rtp_ratio > 0.8, "{name}: transcoded stream thin: {r}");
            assert!(d.loss() < 0.5, "{name}: bursts missed: {r}");
        } else {
            // Passthrough: every packet is timed and must arrive.
            assert!(rtp_ratio > 0.99, "{name}: RTP loss: {r}");
            assert!(
                d.loss() < 0.01,
                "{name}: loss {:.3} %: {r}",
                d.loss() * 100.0
            );
        }
        if !r.transcode {
            // (Transcoded: a burst's concealment can show a second onset, counted as a
            // duplicate of the same burst and not timed twice.)
            assert_eq!(d.anomalies.0, 0, "{name}: duplicates: {r}");
        }
        assert_eq!(
            d.anomalies.2, 0,
            "{name}: packets matched before they were sent: {r}"
        );
        assert!(
            d.latency_us.p50 > 0.0 && d.latency_us.max < 2_000_000.0,
            "{name}: latency: {r}"
        );
    }
    assert!(r.baseline.received > 0, "{r}");
    let transcoded = if r.transcode { calls } else { 0 };
    assert_eq!(
        r.gw_calls,
        (calls, transcoded),
        "the gateway carried the calls on the path under test: {r}"
    );
    assert!(r.window_s >= 2.0, "{r}");
    assert!(r.gw_cpu_s > 0.0, "the gateway's CPU time is read: {r}");
    assert!(r.rss_idle_kib > 0 && r.rss_loaded_kib > 0, "{r}");
    let after = r
        .after
        .expect("the gateway answered /api/stats after the run");
    assert!(
        r.clean && after.calls == 0 && after.media_ports == 0 && after.call_tasks == 0,
        "the gateway released every call and port: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_calls_carry_media_both_ways_and_release_everything() {
    let r = run(5, false).await;
    check(&r, 5);
    // The bare relay carried as many streams, both ways, and its CPU time was read.
    let relay = r.relay.as_ref().expect("the relay floor ran");
    assert_eq!(relay.streams, 5, "{r}");
    assert!(relay.packets >= 50 * 5, "{r}");
    assert!(relay.path.received > 0 && relay.path.loss() < 0.01, "{r}");
    assert!(relay.window_s >= 2.0, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcoded_calls_carry_media_both_ways_and_release_everything() {
    let r = run(3, true).await;
    assert!(r.transcode);
    check(&r, 3);
}
