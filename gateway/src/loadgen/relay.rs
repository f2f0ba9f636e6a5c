//! The floor a user-space relay cannot go below on this machine: a bare UDP relay (one
//! thread, one epoll loop, `recvfrom` → `sendto`, no SRTP, no RTP parsing, no statistics)
//! carrying the same kind of streams over the same loopback path as the gateway. Its CPU
//! time per packet is what the kernel's UDP path (and the wake-ups of the receiving peers)
//! costs; the gateway's figure is compared with it in the report.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

/// A running relay: stream `i` enters at `addrs()[i].0` (from the "client") and at
/// `addrs()[i].1` (from the "sink"); each side's first source is latched and gets what
/// the other side sends.
pub struct Relay {
    addrs: Vec<(SocketAddr, SocketAddr)>,
    stop: Arc<AtomicBool>,
    packets: Arc<AtomicU64>,
    tid: std::sync::mpsc::Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
    task_stat: Option<String>,
}

impl Relay {
    /// Binds two sockets per stream on 127.0.0.1 and starts the relay thread.
    pub fn start(streams: usize) -> std::io::Result<Relay> {
        let mut socks = Vec::with_capacity(2 * streams);
        let mut addrs = Vec::with_capacity(streams);
        for _ in 0..streams {
            let f = std::net::UdpSocket::bind("127.0.0.1:0")?;
            let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
            f.set_nonblocking(true)?;
            b.set_nonblocking(true)?;
            addrs.push((f.local_addr()?, b.local_addr()?));
            socks.push(UdpSocket::from_std(f));
            socks.push(UdpSocket::from_std(b));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let packets = Arc::new(AtomicU64::new(0));
        let (tid_tx, tid) = std::sync::mpsc::channel();
        let (stop2, packets2) = (stop.clone(), packets.clone());
        let thread = std::thread::Builder::new()
            .name("loadgen-relay".into())
            .spawn(move || {
                // "PID/task/TID": where this thread's CPU time is.
                if let Ok(p) = std::fs::read_link("/proc/thread-self") {
                    let _ = tid_tx.send(format!("/proc/{}/stat", p.display()));
                }
                if let Err(e) = run(socks, &stop2, &packets2) {
                    eprintln!("loadgen relay: {e}");
                }
            })?;
        Ok(Relay {
            addrs,
            stop,
            packets,
            tid,
            thread: Some(thread),
            task_stat: None,
        })
    }

    /// The two entry addresses of each stream.
    pub fn addrs(&self) -> &[(SocketAddr, SocketAddr)] {
        &self.addrs
    }

    /// Packets relayed so far.
    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    /// CPU seconds the relay thread used so far.
    pub fn cpu_seconds(&mut self) -> Option<f64> {
        if self.task_stat.is_none() {
            self.task_stat = self.tid.recv_timeout(Duration::from_secs(1)).ok();
        }
        super::gwproc::stat_cpu_seconds(&std::fs::read_to_string(self.task_stat.as_ref()?).ok()?)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(mut socks: Vec<UdpSocket>, stop: &AtomicBool, packets: &AtomicU64) -> std::io::Result<()> {
    let mut poll = Poll::new()?;
    for (i, s) in socks.iter_mut().enumerate() {
        poll.registry().register(s, Token(i), Interest::READABLE)?;
    }
    let mut latched: Vec<Option<SocketAddr>> = vec![None; socks.len()];
    let mut events = Events::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        poll.poll(&mut events, Some(Duration::from_millis(50)))?;
        for ev in events.iter() {
            let i = ev.token().0;
            // The other side of the stream: front 2k ⇄ back 2k+1.
            let o = i ^ 1;
            while let Ok((n, from)) = socks[i].recv_from(&mut buf) {
                latched[i].get_or_insert(from);
                if let Some(to) = latched[o] {
                    let _ = socks[o].send_to(&buf[..n], to);
                    packets.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    Ok(())
}
