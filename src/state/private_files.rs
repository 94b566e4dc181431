//! Files only their owner may read, for the local backend: directories made 0700, files made 0600
//! (at creation, and existing ones tightened), atomic replacement, and `Io` errors naming the path.
//!
//! What goes into the files is the callers' business (`local_backend`, `journal`, `file_lock`).

use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::state::backend::StateError;

/// The mode of every file the local backend writes: the state can hold addresses and store
/// paths that are nobody else's business.
const FILE_MODE: u32 = 0o600;

/// The mode of a state directory the local backend creates.
const DIRECTORY_MODE: u32 = 0o700;

/// Builds the `Io` error for a failure to `action` the file at `path`.
pub(crate) fn io_error(action: &str, path: &Path) -> impl FnOnce(std::io::Error) -> StateError {
    let action = format!("{action} `{}`", path.display());
    move |source| StateError::Io { action, source }
}

/// The directory holding `path`: its parent, or `.` for a bare file name.
pub(crate) fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// `path` with `suffix` appended to its file name: `state.json` → `state.json.lock`.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates `directory` and its missing parents with mode 0700; an existing one is left as is.
pub(crate) fn create_directory(directory: &Path) -> Result<(), StateError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIRECTORY_MODE)
        .create(directory)
        .map_err(io_error("create directory", directory))
}

/// Opens `path` for reading and writing (appending when `is_append`), creating it with mode 0600,
/// and restricts an existing file to 0600.
pub(crate) fn open_private(path: &Path, is_append: bool) -> Result<File, StateError> {
    let file = OpenOptions::new()
        .read(true)
        .write(!is_append)
        .append(is_append)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io_error("open", path))?;
    restrict(&file, path)?;
    Ok(file)
}

/// Reads the whole file at `path`, restricting it to 0600 first when this user may; `None` when it
/// does not exist.
pub(crate) fn read_private(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error("open", path)(error)),
    };
    // Best effort: a state its owner lets others read stays readable to them; the owner's next
    // read or write tightens it.
    let _ = restrict(&file, path);
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io_error("read", path))?;
    Ok(Some(bytes))
}

/// Narrows an existing file's mode to 0600 when group or others may read it.
fn restrict(file: &File, path: &Path) -> Result<(), StateError> {
    let metadata = file.metadata().map_err(io_error("inspect", path))?;
    if metadata.permissions().mode() & 0o077 != 0 {
        file.set_permissions(Permissions::from_mode(FILE_MODE))
            .map_err(io_error("restrict the permissions of", path))?;
    }
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a 0600 temp file in the same directory, synced, renamed
/// over `path`, then the directory synced so the rename survives a crash.
pub(crate) fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let directory = directory_of(path);
    let prefix = format!(".{}.", path.file_name().unwrap_or_default().to_string_lossy());
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(Permissions::from_mode(FILE_MODE))
        .tempfile_in(directory)
        .map_err(io_error("create a temporary file in", directory))?;
    let temporary_path = temporary.path().to_owned();
    temporary.write_all(bytes).map_err(io_error("write", &temporary_path))?;
    temporary.as_file().sync_all().map_err(io_error("sync", &temporary_path))?;
    temporary.persist(path).map_err(|error| io_error("rename a temporary file to", path)(error.error))?;
    sync_directory(directory)
}

/// Makes `target` a copy of `source` atomically, by a hard link when the filesystem allows it and
/// by a synced copy otherwise; the caller syncs the directory.
pub(crate) fn link_atomically(source: &Path, target: &Path) -> Result<(), StateError> {
    let staged = with_suffix(target, ".tmp");
    remove_if_present(&staged)?;
    if std::fs::hard_link(source, &staged).is_err() {
        std::fs::copy(source, &staged).map_err(io_error("copy the state to", &staged))?;
        File::open(&staged).and_then(|copy| copy.sync_all()).map_err(io_error("sync", &staged))?;
    }
    std::fs::rename(&staged, target).map_err(io_error("rename a temporary file to", target))
}

/// Syncs `directory`, so renames and links in it survive a crash.
fn sync_directory(directory: &Path) -> Result<(), StateError> {
    File::open(directory).and_then(|handle| handle.sync_all()).map_err(io_error("sync directory", directory))
}

/// Removes the file at `path`; one that is already gone is fine.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), StateError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_error("remove", path)(error)),
    }
}
