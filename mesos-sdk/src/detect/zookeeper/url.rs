//! `zk://[user:password@]host:port[,host:port…]/path`, parsed the way Mesos does
//! (`include/mesos/zookeeper/url.hpp`), with the servers and path checked up front so a
//! typo fails when the detector is built, not on the first connection.

use std::fmt;

use super::ZooKeeperError;

/// ZooKeeper's default client port, used for a server given without one.
pub const DEFAULT_ZOOKEEPER_PORT: u16 = 2181;

/// A parsed `zk://` URL: the ensemble, the znode the masters join under, and the
/// optional digest credentials.
///
/// `Display` and `Debug` hide the password.
///
/// ```
/// use mesos_sdk::detect::ZooKeeperUrl;
/// let url = ZooKeeperUrl::parse("zk://jo:secret@zk1:2181,zk2/mesos").unwrap();
/// assert_eq!(url.servers(), ["zk1:2181", "zk2:2181"]);
/// assert_eq!(url.path(), "/mesos");
/// assert_eq!(url.to_string(), "zk://jo:***@zk1:2181,zk2:2181/mesos");
/// assert!(ZooKeeperUrl::parse("zk://zk1:2181/").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ZooKeeperUrl {
    servers: Vec<String>,
    path: String,
    credentials: Option<(String, String)>,
}

impl ZooKeeperUrl {
    /// Parses `zk://[user:password@]host[:port][,host[:port]…]/path`; `mesos://zk://…`
    /// (Spark's form) is accepted too. A server without a port gets 2181.
    ///
    /// # Errors
    /// [`ZooKeeperError::InvalidUrl`] for another scheme, an empty or malformed
    /// server, credentials that are not `user:password`, or a path that is missing,
    /// `/` (Mesos: "Expecting a (chroot) path for ZooKeeper ('/' is not supported)")
    /// or not a valid znode path.
    pub fn parse(url: &str) -> Result<Self, ZooKeeperError> {
        let invalid = |reason: &str| ZooKeeperError::InvalidUrl {
            url: redact(url),
            reason: reason.to_owned(),
        };
        let trimmed = url.trim();
        let trimmed = strip_prefix_ignore_case(trimmed, "mesos://").unwrap_or(trimmed);
        let Some(rest) = strip_prefix_ignore_case(trimmed, "zk://") else {
            return Err(invalid("Expecting 'zk://' at the beginning of the URL"));
        };
        // As in Mesos: the path starts at the first '/', the servers after the last '@'.
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (credentials, servers) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let credentials = match credentials {
            None => None,
            Some(c) => match c.split_once(':') {
                Some((user, password)) if !user.is_empty() => {
                    Some((user.to_owned(), password.to_owned()))
                }
                _ => return Err(invalid("credentials must be user:password")),
            },
        };
        let mut parsed = Vec::new();
        for server in servers.split(',') {
            parsed.push(parse_server(server.trim()).map_err(|reason| invalid(&reason))?);
        }
        let path = check_path(path).map_err(|reason| invalid(&reason))?;
        Ok(ZooKeeperUrl {
            servers: parsed,
            path,
            credentials,
        })
    }

    /// The ensemble as `host:port` entries, in the given order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The znode the masters join under, e.g. `/mesos`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The digest user, if credentials were given.
    pub fn user(&self) -> Option<&str> {
        self.credentials.as_ref().map(|(user, _)| user.as_str())
    }

    /// `user:password`, the digest scheme's auth data (`None` without credentials).
    pub fn digest(&self) -> Option<String> {
        self.credentials.as_ref().map(|(u, p)| format!("{u}:{p}"))
    }

    /// Opens a ZooKeeper session to these servers with `session_timeout`, adding the
    /// digest credentials when the URL has them, waiting at most `wait`.
    ///
    /// # Errors
    /// [`ZooKeeperError::Unreachable`] with the client's reason.
    pub async fn connect(
        &self,
        session_timeout: std::time::Duration,
        wait: std::time::Duration,
    ) -> Result<zookeeper_client::Client, ZooKeeperError> {
        let mut connector = zookeeper_client::Client::connector()
            .with_session_timeout(session_timeout)
            .with_fail_eagerly();
        if let Some(digest) = self.digest() {
            connector = connector.with_auth("digest", digest.as_bytes());
        }
        let servers = self.connect_string();
        let unreachable = |reason: String| ZooKeeperError::Unreachable {
            servers: servers.clone(),
            waited: wait,
            reason,
        };
        match tokio::time::timeout(wait, connector.connect(&servers)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(unreachable(e.to_string())),
            Err(_) => Err(unreachable(format!("no answer within {wait:?}"))),
        }
    }

    /// The comma-separated `host:port` list a ZooKeeper client connects to (no chroot).
    pub fn connect_string(&self) -> String {
        self.servers.join(",")
    }
}

impl fmt::Display for ZooKeeperUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("zk://")?;
        if let Some((user, _)) = &self.credentials {
            write!(f, "{user}:***@")?;
        }
        write!(f, "{}{}", self.servers.join(","), self.path)
    }
}

impl fmt::Debug for ZooKeeperUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZooKeeperUrl({self})")
    }
}

impl std::str::FromStr for ZooKeeperUrl {
    type Err = ZooKeeperError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ZooKeeperUrl::parse(s)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The URL for error messages: the password (between `user:` and the last `@` before
/// the path) replaced by `***`.
fn redact(url: &str) -> String {
    let url = url.trim();
    let start = url.find("://").map_or(0, |i| i + 3);
    let start = if url[start..].to_ascii_lowercase().starts_with("zk://") {
        start + 5
    } else {
        start
    };
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => {
            let creds = &url[start..start + at];
            let user = creds.split_once(':').map_or(creds, |(u, _)| u);
            format!("{}{user}:***{}", &url[..start], &url[start + at..])
        }
        None => url.to_owned(),
    }
}

/// `host[:port]` or `[v6]:port`, returned as `host:port`.
fn parse_server(server: &str) -> Result<String, String> {
    if server.is_empty() {
        return Err("empty server in the server list".into());
    }
    let (host, port) = if let Some(v6) = server.strip_prefix('[') {
        let Some((host, rest)) = v6.split_once(']') else {
            return Err(format!("server {server:?}: unclosed '['"));
        };
        let port = match rest {
            "" => None,
            _ => match rest.strip_prefix(':') {
                Some(p) => Some(p),
                None => return Err(format!("server {server:?}: expected ':' after ']'")),
            },
        };
        (host, port)
    } else {
        match server.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (server, None),
        }
    };
    if host.is_empty() || host.contains(['[', ']', '@', '?', '#', ' ']) {
        return Err(format!("server {server:?}: invalid host"));
    }
    let port = match port {
        None => DEFAULT_ZOOKEEPER_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(format!("server {server:?}: invalid port {p:?}")),
        },
    };
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// A znode path other than `/`; one trailing `/` is dropped.
fn check_path(path: &str) -> Result<String, String> {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Err("Expecting a (chroot) path for ZooKeeper ('/' is not supported)".into());
    }
    for segment in trimmed[1..].split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!("invalid znode path {path:?}"));
        }
        if segment
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '?' || c == '#')
        {
            return Err(format!("invalid znode path {path:?}"));
        }
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(url: &str) -> String {
        match ZooKeeperUrl::parse(url) {
            Err(ZooKeeperError::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn parses_mesos_forms() {
        let u = ZooKeeperUrl::parse(" zk://10.0.0.1:2181,10.0.0.2:2182/mesos ").unwrap();
        assert_eq!(u.servers(), ["10.0.0.1:2181", "10.0.0.2:2182"]);
        assert_eq!(u.path(), "/mesos");
        assert_eq!(u.user(), None);
        assert_eq!(u.connect_string(), "10.0.0.1:2181,10.0.0.2:2182");

        let u = ZooKeeperUrl::parse("mesos://zk://a:b:c@h/x/y/").unwrap();
        assert_eq!(u.user(), Some("a"));
        assert_eq!(u.digest().as_deref(), Some("a:b:c"));
        assert_eq!(u.path(), "/x/y");
        assert_eq!(u.servers(), ["h:2181"]);

        let u = ZooKeeperUrl::parse("zk://[::1]:2181,[fe80::1]/m").unwrap();
        assert_eq!(u.servers(), ["[::1]:2181", "[fe80::1]:2181"]);
        // '@' in the password: the servers start after the last '@'.
        let u = ZooKeeperUrl::parse("zk://u:p@ss@h:1/m").unwrap();
        assert_eq!(u.digest().as_deref(), Some("u:p@ss"));
    }

    #[test]
    fn rejects_like_mesos() {
        assert_eq!(
            reason("zk://h:2181/"),
            "Expecting a (chroot) path for ZooKeeper ('/' is not supported)"
        );
        assert_eq!(
            reason("zk://h:2181"),
            "Expecting a (chroot) path for ZooKeeper ('/' is not supported)"
        );
        assert_eq!(
            reason("http://h:2181/mesos"),
            "Expecting 'zk://' at the beginning of the URL"
        );
        assert!(reason("zk://h:notaport/m").contains("invalid port"));
        assert!(reason("zk://h:0/m").contains("invalid port"));
        assert!(reason("zk://h:1,,i:2/m").contains("empty server"));
        assert!(reason("zk:///m").contains("empty server"));
        assert!(reason("zk://nopass@h/m").contains("user:password"));
        assert!(reason("zk://h/a//b").contains("invalid znode path"));
        assert!(reason("zk://h/a/../b").contains("invalid znode path"));
    }

    /// Found by fuzzing (`zk_master_info`): `zk://h/a /` was read as the path `/a `,
    /// whose printed form `zk://h/a ` read back as `/a` (the URL is trimmed).
    #[test]
    fn paths_with_whitespace_are_refused() {
        assert!(reason("zk://h/a /").contains("invalid znode path"));
        assert!(reason("zk://h/mesos /x").contains("invalid znode path"));
        assert!(reason("zk://h/a\u{2003}b").contains("invalid znode path"));
        // Whitespace around the whole URL is still ignored.
        let url = ZooKeeperUrl::parse(" zk://h/mesos/\n").expect("valid");
        assert_eq!(url.path(), "/mesos");
    }

    #[test]
    fn never_shows_the_password() {
        let u = ZooKeeperUrl::parse("zk://jo:hunter2@h:1/m").unwrap();
        assert!(!format!("{u} {u:?}").contains("hunter2"));
        let e = ZooKeeperUrl::parse("zk://jo:hunter2@h:1/").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("jo:***@h:1"), "{e}");
        let e = ZooKeeperUrl::parse("mesos://zk://jo:hunter2@h:x/m").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
