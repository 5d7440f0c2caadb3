//! What a `CommandInfo.URI` names: where to read it from, and the name it gets in the
//! sandbox. Pure: no I/O.

use std::path::{Component, Path, PathBuf};

use super::FetchError;

/// Where a URI's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// An `http://` or `https://` URL.
    Http(String),
    /// A file on the agent's machine (`file://` or a plain absolute path).
    Local(PathBuf),
}

/// Classifies `uri` (leading whitespace is ignored, as Mesos does). `file://` URIs and
/// plain paths must be absolute (the agent has no frameworks home); other schemes than
/// http, https and file are not supported.
pub(crate) fn source(uri: &str) -> Result<Source, FetchError> {
    let uri = uri.trim_start();
    let invalid = |reason: &str| FetchError::InvalidUri(reason.to_owned());
    if let Some(rest) = uri.strip_prefix("file://") {
        // `file://localhost/p` and `file:///p` name the same local file.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            return Err(invalid("a file URI only supports absolute paths"));
        }
        return Ok(Source::Local(PathBuf::from(path)));
    }
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(Source::Http(uri.to_owned()));
    }
    if let Some(index) = uri.find("://") {
        return Err(FetchError::UnsupportedScheme(uri[..index].to_owned()));
    }
    if !uri.starts_with('/') {
        return Err(invalid(
            "a relative path needs a frameworks home, which this agent does not have; use an absolute path",
        ));
    }
    Ok(Source::Local(PathBuf::from(uri)))
}

/// The file name a URI gets in the sandbox without `output_file`: its last path
/// segment, as Mesos's `Fetcher::basename` takes it (query strings included). Refuses
/// the characters Mesos refuses and URIs with a scheme but no path.
pub(crate) fn basename(uri: &str) -> Result<String, FetchError> {
    let uri = uri.trim_start();
    if uri.contains(['\\', '\'', '\0']) {
        return Err(FetchError::InvalidUri("illegal characters in URI".into()));
    }
    let name = match uri.find("://") {
        Some(index) if index > 1 => {
            let path = &uri[index + 3..];
            match path.find('/') {
                Some(slash) if slash + 1 < path.len() => {
                    path.rsplit('/').next().unwrap_or_default().to_owned()
                }
                _ => {
                    return Err(FetchError::InvalidUri(format!(
                        "malformed URI (missing path): {uri}"
                    )));
                }
            }
        }
        _ => Path::new(uri)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if name.is_empty() || name == "." || name == ".." {
        return Err(FetchError::InvalidUri(format!(
            "no file name in URI: {uri}"
        )));
    }
    Ok(name)
}

/// The sandbox-relative path a URI is written to: `output_file` when set (relative,
/// without `..`; it may name subdirectories), else [`basename`].
pub(crate) fn output_path(uri: &str, output_file: Option<&str>) -> Result<PathBuf, FetchError> {
    let Some(output) = output_file else {
        return Ok(PathBuf::from(basename(uri)?));
    };
    let refuse = || FetchError::UnsafePath(output.to_owned());
    let path = Path::new(output);
    if output.is_empty() || output.contains('\0') {
        return Err(refuse());
    }
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(refuse());
            }
        }
    }
    if clean.as_os_str().is_empty() || output.ends_with('/') {
        return Err(refuse());
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_paths_are_classified() {
        assert_eq!(
            source("http://h:1/a/b.tgz").unwrap(),
            Source::Http("http://h:1/a/b.tgz".into())
        );
        assert_eq!(
            source(" HTTPS://h/x").unwrap(),
            Source::Http("HTTPS://h/x".into())
        );
        assert_eq!(
            source("file:///tmp/x.tar").unwrap(),
            Source::Local("/tmp/x.tar".into())
        );
        assert_eq!(
            source("file://localhost/tmp/x").unwrap(),
            Source::Local("/tmp/x".into())
        );
        assert_eq!(source("/opt/x").unwrap(), Source::Local("/opt/x".into()));
        assert!(matches!(
            source("hdfs://nn/x"),
            Err(FetchError::UnsupportedScheme(s)) if s == "hdfs"
        ));
        assert!(matches!(
            source("file://rel/x"),
            Err(FetchError::InvalidUri(_))
        ));
        assert!(matches!(source("rel/x"), Err(FetchError::InvalidUri(_))));
    }

    #[test]
    fn basenames_follow_mesos() {
        assert_eq!(basename("http://h/a/b.tar.gz").unwrap(), "b.tar.gz");
        assert_eq!(basename("http://h/a/b?x=1").unwrap(), "b?x=1");
        assert_eq!(basename("/opt/x/run.sh").unwrap(), "run.sh");
        assert!(basename("http://host").is_err());
        assert!(basename("http://host/").is_err());
        assert!(basename("http://h/a'b").is_err());
        assert!(basename("/").is_err());
    }

    #[test]
    fn output_files_stay_in_the_sandbox() {
        assert_eq!(
            output_path("http://h/x", Some("bin/./run")).unwrap(),
            PathBuf::from("bin/run")
        );
        assert_eq!(output_path("http://h/x", None).unwrap(), PathBuf::from("x"));
        for bad in ["../x", "a/../../x", "/etc/passwd", "", ".", "a/"] {
            assert!(
                matches!(
                    output_path("http://h/x", Some(bad)),
                    Err(FetchError::UnsafePath(_))
                ),
                "{bad} must be refused"
            );
        }
    }
}
