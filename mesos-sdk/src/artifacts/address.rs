//! Which address agents reach this machine at: the one it uses to reach the master.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ArtifactError;

/// The local IP address this machine uses to reach `master` (`http://host:port`, a
/// comma-separated list of them, or `zk://host:port,.../path`, whose first ZooKeeper
/// host is used): agents on the master's network reach this machine there. It asks
/// the OS for the route (a UDP socket connected to the master; nothing is sent).
///
/// ```no_run
/// # async fn demo() -> Result<(), mesos_sdk::artifacts::ArtifactError> {
/// let ip = mesos_sdk::artifacts::advertise_ip_for("http://127.0.0.1:5050").await?;
/// assert!(ip.is_loopback());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`ArtifactError::Advertise`] when the address cannot be parsed or resolved, or no
/// route leads to it.
pub async fn advertise_ip_for(master: &str) -> Result<IpAddr, ArtifactError> {
    let fail = |reason: String| ArtifactError::Advertise {
        master: master.to_owned(),
        reason,
    };
    let target = host_port(master).ok_or_else(|| fail("no host in the address".into()))?;
    let addr = tokio::net::lookup_host(&target)
        .await
        .map_err(|e| fail(format!("cannot resolve '{target}': {e}")))?
        .next()
        .ok_or_else(|| fail(format!("'{target}' resolves to no address")))?;
    let local: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = tokio::net::UdpSocket::bind(local)
        .await
        .map_err(|e| fail(format!("cannot open a socket: {e}")))?;
    socket
        .connect(addr)
        .await
        .map_err(|e| fail(format!("no route to {addr}: {e}")))?;
    let ip = socket
        .local_addr()
        .map_err(|e| fail(format!("no local address: {e}")))?
        .ip();
    if ip.is_unspecified() {
        return Err(fail(format!("no local address routes to {addr}")));
    }
    Ok(ip)
}

/// `host:port` of the first master (or ZooKeeper server) in `master`.
fn host_port(master: &str) -> Option<String> {
    let text = master.trim();
    let (rest, default_port) = if let Some(rest) = text.strip_prefix("zk://") {
        (rest, 2181)
    } else if let Some(rest) = text.strip_prefix("https://") {
        (rest, 443)
    } else {
        (text.strip_prefix("http://").unwrap_or(text), 5050)
    };
    let first = rest.split(',').next()?;
    let authority = first.split('/').next()?;
    // zk://user:secret@host:port/...
    let authority = authority.rsplit('@').next()?;
    if authority.is_empty() {
        return None;
    }
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    Some(if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_master_or_zookeeper_host_is_used() {
        assert_eq!(host_port("http://m1:5050").as_deref(), Some("m1:5050"));
        assert_eq!(host_port("m1").as_deref(), Some("m1:5050"));
        assert_eq!(
            host_port("http://m1:1,http://m2:2").as_deref(),
            Some("m1:1")
        );
        assert_eq!(
            host_port("zk://u:p@z1:2181,z2:2181/mesos").as_deref(),
            Some("z1:2181")
        );
        assert_eq!(host_port("zk://z1/mesos").as_deref(), Some("z1:2181"));
        assert_eq!(host_port("https://[::1]").as_deref(), Some("[::1]:443"));
        assert_eq!(host_port("http://"), None);
    }

    #[tokio::test]
    async fn a_loopback_master_is_reached_over_loopback() {
        let ip = advertise_ip_for("http://127.0.0.1:5050").await.unwrap();
        assert_eq!(ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!(matches!(
            advertise_ip_for("http://").await,
            Err(ArtifactError::Advertise { .. })
        ));
    }
}
