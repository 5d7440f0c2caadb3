//! Which child of the masters' znode leads, and where it serves.
//!
//! Each Mesos master joins the group as an ephemeral sequential child named
//! `json.info_<10-digit sequence>` holding its `MasterInfo` in Mesos's JSON mapping of
//! the protobuf (`src/master/detector/zookeeper.cpp`, `src/zookeeper/group.cpp`). The
//! child with the lowest sequence leads.

use serde_json::Value;

use crate::transport::Url;

/// The label Mesos masters use for JSON `MasterInfo` (`MASTER_INFO_JSON_LABEL`).
pub const MASTER_INFO_JSON_LABEL: &str = "json.info";

/// The sequence number of a `json.info_<digits>` child; `None` for anything else
/// (`log_replicas`, the old protobuf `info_` nodes, a name with junk after the digits).
///
/// ```
/// use mesos_sdk::detect::json_info_sequence;
///
/// assert_eq!(json_info_sequence("json.info_0000000007"), Some(7));
/// assert_eq!(json_info_sequence("log_replicas"), None);
/// ```
pub fn json_info_sequence(child: &str) -> Option<u64> {
    let digits = child
        .strip_prefix(MASTER_INFO_JSON_LABEL)?
        .strip_prefix('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The `json.info_*` children, lowest sequence (the leader) first.
pub(crate) fn candidates(children: &[String]) -> Vec<(u64, &str)> {
    let mut found: Vec<(u64, &str)> = children
        .iter()
        .filter_map(|c| json_info_sequence(c).map(|seq| (seq, c.as_str())))
        .collect();
    found.sort_unstable();
    found
}

/// The master's HTTP endpoint from its JSON `MasterInfo`: `address.ip` and
/// `address.port` when present, else `address.hostname`, else the top-level
/// `hostname` and `port`, else the libprocess `pid` (`master@ip:port`).
///
/// ```
/// use mesos_sdk::detect::master_info_url;
///
/// let info = br#"{"address":{"ip":"10.0.0.7","port":5050},"hostname":"m1","port":5050}"#;
/// assert_eq!(master_info_url(info, false).unwrap().as_str(), "http://10.0.0.7:5050/");
/// ```
///
/// # Errors
/// A reason when the data is not JSON, not an object, or names no usable address.
pub fn master_info_url(data: &[u8], https: bool) -> Result<Url, String> {
    let info: Value = serde_json::from_slice(data).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(info) = info.as_object() else {
        return Err("not a JSON object".into());
    };
    let port = |v: Option<&Value>| {
        v.and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
    };
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let address = info.get("address").and_then(Value::as_object);
    let address_port = address.and_then(|a| port(a.get("port")));
    let top_port = port(info.get("port"));
    let (host, port) = if let (Some(ip), Some(p)) =
        (address.and_then(|a| text(a.get("ip"))), address_port)
    {
        (ip.to_owned(), p)
    } else if let (Some(h), Some(p)) = (address.and_then(|a| text(a.get("hostname"))), address_port)
    {
        (h.to_owned(), p)
    } else if let (Some(h), Some(p)) = (text(info.get("hostname")), top_port) {
        (h.to_owned(), p)
    } else if let Some((h, p)) = text(info.get("pid"))
        .and_then(|pid| pid.rsplit_once('@'))
        .and_then(|(_, hp)| hp.rsplit_once(':'))
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
    {
        (h, p)
    } else {
        return Err("no address.ip/address.port, hostname/port or pid".into());
    };
    let scheme = if https { "https" } else { "http" };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let url = Url::parse(&format!("{scheme}://{host}:{port}/"))
        .map_err(|e| format!("address {host}:{port} is not usable: {e}"))?;
    // A host with URL delimiters in it (`/`, `?`, `#`, `@`, `\`) parses as another
    // URL: another host, path or port. Only the URL of exactly this host and port does.
    if url.port_or_known_default() != Some(port)
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!("address {host}:{port} is not a host and port"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a Mesos 1.x master writes (`JSON::protobuf(MasterInfo)`).
    const MESOS_JSON: &str = r#"{"address":{"hostname":"m1.example","ip":"10.0.0.7","port":5050},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}],"hostname":"m1.example","id":"7f1c2f3e-0b1e-4bd4-9d0e-0c5b7a1f2e3d","ip":117440522,"pid":"master@10.0.0.7:5050","port":5050,"version":"1.11.0"}"#;

    #[test]
    fn names_and_order() {
        assert_eq!(json_info_sequence("json.info_0000000007"), Some(7));
        assert_eq!(json_info_sequence("json.info_"), None);
        assert_eq!(json_info_sequence("json.info_00000x"), None);
        assert_eq!(json_info_sequence("info_0000000001"), None);
        assert_eq!(json_info_sequence("log_replicas"), None);
        let children: Vec<String> = [
            "log_replicas",
            "json.info_0000000012",
            "info_0000000001",
            "json.info_0000000003",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            candidates(&children),
            [(3, "json.info_0000000003"), (12, "json.info_0000000012")]
        );
    }

    #[test]
    fn address_preference() {
        let url = master_info_url(MESOS_JSON.as_bytes(), false).unwrap();
        assert_eq!(url.as_str(), "http://10.0.0.7:5050/");
        let url = master_info_url(br#"{"hostname":"m2","port":5051,"id":"x"}"#, true).unwrap();
        assert_eq!(url.as_str(), "https://m2:5051/");
        let url = master_info_url(br#"{"address":{"ip":"::1","port":5050}}"#, false).unwrap();
        assert_eq!(url.as_str(), "http://[::1]:5050/");
        let url = master_info_url(br#"{"pid":"master@127.0.0.1:5052","port":0}"#, false).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:5052/");
        assert!(master_info_url(b"{not json", false).is_err());
        assert!(master_info_url(b"[1]", false).is_err());
        assert!(master_info_url(br#"{"id":"x"}"#, false).is_err());
        assert!(master_info_url(br#"{"hostname":"h","port":70000}"#, false).is_err());
    }

    /// Found by the `zk_master_info` fuzz target: a host with URL delimiters in it
    /// became another URL (here `http://l/#:255/`, port 80, the port in the fragment).
    #[test]
    fn hosts_with_url_delimiters_are_refused() {
        for host in ["l/#", "a/b", "a?b", "a#b", "u@h", "u:p@h", "a\\b", "h:80/x"] {
            let info = serde_json::json!({"address": {"ip": host, "port": 255}});
            let data = serde_json::to_vec(&info).unwrap();
            assert!(
                master_info_url(&data, false).is_err(),
                "{host:?} gave {:?}",
                master_info_url(&data, false)
            );
        }
        let url = master_info_url(br#"{"hostname":"m1","port":443}"#, true).unwrap();
        assert_eq!(url.as_str(), "https://m1/");
    }
}
