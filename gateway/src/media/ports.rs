//! Media port allocation from the configured range (`[media] port_min..=port_max`).
//!
//! [`PortAllocator::bind`] finds a free port (an even one for RTP when an RTCP port is
//! wanted too, RFC 3550 §11), binds the UDP socket(s) on the media address and returns a
//! [`PortLease`] that frees the port(s) when dropped (RAII). [`PortAllocator::in_use`]
//! counts the ports currently leased, so tests can assert it returns to zero.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

/// Shared allocator of UDP ports in `min..=max` on one address.
#[derive(Clone)]
pub struct PortAllocator {
    inner: Arc<Inner>,
}

struct Inner {
    address: IpAddr,
    min: u16,
    max: u16,
    state: Mutex<State>,
}

struct State {
    used: BTreeSet<u16>,
    next: u16,
}

/// Ports held by one leg; freed on drop.
pub struct PortLease {
    inner: Arc<Inner>,
    ports: Vec<u16>,
}

/// Sockets bound for one leg, with their lease.
pub struct BoundPorts {
    /// The RTP (or only, with rtcp-mux) socket.
    pub rtp: std::net::UdpSocket,
    /// The RTCP socket on port + 1, if asked for.
    pub rtcp: Option<std::net::UdpSocket>,
    /// The lease: drop it after the sockets.
    pub lease: PortLease,
}

/// No port could be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoPortAvailable;

impl std::fmt::Display for NoPortAvailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no free media port in the configured range")
    }
}

impl std::error::Error for NoPortAvailable {}

impl PortAllocator {
    /// An allocator for `min..=max` on `address`.
    pub fn new(address: IpAddr, min: u16, max: u16) -> PortAllocator {
        let (min, max) = (min.min(max), max.max(min));
        PortAllocator {
            inner: Arc::new(Inner {
                address,
                min,
                max,
                state: Mutex::new(State {
                    used: BTreeSet::new(),
                    next: min,
                }),
            }),
        }
    }

    /// The media address sockets bind to.
    pub fn address(&self) -> IpAddr {
        self.inner.address
    }

    /// Ports currently leased.
    pub fn in_use(&self) -> usize {
        self.lock().used.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The set stays consistent even if a holder panicked.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Binds a socket (and one on port + 1 when `with_rtcp`) on a free port of the range.
    /// Ports taken by other programs are skipped.
    pub fn bind(&self, with_rtcp: bool) -> Result<BoundPorts, NoPortAvailable> {
        let span = u32::from(self.inner.max - self.inner.min) + 1;
        let mut st = self.lock();
        let mut candidate = st.next;
        for _ in 0..span {
            let p = candidate;
            candidate = if p >= self.inner.max {
                self.inner.min
            } else {
                p + 1
            };
            if with_rtcp && (!p.is_multiple_of(2) || p >= self.inner.max) {
                continue;
            }
            if st.used.contains(&p) || (with_rtcp && st.used.contains(&(p + 1))) {
                continue;
            }
            let Ok(rtp) = std::net::UdpSocket::bind(SocketAddr::new(self.inner.address, p)) else {
                continue;
            };
            let rtcp = if with_rtcp {
                match std::net::UdpSocket::bind(SocketAddr::new(self.inner.address, p + 1)) {
                    Ok(s) => Some(s),
                    Err(_) => continue,
                }
            } else {
                None
            };
            let mut ports = vec![p];
            if with_rtcp {
                ports.push(p + 1);
            }
            for &q in &ports {
                st.used.insert(q);
            }
            st.next = candidate;
            return Ok(BoundPorts {
                rtp,
                rtcp,
                lease: PortLease {
                    inner: self.inner.clone(),
                    ports,
                },
            });
        }
        Err(NoPortAvailable)
    }
}

impl PortLease {
    /// The leased ports.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        let mut st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        for p in &self.ports {
            st.used.remove(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_freed_and_rtcp_pairs_are_even() {
        let a = PortAllocator::new("127.0.0.1".parse().unwrap(), 31000, 31011);
        let x = a.bind(true).unwrap();
        assert_eq!(x.lease.ports().len(), 2);
        assert_eq!(x.lease.ports()[0] % 2, 0);
        let y = a.bind(false).unwrap();
        assert_eq!(a.in_use(), 3);
        assert_ne!(x.rtp.local_addr().unwrap(), y.rtp.local_addr().unwrap());
        drop(x);
        assert_eq!(a.in_use(), 1);
        drop(y);
        assert_eq!(a.in_use(), 0);
    }

    #[test]
    fn exhaustion_is_an_error() {
        let a = PortAllocator::new("127.0.0.1".parse().unwrap(), 31020, 31021);
        let x = a.bind(false).unwrap();
        let y = a.bind(false).unwrap();
        assert_eq!(a.bind(false).err(), Some(NoPortAvailable));
        drop((x, y));
        assert!(a.bind(true).is_ok());
    }
}
