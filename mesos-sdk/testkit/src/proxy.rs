//! A TCP proxy on loopback that can refuse, delay or cut connections: faults between
//! real processes, injected without touching them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward them.
    Pass,
    /// Forward them after this delay.
    Delay(Duration),
    /// Close them at once.
    Refuse,
}

/// Forwards connections on its own port to `target`. Dropping it stops it and closes
/// every connection.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    mode: watch::Sender<ProxyMode>,
    cuts: watch::Sender<u64>,
    forwarded: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cuts.send_modify(|n| *n += 1);
    }
}

impl TcpProxy {
    /// A proxy to `target` on a port chosen by the OS.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let (mode, mode_rx) = watch::channel(ProxyMode::Pass);
        let (cuts, cuts_rx) = watch::channel(0u64);
        let forwarded = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept(
            listener,
            target,
            mode_rx,
            cuts_rx,
            forwarded.clone(),
        ));
        TcpProxy {
            addr,
            mode,
            cuts,
            forwarded,
            task,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes what happens to new connections.
    pub fn set_mode(&self, mode: ProxyMode) {
        self.mode.send_replace(mode);
    }

    /// Closes every open connection (both ends see it end).
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Connections forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }
}

async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    mode: watch::Receiver<ProxyMode>,
    cuts: watch::Receiver<u64>,
    forwarded: Arc<AtomicU64>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let now = *mode.borrow();
        if now == ProxyMode::Refuse {
            drop(client);
            continue;
        }
        let mut cuts = cuts.clone();
        cuts.mark_unchanged();
        let forwarded = forwarded.clone();
        tokio::spawn(async move {
            if let ProxyMode::Delay(delay) = now {
                tokio::time::sleep(delay).await;
            }
            let Ok(upstream) = TcpStream::connect(target).await else {
                return;
            };
            forwarded.fetch_add(1, Ordering::Relaxed);
            let (mut client, mut upstream) = (client, upstream);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                _ = cuts.changed() => {}
            }
        });
    }
}
