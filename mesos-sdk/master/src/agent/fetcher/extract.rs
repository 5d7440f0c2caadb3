//! Unpacking fetched archives into the sandbox (blocking; run off the event loop).
//!
//! Every entry must stay inside the sandbox: absolute paths, `..` components and links
//! whose targets leave the sandbox are refused, and the bytes written are bounded.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use super::FetchError;

/// An archive format, recognised by file name as Mesos does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `.tar`
    Tar,
    /// `.tar.gz`, `.tgz`
    TarGz,
    /// `.tar.bz2`, `.tbz2`
    TarBz2,
    /// `.tar.xz`, `.txz`
    TarXz,
    /// `.zip`
    Zip,
    /// A bare `.gz` file: gunzipped to its name without `.gz`.
    Gz,
}

/// The archive kind of a file name, if it has one.
pub(crate) fn kind(name: &str) -> Option<Kind> {
    let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
    if ends(&[".tar"]) {
        Some(Kind::Tar)
    } else if ends(&[".tgz", ".tar.gz"]) {
        Some(Kind::TarGz)
    } else if ends(&[".tbz2", ".tar.bz2"]) {
        Some(Kind::TarBz2)
    } else if ends(&[".txz", ".tar.xz"]) {
        Some(Kind::TarXz)
    } else if ends(&[".zip"]) {
        Some(Kind::Zip)
    } else if ends(&[".gz"]) {
        Some(Kind::Gz)
    } else {
        None
    }
}

/// Extracts `archive` (named `name`, which gives the kind) into `into`, writing at
/// most `max_bytes` of content.
pub(crate) fn extract(
    archive: &Path,
    name: &str,
    kind: Kind,
    into: &Path,
    max_bytes: u64,
) -> Result<(), FetchError> {
    let open = || File::open(archive).map_err(FetchError::io(format!("opening '{name}'")));
    let corrupt = |e: &dyn std::fmt::Display| FetchError::Archive {
        archive: name.to_owned(),
        reason: e.to_string(),
    };
    match kind {
        Kind::Tar => untar(open()?, into, max_bytes, name),
        Kind::TarGz => untar(
            flate2::read::MultiGzDecoder::new(open()?),
            into,
            max_bytes,
            name,
        ),
        Kind::TarBz2 => untar(
            bzip2::read::MultiBzDecoder::new(open()?),
            into,
            max_bytes,
            name,
        ),
        Kind::TarXz => untar(
            liblzma::read::XzDecoder::new_multi_decoder(open()?),
            into,
            max_bytes,
            name,
        ),
        Kind::Zip => unzip(open()?, into, max_bytes, name),
        Kind::Gz => {
            let base = Path::new(name)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = base.strip_suffix(".gz").unwrap_or(&base);
            if stem.is_empty() {
                return Err(corrupt(&"no file name left after removing .gz"));
            }
            let dest = into.join(stem);
            let mut out = File::create(&dest)
                .map_err(FetchError::io(format!("creating '{}'", dest.display())))?;
            let mut input = flate2::read::MultiGzDecoder::new(open()?);
            bounded_copy(&mut input, &mut out, max_bytes).map_err(|e| match e {
                CopyError::TooLarge => FetchError::TooLarge { limit: max_bytes },
                CopyError::Io(e) => corrupt(&e),
            })?;
            Ok(())
        }
    }
}

fn untar(reader: impl Read, into: &Path, max_bytes: u64, name: &str) -> Result<(), FetchError> {
    let corrupt = |e: std::io::Error| FetchError::Archive {
        archive: name.to_owned(),
        reason: e.to_string(),
    };
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_ownerships(false);
    let mut total: u64 = 0;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry.path().map_err(corrupt)?.into_owned();
        let shown = path.display().to_string();
        let relative = inside(&path).ok_or_else(|| FetchError::UnsafeEntry(shown.clone()))?;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(corrupt)?
                .ok_or_else(|| FetchError::UnsafeEntry(shown.clone()))?;
            // A symbolic link resolves from its directory; a hard link names an entry
            // of the archive.
            let base = if kind.is_symlink() {
                relative.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                PathBuf::new()
            };
            if inside(&base.join(&target)).is_none() {
                return Err(FetchError::UnsafeEntry(format!(
                    "{shown} -> {}",
                    target.display()
                )));
            }
        }
        total = total.saturating_add(entry.size());
        if total > max_bytes {
            return Err(FetchError::TooLarge { limit: max_bytes });
        }
        // `unpack_in` also refuses to write through links that leave `into`.
        if !entry.unpack_in(into).map_err(corrupt)? {
            return Err(FetchError::UnsafeEntry(shown));
        }
    }
    Ok(())
}

fn unzip(file: File, into: &Path, max_bytes: u64, name: &str) -> Result<(), FetchError> {
    let corrupt = |e: &dyn std::fmt::Display| FetchError::Archive {
        archive: name.to_owned(),
        reason: e.to_string(),
    };
    let mut archive = zip::ZipArchive::new(file).map_err(|e| corrupt(&e))?;
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| corrupt(&e))?;
        let shown = entry.name().to_owned();
        let relative = entry
            .enclosed_name()
            .and_then(|p| inside(&p))
            .ok_or_else(|| FetchError::UnsafeEntry(shown.clone()))?;
        let dest = into.join(&relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&dest)
                .map_err(FetchError::io(format!("creating '{}'", dest.display())))?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(FetchError::io(format!("creating '{}'", parent.display())))?;
        }
        if entry.is_symlink() {
            let mut target = String::new();
            (&mut entry)
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| corrupt(&e))?;
            let base = relative.parent().map(Path::to_path_buf).unwrap_or_default();
            if inside(&base.join(&target)).is_none() {
                return Err(FetchError::UnsafeEntry(format!("{shown} -> {target}")));
            }
            std::os::unix::fs::symlink(&target, &dest).map_err(FetchError::io(format!(
                "creating link '{}'",
                dest.display()
            )))?;
            continue;
        }
        let remaining = max_bytes.saturating_sub(total);
        let mut out = File::create(&dest)
            .map_err(FetchError::io(format!("creating '{}'", dest.display())))?;
        let written = bounded_copy(&mut entry, &mut out, remaining).map_err(|e| match e {
            CopyError::TooLarge => FetchError::TooLarge { limit: max_bytes },
            CopyError::Io(e) => corrupt(&e),
        })?;
        total += written;
        if let Some(mode) = entry.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            let perms = std::fs::Permissions::from_mode(mode & 0o777);
            std::fs::set_permissions(&dest, perms).map_err(FetchError::io(format!(
                "setting the mode of '{}'",
                dest.display()
            )))?;
        }
    }
    Ok(())
}

enum CopyError {
    TooLarge,
    Io(std::io::Error),
}

/// Copies at most `limit` bytes; more is an error.
fn bounded_copy(input: &mut impl Read, out: &mut impl Write, limit: u64) -> Result<u64, CopyError> {
    let copied =
        std::io::copy(&mut input.take(limit.saturating_add(1)), out).map_err(CopyError::Io)?;
    if copied > limit {
        return Err(CopyError::TooLarge);
    }
    Ok(copied)
}

/// `path` as a relative path that stays inside its root, `..` resolved lexically;
/// `None` when it is absolute or climbs out.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !clean.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_mesos_suffixes() {
        assert_eq!(kind("a.tar"), Some(Kind::Tar));
        assert_eq!(kind("a.tgz"), Some(Kind::TarGz));
        assert_eq!(kind("a.tar.gz"), Some(Kind::TarGz));
        assert_eq!(kind("a.tbz2"), Some(Kind::TarBz2));
        assert_eq!(kind("a.tar.bz2"), Some(Kind::TarBz2));
        assert_eq!(kind("a.txz"), Some(Kind::TarXz));
        assert_eq!(kind("a.tar.xz"), Some(Kind::TarXz));
        assert_eq!(kind("a.zip"), Some(Kind::Zip));
        assert_eq!(kind("a.gz"), Some(Kind::Gz));
        assert_eq!(kind("a.sh"), None);
        assert_eq!(kind("a.tar.gz?x=1"), None);
    }

    #[test]
    fn paths_must_stay_inside() {
        assert_eq!(inside(Path::new("a/./b")), Some(PathBuf::from("a/b")));
        assert_eq!(inside(Path::new("a/../b")), Some(PathBuf::from("b")));
        assert_eq!(inside(Path::new("../b")), None);
        assert_eq!(inside(Path::new("a/../../b")), None);
        assert_eq!(inside(Path::new("/etc/passwd")), None);
    }
}
