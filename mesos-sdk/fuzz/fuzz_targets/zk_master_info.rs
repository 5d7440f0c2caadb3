//! Fuzzes what the ZooKeeper detector reads from the masters' group: the children's
//! names (`detect::json_info_sequence`), each child's JSON `MasterInfo`
//! (`detect::master_info_url`), and the `zk://` URL itself (`detect::ZooKeeperUrl`).
//!
//! Checks:
//! - no panic on arbitrary data;
//! - a URL found in arbitrary data has the asked-for scheme, a port and the root
//!   path, and is no longer than the data allows;
//! - what a Mesos master writes (its `MasterInfo` through the SDK's Mesos JSON
//!   encoder, fields chosen by the fuzzer) is read back at the address Mesos's own
//!   detector would pick: `address.ip`:`address.port`, else `address.hostname`, else
//!   `hostname`:`port`, else the `pid`;
//! - `json_info_sequence` accepts exactly `json.info_` followed by digits, and reads
//!   back the 10-digit names masters create for any sequence number;
//! - a parsed `zk://` URL prints (password hidden) as a URL that parses to the same
//!   servers and path, and its password never shows.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mesos_sdk::codec::json;
use mesos_sdk::detect::{ZooKeeperUrl, json_info_sequence, master_info_url};
use mesos_sdk::v1;

#[derive(Debug, Arbitrary)]
struct Written {
    ip: Option<String>,
    address_hostname: Option<String>,
    address_port: i32,
    hostname: Option<String>,
    port: u32,
    pid: Option<String>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    https: bool,
    /// A child's name in the group.
    child: String,
    /// A sequence number for a master's child.
    sequence: u64,
    /// A `zk://` URL.
    zk: String,
    /// A master's `MasterInfo`, written as Mesos does.
    written: Written,
    /// Arbitrary data in a child's znode.
    data: Vec<u8>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn valid_port(p: i64) -> Option<u16> {
    u16::try_from(p).ok().filter(|p| *p != 0)
}

/// The port Mesos's detector would connect to for `w`, if any (the host is checked
/// by `Url`'s own rules, so an unusable host may still make the result an error).
fn expected_port(w: &Written) -> Option<u16> {
    let address_port = valid_port(i64::from(w.address_port));
    if nonempty(&w.ip).is_some() && address_port.is_some() {
        return address_port;
    }
    if nonempty(&w.address_hostname).is_some() && address_port.is_some() {
        return address_port;
    }
    let top = valid_port(i64::from(w.port));
    if nonempty(&w.hostname).is_some() && top.is_some() {
        return top;
    }
    let pid = nonempty(&w.pid)?;
    let (_, host_port) = pid.rsplit_once('@')?;
    let (_, port) = host_port.rsplit_once(':')?;
    port.parse::<u16>().ok()
}

fn check_url(url: &mesos_sdk::transport::Url, https: bool, data_len: usize) {
    assert_eq!(url.scheme(), if https { "https" } else { "http" });
    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{url} has no host");
    assert!(url.port_or_known_default().is_some());
    assert_eq!(url.path(), "/", "{url}");
    assert!(url.query().is_none() && url.fragment().is_none(), "{url}");
    // Hosts are at most as long as given, bar IDNA (punycode) and IPv6 brackets.
    assert!(
        url.as_str().len() <= 4 * data_len + 64,
        "{} bytes of URL from {data_len} bytes",
        url.as_str().len()
    );
}

fuzz_target!(|input: Input| {
    // Names.
    match json_info_sequence(&input.child) {
        Some(n) => {
            let digits = input.child.strip_prefix("json.info_").expect("prefix");
            assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(digits.parse::<u64>().ok(), Some(n));
        }
        None => {
            if let Some(digits) = input.child.strip_prefix("json.info_") {
                assert!(
                    digits.is_empty()
                        || !digits.bytes().all(|b| b.is_ascii_digit())
                        || digits.parse::<u64>().is_err(),
                    "{:?} refused",
                    input.child
                );
            }
        }
    }
    let name = format!("json.info_{:010}", input.sequence);
    assert_eq!(json_info_sequence(&name), Some(input.sequence));

    // Arbitrary znode data.
    if let Ok(url) = master_info_url(&input.data, input.https) {
        check_url(&url, input.https, input.data.len());
    }

    // What a master writes.
    let w = &input.written;
    let info = v1::MasterInfo {
        id: "fuzz".into(),
        ip: 0,
        port: w.port,
        pid: w.pid.clone(),
        hostname: w.hostname.clone(),
        address: (w.ip.is_some() || w.address_hostname.is_some()).then(|| v1::Address {
            hostname: w.address_hostname.clone(),
            ip: w.ip.clone(),
            port: w.address_port,
        }),
        ..Default::default()
    };
    let written = json::to_vec(&info);
    match master_info_url(&written, input.https) {
        Ok(url) => {
            check_url(&url, input.https, written.len());
            assert_eq!(
                url.port_or_known_default(),
                expected_port(w),
                "{url} read from {}",
                String::from_utf8_lossy(&written)
            );
        }
        Err(_) => {
            // Refused only for an unusable host, or when no address is given at all.
        }
    }
    if expected_port(w).is_none() {
        assert!(
            master_info_url(&written, input.https).is_err(),
            "an address read from {}",
            String::from_utf8_lossy(&written)
        );
    }

    // zk:// URLs.
    if let Ok(url) = ZooKeeperUrl::parse(&input.zk) {
        assert!(!url.servers().is_empty());
        assert!(url.path().starts_with('/') && url.path().len() > 1);
        let shown = url.to_string();
        let again = ZooKeeperUrl::parse(&shown)
            .unwrap_or_else(|e| panic!("{shown:?} (from {:?}) does not parse: {e}", input.zk));
        assert_eq!(again.servers(), url.servers(), "{shown:?}");
        assert_eq!(again.path(), url.path(), "{shown:?}");
        assert_eq!(again.user(), url.user(), "{shown:?}");
        if let Some(digest) = url.digest() {
            let password = digest.split_once(':').expect("user:password").1;
            if password.len() >= 4 && !shown.contains("***") {
                panic!("{shown:?} hides no password");
            }
            assert_eq!(format!("{url:?}"), format!("ZooKeeperUrl({shown})"));
        }
    }
});
