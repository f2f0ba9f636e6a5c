//! Transactions per second through the RFC 3261 §17 machines, no sockets.
//!
//! - `machines/non_invite`: client builds and serializes a MESSAGE, server parses it with
//!   the shared message layer, validates it, matches it (TxKey), creates its server
//!   transaction, builds and serializes the 200; client parses and validates the 200,
//!   matches it to its client transaction and delivers it.
//! - `ua/message`: the same through two whole user agents (`send_message` →
//!   `handle_receive` → 200 → `MessageStatus`), reliable transport (Timers J/K = 0).
//! - `ua/invite_call`: a full call between two user agents: INVITE/100/180/200/ACK and
//!   BYE/200 (two transactions plus the ACK).
#![allow(missing_docs)]

extern crate alloc;
use alloc::collections::BTreeMap;
use core::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvoip::rand::SplitMix64;
use rvoip::sip::Message;
use rvoip::sip::transaction::{
    ClientTransaction, ResponseAction, ServerTransaction, TimerConfig, TxKey,
};
use rvoip::sip::ua::msg::{Method, SipMsg};
use rvoip::sip::ua::{Event, Received, Transport, UaConfig, UserAgent};
use rvoip::sip::validate::{ValidateConfig, validate, validate_response};
use rvoip::time::Instant;

fn request(branch: u64) -> SipMsg {
    let mut m = SipMsg::request(Method::Message, "sip:bob@10.0.0.2:5060");
    m.push(
        "Via",
        format!("SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK{branch:016x};rport"),
    );
    m.push("Max-Forwards", "70");
    m.push("From", "<sip:alice@example.com>;tag=a73kszlfl");
    m.push("To", "<sip:bob@example.com>");
    m.push("Call-ID", format!("{branch:x}@10.0.0.1"));
    m.push("CSeq", "1 MESSAGE");
    m.push("Content-Type", "application/sdp");
    m.body = b"hello".to_vec();
    m
}

/// One complete non-INVITE transaction, client and server side, through the machines.
struct Machines {
    n: u64,
    clients: BTreeMap<TxKey, ClientTransaction>,
    servers: BTreeMap<TxKey, ServerTransaction>,
}

impl Machines {
    fn one(&mut self) -> ResponseAction {
        let cfg = TimerConfig::default();
        let now = Instant::ZERO;
        let (clients, servers) = (&mut self.clients, &mut self.servers);
        {
            self.n += 1;
            let n = self.n;
            // Client: build, serialize, start the transaction.
            let req = request(n);
            let bytes = req.to_bytes();
            let ckey = TxKey::for_request(req.branch().unwrap(), Method::Message);
            clients.insert(
                ckey,
                ClientTransaction::new(now, cfg, false, true, bytes.clone()),
            );
            // Server: parse (shared message layer), validate, match, new transaction, respond.
            let parsed = Message::parse(&bytes).unwrap();
            validate(parsed.as_request().unwrap(), &ValidateConfig::default()).unwrap();
            let rx = SipMsg::from_message(&parsed);
            let skey = TxKey::server(&rx).unwrap();
            let mut stx = ServerTransaction::new(cfg, false, true);
            let resp = rvoip::sip::ua::response(&rx, 200, Some("b5qt9xl3"));
            let rbytes = resp.to_bytes();
            assert!(stx.send_response(now, 200, rbytes.clone()));
            if !stx.is_terminated() {
                servers.insert(skey, stx);
            }
            // Client: parse the response, match, deliver.
            let parsed = Message::parse(&rbytes).unwrap();
            validate_response(parsed.as_response().unwrap()).unwrap();
            let r = SipMsg::from_message(&parsed);
            let key = TxKey::client(&r).unwrap();
            let tx = clients.get_mut(&key).unwrap();
            let action = tx.handle_response(now, r.code().unwrap());
            assert_eq!(action, ResponseAction::Deliver);
            if tx.is_terminated() {
                clients.remove(&key);
            }
            action
        }
    }
}

/// Nanoseconds of CPU (user + system) this thread has used (Linux `/proc/thread-self/stat`,
/// 10 ms ticks), to report a figure that does not depend on how loaded the machine is.
fn on_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

/// Prints the CPU time per iteration of `f` (transactions per second of CPU actually used
/// by this thread), independent of how loaded the machine is.
fn cpu_figure(name: &str, iterations: u64, mut f: impl FnMut()) {
    let Some(start) = on_cpu_ns() else { return };
    for _ in 0..iterations {
        f();
    }
    if let Some(end) = on_cpu_ns() {
        let per = (end - start) as f64 / iterations as f64;
        println!(
            "{name} CPU time: {per:.0} ns per iteration = {:.0} per second per core",
            1e9 / per
        );
    }
}

fn machines(c: &mut Criterion) {
    let mut m = Machines {
        n: 0,
        clients: BTreeMap::new(),
        servers: BTreeMap::new(),
    };
    cpu_figure("machines/non_invite", 400_000, || {
        black_box(m.one());
    });
    let mut g = c.benchmark_group("machines");
    g.throughput(Throughput::Elements(1));
    g.bench_function("non_invite", |b| b.iter(|| black_box(m.one())));
    g.finish();
}

fn pair() -> (UserAgent<SplitMix64>, UserAgent<SplitMix64>) {
    let mk = |user: &str, port: u16, seed| {
        let mut c = UaConfig::new(
            format!("sip:{user}@example.com"),
            ([10, 0, 0, 1], port).into(),
        );
        c.transport = Transport::Tcp;
        UserAgent::new(c, SplitMix64::new(seed))
    };
    (mk("alice", 5060, 1), mk("bob", 5070, 2))
}

/// Moves every pending message between the two UAs until both are idle.
fn shuttle(
    a: &mut UserAgent<SplitMix64>,
    b: &mut UserAgent<SplitMix64>,
    now: Instant,
    mut on_b: impl FnMut(&mut UserAgent<SplitMix64>, Event),
) -> usize {
    let (pa, pb) = (a.config().local_addr, b.config().local_addr);
    let mut moved = 0;
    loop {
        let mut any = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_receive(
                now,
                Received {
                    transport: Transport::Tcp,
                    source: pa,
                    bytes: &t.bytes,
                },
            );
            any = true;
            moved += 1;
        }
        while let Some(e) = b.poll_event() {
            on_b(b, e);
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_receive(
                now,
                Received {
                    transport: Transport::Tcp,
                    source: pb,
                    bytes: &t.bytes,
                },
            );
            any = true;
            moved += 1;
        }
        while a.poll_event().is_some() {}
        if !any {
            return moved;
        }
    }
}

fn user_agents(c: &mut Criterion) {
    let mut g = c.benchmark_group("ua");
    g.throughput(Throughput::Elements(1));
    let (mut a, mut b) = pair();
    let now = Instant::ZERO;
    cpu_figure("ua/message", 100_000, || {
        a.send_message(now, "sip:bob@10.0.0.1:5070", "hello")
            .unwrap();
        black_box(shuttle(&mut a, &mut b, now, |_, _| {}));
    });
    g.bench_function("message", |bench| {
        bench.iter(|| {
            a.send_message(now, "sip:bob@10.0.0.1:5070", "hello")
                .unwrap();
            black_box(shuttle(&mut a, &mut b, now, |_, _| {}))
        })
    });
    assert_eq!(a.transaction_count() + b.transaction_count(), 0);
    let (mut a, mut b) = pair();
    let mut now = Instant::ZERO;
    let mut i = 0u64;
    let mut one_call = move || {
        // Timers L/M (64·T1) keep INVITE transactions after the 2xx; let them expire.
        i += 1;
        now += rvoip::time::Duration::from_millis(10);
        if i.is_multiple_of(256) {
            a.handle_timeout(now);
            b.handle_timeout(now);
        }
        let call = a.call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n").unwrap();
        shuttle(&mut a, &mut b, now, |b, e| {
            if let Event::IncomingCall { call, .. } = e {
                b.answer(now, call, b"v=0\r\n").unwrap();
            }
        });
        a.hangup(now, call).unwrap();
        black_box(shuttle(&mut a, &mut b, now, |_, _| {}))
    };
    cpu_figure("ua/invite_call", 20_000, || {
        one_call();
    });
    g.bench_function("invite_call", |bench| bench.iter(&mut one_call));
    g.finish();
}

criterion_group!(benches, machines, user_agents);
criterion_main!(benches);
