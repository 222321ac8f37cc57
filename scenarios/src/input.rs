//! Reading files from outside with bounds: [`read_text`] and [`read_bytes`] refuse a
//! file that is not a regular file (a device such as `/dev/zero`, a FIFO, a directory)
//! or that is larger than its kind's [`FileLimit`], before reading it whole.
//!
//! The check is made on the file's metadata before it is opened, again on the opened
//! file (opened non-blocking, so a FIFO swapped in between cannot hang the open), and
//! the read itself takes at most the limit plus one byte, so a file that grows while it
//! is read cannot pass either. [`InputError`] names the file, the kind of file expected
//! and the limit.

use std::io::Read;
use std::path::Path;

/// What kind of file is read and the most bytes it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimit {
    /// What the file is, in messages: "scenario file", "batch file", ….
    pub what: &'static str,
    /// The most bytes accepted.
    pub max_bytes: u64,
}

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// Scenario files: 4 MiB. The largest preset is about 5 KB and even a scenario that
/// overrides every parameter stays under 100 KB; 4 MiB leaves room for any hand-written
/// file while keeping the TOML parser's memory under half a GB (a 4 MiB array of small
/// integers peaked at 386 MB in `civitas scenario check`, measured; a 50 MB one took
/// 3.7 GB).
pub const SCENARIO_FILE: FileLimit = FileLimit {
    what: "scenario file",
    max_bytes: 4 * MIB,
};

/// Batch files: 4 MiB, as scenario files (a grid's value lists are the only part that
/// grows, and [`crate::batch`] bounds the runs they make separately).
pub const BATCH_FILE: FileLimit = FileLimit {
    what: "batch file",
    max_bytes: 4 * MIB,
};

/// Inject logs: 256 MiB. An inject record is a JSON line of about 150 bytes, so this is
/// over a million injects — more than a year of a live twin sends — while the parsed
/// records stay within a few times the file's size.
pub const INJECT_LOG: FileLimit = FileLimit {
    what: "inject log",
    max_bytes: 256 * MIB,
};

/// Checkpoints: 16 GiB. They are written by civitas and grow with the world (the
/// city-3m preset's is 210 MB at day 1, measured); the run they restore needs several
/// times the file's size in memory anyway, which the memory estimate checks, so this
/// limit only keeps a mistaken argument from being read without end.
pub const CHECKPOINT_FILE: FileLimit = FileLimit {
    what: "checkpoint",
    max_bytes: 16 * GIB,
};

/// Why a bounded file could not be read (recoverable: name another file).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The system could not open or read it.
    #[error("{path}: cannot read the {what}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What kind of file.
        what: &'static str,
        /// What the system said.
        message: String,
    },
    /// A device, FIFO, socket or directory.
    #[error("{path}: cannot read the {what}: it is {found}, not a regular file")]
    NotRegular {
        /// The file.
        path: String,
        /// What kind of file.
        what: &'static str,
        /// What it is instead ("a character device", "a FIFO", …).
        found: &'static str,
    },
    /// Larger than the limit (or still growing past it while read).
    #[error("{path}: cannot read the {what}: it holds {size}, over the limit of {limit}")]
    TooLarge {
        /// The file.
        path: String,
        /// What kind of file.
        what: &'static str,
        /// Its size ("12.0 MiB", or "more than 4.0 MiB" when it grew while read).
        size: String,
        /// The limit.
        limit: String,
    },
}

/// `bytes` for a person: "4.0 MiB", "16.0 GiB", "512 bytes".
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes >= GIB {
        format!("{:.1} GiB", b / GIB as f64)
    } else if bytes >= MIB {
        format!("{:.1} MiB", b / MIB as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

fn kind_of(ft: std::fs::FileType) -> Option<&'static str> {
    if ft.is_file() {
        return None;
    }
    if ft.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("a FIFO");
        }
        if ft.is_char_device() {
            return Some("a character device");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a file")
}

/// The whole file at `path` as bytes, if it is a regular file within `limit`.
pub fn read_bytes(path: &Path, limit: FileLimit) -> Result<Vec<u8>, InputError> {
    let name = || path.display().to_string();
    let io = |e: std::io::Error| InputError::Io {
        path: name(),
        what: limit.what,
        message: e.to_string(),
    };
    let check = |m: &std::fs::Metadata| -> Result<(), InputError> {
        if let Some(found) = kind_of(m.file_type()) {
            return Err(InputError::NotRegular {
                path: name(),
                what: limit.what,
                found,
            });
        }
        if m.len() > limit.max_bytes {
            return Err(too_large(name(), limit, human_bytes(m.len())));
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(io)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    check(&file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    file.take(limit.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit.max_bytes {
        return Err(too_large(
            name(),
            limit,
            format!("more than {}", human_bytes(limit.max_bytes)),
        ));
    }
    Ok(bytes)
}

fn too_large(path: String, limit: FileLimit, size: String) -> InputError {
    InputError::TooLarge {
        path,
        what: limit.what,
        size,
        limit: human_bytes(limit.max_bytes),
    }
}

/// The whole file at `path` as UTF-8 text, if it is a regular file within `limit`.
pub fn read_text(path: &Path, limit: FileLimit) -> Result<String, InputError> {
    let bytes = read_bytes(path, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        path: path.display().to_string(),
        what: limit.what,
        message: format!("it is not UTF-8 text ({e})"),
    })
}

/// Why an output stream could not be opened (recoverable: name another path).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The system could not create or open it.
    #[error("{path}: cannot write the {what}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What is written.
        what: &'static str,
        /// What the system said.
        message: String,
    },
    /// A directory (or a socket) where a file is to be written.
    #[error("{path}: cannot write the {what}: it is {found}")]
    NotWritable {
        /// The path.
        path: String,
        /// What is written.
        what: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// A FIFO that nobody reads yet: opening it would wait for a reader without a word.
    #[error("{path}: cannot write the {what}: it is a FIFO with no reader; start its reader first")]
    NoReader {
        /// The FIFO.
        path: String,
        /// What is written.
        what: &'static str,
    },
}

/// Opens `path` to stream `what` into it: a regular file is created or truncated; a
/// character device (`/dev/null`, a terminal) is written as is; a FIFO must already
/// have a reader (it is opened non-blocking, so a FIFO nobody reads is refused instead
/// of waited on), and is then written with ordinary blocking writes. A directory or a
/// socket is refused.
pub fn open_stream(path: &Path, what: &'static str) -> Result<std::fs::File, OutputError> {
    let name = || path.display().to_string();
    let io = |e: std::io::Error| OutputError::Io {
        path: name(),
        what,
        message: e.to_string(),
    };
    #[cfg(unix)]
    if let Ok(m) = std::fs::metadata(path) {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let ft = m.file_type();
        if ft.is_dir() || ft.is_socket() {
            let found = if ft.is_dir() {
                "a directory"
            } else {
                "a socket"
            };
            return Err(OutputError::NotWritable {
                path: name(),
                what,
                found,
            });
        }
        if ft.is_fifo() {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(path)
                .map_err(|e| {
                    if e.raw_os_error() == Some(libc::ENXIO) {
                        OutputError::NoReader { path: name(), what }
                    } else {
                        io(e)
                    }
                })?;
            set_blocking(&file).map_err(io)?;
            return Ok(file);
        }
    }
    std::fs::File::create(path).map_err(io)
}

/// Clears `O_NONBLOCK` on an opened file.
#[cfg(unix)]
fn set_blocking(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is an open descriptor owned by `file` for the duration of both calls;
    // F_GETFL and F_SETFL read and set its status flags only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Whether two paths name the same file: the same inode when both exist, else the same
/// absolute path once every existing ancestor is resolved (symbolic links, `..`), so an
/// output not written yet is still recognised under another spelling.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        return ma.dev() == mb.dev() && ma.ino() == mb.ino();
    }
    resolved(a) == resolved(b)
}

/// Whether `path` is `dir` or lies under it (after resolving as [`same_file`] does).
pub fn is_within(path: &Path, dir: &Path) -> bool {
    resolved(path).starts_with(resolved(dir))
}

/// `p` made absolute, its deepest existing ancestor canonicalized and the rest appended.
fn resolved(p: &Path) -> std::path::PathBuf {
    let abs = std::env::current_dir()
        .map(|d| d.join(p))
        .unwrap_or_else(|_| p.to_path_buf());
    let mut rest = Vec::new();
    let mut at = abs.as_path();
    loop {
        if let Ok(c) = at.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return abs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_person_writes_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(4 * MIB), "4.0 MiB");
        assert_eq!(human_bytes(16 * GIB), "16.0 GiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }

    #[test]
    fn the_same_file_is_recognised_under_another_spelling_written_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("o")).unwrap();
        std::fs::write(d.join("o/a.json"), "{}").unwrap();
        assert!(same_file(&d.join("o/a.json"), &d.join("o/../o/./a.json")));
        assert!(same_file(&d.join("x/y.json"), &d.join("x/./y.json")));
        assert!(!same_file(&d.join("o/a.json"), &d.join("o/b.json")));
        assert!(is_within(&d.join("o/new/c"), &d.join("o")));
        assert!(!is_within(&d.join("other"), &d.join("o")));
    }

    #[test]
    fn a_stream_into_a_directory_or_a_fifo_nobody_reads_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let e = open_stream(dir.path(), "event stream").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{d}: cannot write the event stream: it is a directory")
        );
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.display().to_string()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_stream(&fifo, "event stream").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{d}/fifo: cannot write the event stream: it is a FIFO with no reader; start its reader first"
            )
        );
        // With a reader, it opens and writes go through.
        use std::os::unix::fs::OpenOptionsExt;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        let mut w = open_stream(&fifo, "event stream").unwrap();
        std::io::Write::write_all(&mut w, b"x\n").unwrap();
        drop(w);
        let mut got = String::new();
        std::io::Read::read_to_string(&mut &reader, &mut got).unwrap();
        assert_eq!(got, "x\n");
    }
}
