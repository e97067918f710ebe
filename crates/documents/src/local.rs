//! The local filesystem backend.
//!
//! Layout under the root directory:
//!
//! - `objects/<key>`: the document bytes;
//! - `meta/<key>`: a small JSON sidecar with size, SHA-256 and content type;
//! - `tmp/`: bodies being written; each goes to a uniquely named file there, is fsynced,
//!   then renamed into place, so a document is either wholly there or not at all.
//!
//! A document exists when both its object file and its sidecar do. Because `meta/`
//! mirrors `objects/`, a key that is a path prefix of another stored key (`a` and `a/b`)
//! cannot be used here; `put` rejects it with [`DocumentError::InvalidKey`].

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::hashing::HashingCounter;
use crate::{ByteReader, DocumentError, DocumentKey, DocumentStore, ObjectMeta};

const COPY_BUFFER: usize = 64 * 1024;
const PREFIX_CONFLICT: &str =
    "key is a path prefix of a stored document's key, or has one as its prefix (not allowed in the local store)";

/// Documents kept as files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    objects: PathBuf,
    meta: PathBuf,
    tmp: PathBuf,
    max_size: u64,
}

/// The sidecar stored next to each object.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Sidecar {
    size: u64,
    sha256: String,
    content_type: Option<String>,
}

impl LocalStore {
    /// A store under `root`, creating the directory (and its `objects/`, `meta/` and `tmp/`
    /// folders) if needed. Bodies over `max_size` bytes are refused.
    pub fn new(root: PathBuf, max_size: u64) -> Result<Self, DocumentError> {
        std::fs::create_dir_all(&root)
            .map_err(|e| DocumentError::io(format_args!("creating {}", root.display()), &e))?;
        let root = root
            .canonicalize()
            .map_err(|e| DocumentError::io(format_args!("resolving {}", root.display()), &e))?;
        let store = Self {
            objects: root.join("objects"),
            meta: root.join("meta"),
            tmp: root.join("tmp"),
            root,
            max_size,
        };
        for dir in [&store.objects, &store.meta, &store.tmp] {
            std::fs::create_dir_all(dir)
                .map_err(|e| DocumentError::io(format_args!("creating {}", dir.display()), &e))?;
        }
        Ok(store)
    }

    /// The (canonical) root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn object_path(&self, key: &DocumentKey) -> Result<PathBuf, DocumentError> {
        join_under(&self.objects, key)
    }

    fn meta_path(&self, key: &DocumentKey) -> Result<PathBuf, DocumentError> {
        join_under(&self.meta, key)
    }

    async fn read_sidecar(&self, key: &DocumentKey) -> Result<Sidecar, DocumentError> {
        let path = self.meta_path(key)?;
        let bytes = fs::read(&path).await.map_err(|e| {
            if means_missing(&e) {
                not_found(key)
            } else {
                DocumentError::io(format_args!("reading metadata of {key}"), &e)
            }
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| DocumentError::unavailable(format!("metadata of {key} is corrupt: {e}")))
    }

    /// Opens the object and reads its sidecar, making sure they agree on the size (a
    /// concurrent overwrite renames the two files one after the other).
    async fn open(&self, key: &DocumentKey) -> Result<(ObjectMeta, fs::File), DocumentError> {
        let object_path = self.object_path(key)?;
        let mut attempt = 0;
        loop {
            let file = fs::File::open(&object_path).await.map_err(|e| {
                if means_missing(&e) {
                    not_found(key)
                } else {
                    DocumentError::io(format_args!("opening {key}"), &e)
                }
            })?;
            let stat = file
                .metadata()
                .await
                .map_err(|e| DocumentError::io(format_args!("reading {key}"), &e))?;
            if !stat.is_file() {
                return Err(not_found(key));
            }
            let sidecar = self.read_sidecar(key).await?;
            if sidecar.size == stat.len() {
                return Ok((meta_from(key, sidecar), file));
            }
            attempt += 1;
            if attempt >= 5 {
                return Err(DocumentError::unavailable(format!(
                    "{key} and its metadata disagree on the size ({} vs {} bytes)",
                    stat.len(),
                    sidecar.size
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Streams `body` into a new temp file, returning it with the size and hash.
    async fn receive(&self, mut body: ByteReader) -> Result<(TempFile, u64, String), DocumentError> {
        let temp = TempFile::new(self.tmp.join(format!("{}.data", uuid::Uuid::now_v7())));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp.path)
            .await
            .map_err(|e| DocumentError::io("creating a temporary file", &e))?;
        let mut counter = HashingCounter::new(self.max_size);
        let mut buf = vec![0_u8; COPY_BUFFER];
        loop {
            let n = body.read(&mut buf).await.map_err(|e| DocumentError::body(&e))?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            counter.update(chunk)?;
            file.write_all(chunk)
                .await
                .map_err(|e| DocumentError::io("writing a temporary file", &e))?;
        }
        file.flush()
            .await
            .map_err(|e| DocumentError::io("writing a temporary file", &e))?;
        file.sync_all()
            .await
            .map_err(|e| DocumentError::io("syncing a temporary file", &e))?;
        let (size, sha256) = counter.finish();
        Ok((temp, size, sha256))
    }

    async fn write_sidecar_temp(&self, sidecar: &Sidecar) -> Result<TempFile, DocumentError> {
        let temp = TempFile::new(self.tmp.join(format!("{}.meta", uuid::Uuid::now_v7())));
        let json =
            serde_json::to_vec(sidecar).map_err(|e| DocumentError::unavailable(format!("encoding metadata: {e}")))?;
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp.path)
            .await
            .map_err(|e| DocumentError::io("creating a temporary file", &e))?;
        file.write_all(&json)
            .await
            .map_err(|e| DocumentError::io("writing a temporary file", &e))?;
        file.sync_all()
            .await
            .map_err(|e| DocumentError::io("syncing a temporary file", &e))?;
        Ok(temp)
    }

    /// Renames `temp` to `dest`, creating parent folders. A concurrent `delete` may prune
    /// an empty parent between the two steps, so a vanished parent is retried.
    async fn install(&self, key: &DocumentKey, temp: &TempFile, dest: &Path) -> Result<(), DocumentError> {
        let parent = dest
            .parent()
            .ok_or_else(|| DocumentError::unavailable(format!("{key} has no parent folder")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Err(e) = fs::create_dir_all(parent).await {
                return Err(if means_conflict(&e) {
                    conflict(key)
                } else {
                    DocumentError::io(format_args!("creating the folder for {key}"), &e)
                });
            }
            match fs::rename(&temp.path, dest).await {
                Ok(()) => {
                    sync_dir(parent).await;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::NotFound && attempt < 3 => continue,
                Err(e) if means_conflict(&e) => return Err(conflict(key)),
                Err(e) => return Err(DocumentError::io(format_args!("storing {key}"), &e)),
            }
        }
    }

    /// Removes empty folders left by a delete, from `path`'s parent up to `base`.
    async fn prune(base: &Path, path: &Path) {
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d == base || !d.starts_with(base) || fs::remove_dir(d).await.is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

#[async_trait::async_trait]
impl DocumentStore for LocalStore {
    async fn put(
        &self,
        key: &DocumentKey,
        body: ByteReader,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, DocumentError> {
        let object_path = self.object_path(key)?;
        let meta_path = self.meta_path(key)?;
        let (data, size, sha256) = self.receive(body).await?;
        let sidecar = Sidecar {
            size,
            sha256,
            content_type: content_type.map(str::to_owned),
        };
        let meta = self.write_sidecar_temp(&sidecar).await?;
        self.install(key, &data, &object_path).await?;
        data.disarm();
        self.install(key, &meta, &meta_path).await?;
        meta.disarm();
        Ok(meta_from(key, sidecar))
    }

    async fn get(&self, key: &DocumentKey) -> Result<(ObjectMeta, ByteReader), DocumentError> {
        let (meta, file) = self.open(key).await?;
        Ok((meta, Box::pin(file)))
    }

    async fn head(&self, key: &DocumentKey) -> Result<ObjectMeta, DocumentError> {
        let (meta, _file) = self.open(key).await?;
        Ok(meta)
    }

    async fn delete(&self, key: &DocumentKey) -> Result<(), DocumentError> {
        let meta_path = self.meta_path(key)?;
        let object_path = self.object_path(key)?;
        // The sidecar goes first: without it the document is no longer visible.
        for (base, path) in [(&self.meta, &meta_path), (&self.objects, &object_path)] {
            match fs::remove_file(path).await {
                Ok(()) => Self::prune(base, path).await,
                Err(e) if means_missing(&e) => {}
                Err(e) => return Err(DocumentError::io(format_args!("deleting {key}"), &e)),
            }
        }
        Ok(())
    }

    async fn check(&self) -> Result<(), DocumentError> {
        for dir in [&self.objects, &self.meta, &self.tmp] {
            let stat = fs::metadata(dir)
                .await
                .map_err(|e| DocumentError::io(format_args!("{}", dir.display()), &e))?;
            if !stat.is_dir() {
                return Err(DocumentError::unavailable(format!("{} is not a folder", dir.display())));
            }
        }
        // Writable? A tiny probe file in tmp/.
        let probe = TempFile::new(self.tmp.join(format!("{}.probe", uuid::Uuid::now_v7())));
        fs::write(&probe.path, b"")
            .await
            .map_err(|e| DocumentError::io(format_args!("writing in {}", self.tmp.display()), &e))?;
        Ok(())
    }

    fn max_size(&self) -> u64 {
        self.max_size
    }

    fn describe(&self) -> String {
        format!("local files under {}", self.root.display())
    }
}

/// `base/<key>`, refusing anything that would not stay strictly under `base` (a second
/// line of defence: validated keys never do).
fn join_under(base: &Path, key: &DocumentKey) -> Result<PathBuf, DocumentError> {
    let mut path = base.to_path_buf();
    for segment in key.segments() {
        let segment = Path::new(segment);
        let mut components = segment.components();
        match (components.next(), components.next()) {
            (Some(Component::Normal(_)), None) => path.push(segment),
            _ => return Err(escapes(key)),
        }
    }
    if path == base || !path.starts_with(base) {
        return Err(escapes(key));
    }
    Ok(path)
}

fn escapes(key: &DocumentKey) -> DocumentError {
    DocumentError::InvalidKey {
        key: key.to_string(),
        reason: "key would escape the store root",
    }
}

fn conflict(key: &DocumentKey) -> DocumentError {
    DocumentError::InvalidKey {
        key: key.to_string(),
        reason: PREFIX_CONFLICT,
    }
}

fn not_found(key: &DocumentKey) -> DocumentError {
    DocumentError::NotFound { key: key.to_string() }
}

fn meta_from(key: &DocumentKey, sidecar: Sidecar) -> ObjectMeta {
    ObjectMeta {
        key: key.clone(),
        size: sidecar.size,
        sha256: sidecar.sha256,
        content_type: sidecar.content_type,
    }
}

/// The path does not name a document: nothing there, a file where a folder was
/// expected on the way, or a folder where the file would be.
fn means_missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::IsADirectory
    )
}

fn means_conflict(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::NotADirectory | ErrorKind::IsADirectory | ErrorKind::DirectoryNotEmpty | ErrorKind::AlreadyExists
    )
}

/// Best-effort fsync of a folder so a rename into it survives a crash.
async fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir).await {
        let _ = handle.sync_all().await;
    }
}

/// A temporary file that is removed when dropped, unless it was renamed into place.
/// Dropping also covers a `put` future that is cancelled midway.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        Self { path, armed: true }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_stays_under_base() {
        let base = Path::new("/srv/granary/objects");
        let key = DocumentKey::parse("a/b/c.pdf").unwrap();
        assert_eq!(
            join_under(base, &key).unwrap(),
            Path::new("/srv/granary/objects/a/b/c.pdf")
        );
        let key = DocumentKey::parse("...").unwrap();
        assert_eq!(join_under(base, &key).unwrap(), Path::new("/srv/granary/objects/..."));
    }
}
