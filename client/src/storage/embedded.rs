//! The embedded store: a content-addressed block store in a directory, no daemon needed.
//!
//! Layout under its root directory:
//!
//! * `blocks/<xx>/<cid>` — one file per block, named by its CIDv1 (base32), sharded by the two
//!   characters before the last one of the name (as Kubo's flatfs `next-to-last/2`);
//! * `pins/<cid>` — an empty file per pinned root;
//! * `tmp/` — where blocks are written before they are renamed into place.
//!
//! Every write goes to a temporary file that is flushed to disk and then renamed over the final
//! name (and the directory is synced), so a crash leaves either the complete block or nothing.
//! Blocks are checked against their CID when read.

use std::{
	fs,
	io::Write,
	path::{Path, PathBuf},
};

use cid::Cid;

use super::{unixfs, Storage, StorageError};

/// Largest file the embedded store reassembles in memory (a guard against a corrupt DAG claiming
/// an absurd size).
pub const MAX_FILE_SIZE: u64 = 4 << 30;

/// A local content-addressed block store (see the module documentation).
#[derive(Clone, Debug)]
pub struct EmbeddedStore {
	root: PathBuf,
}

fn io_err<'a>(
	action: &'static str,
	path: &'a Path,
) -> impl FnOnce(std::io::Error) -> StorageError + 'a {
	move |source| StorageError::Io { action, path: path.to_path_buf(), source }
}

impl EmbeddedStore {
	/// Opens (creating if needed) the store rooted at `root`.
	pub fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
		let root = root.into();
		for sub in ["blocks", "pins", "tmp"] {
			let dir = root.join(sub);
			fs::create_dir_all(&dir).map_err(io_err("creating", &dir))?;
		}
		Ok(Self { root })
	}

	/// The store's root directory.
	pub fn root(&self) -> &Path {
		&self.root
	}

	fn block_path(&self, cid: &Cid) -> PathBuf {
		let name = cid.to_string();
		let shard = if name.len() >= 3 { &name[name.len() - 3..name.len() - 1] } else { "_" };
		self.root.join("blocks").join(shard).join(name)
	}

	/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the directory.
	fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
		let dir = path.parent().unwrap_or(&self.root);
		fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
		let tmp = self.root.join("tmp").join(format!(
			"{}.{}.{:016x}",
			path.file_name().and_then(|n| n.to_str()).unwrap_or("block"),
			std::process::id(),
			rand::random::<u64>()
		));
		let result = (|| {
			let mut f = fs::File::create(&tmp).map_err(io_err("creating", &tmp))?;
			f.write_all(bytes).map_err(io_err("writing", &tmp))?;
			f.sync_all().map_err(io_err("syncing", &tmp))?;
			fs::rename(&tmp, path).map_err(io_err("renaming into", path))?;
			if let Ok(d) = fs::File::open(dir) {
				// Makes the rename durable; not supported everywhere, hence best effort.
				let _ = d.sync_all();
			}
			Ok(())
		})();
		if result.is_err() {
			let _ = fs::remove_file(&tmp);
		}
		result
	}

	/// Stores one block (no-op if present).
	fn put_block(&self, cid: &Cid, block: &[u8]) -> Result<(), StorageError> {
		let path = self.block_path(cid);
		if path.exists() {
			return Ok(());
		}
		self.write_atomic(&path, block)
	}

	/// Reads one block and checks it against its CID.
	pub fn get_block(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
		let path = self.block_path(cid);
		let bytes = match fs::read(&path) {
			Ok(b) => b,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
				return Err(StorageError::NotFound { cid: cid.to_string(), dir: self.root.clone() })
			},
			Err(e) => return Err(io_err("reading", &path)(e)),
		};
		match unixfs::verify_block(cid, &bytes) {
			Some(true) => Ok(bytes),
			Some(false) => Err(StorageError::Corrupt {
				cid: cid.to_string(),
				detail: format!("the block file {} was altered", path.display()),
			}),
			None => Err(StorageError::Unsupported {
				cid: cid.to_string(),
				detail: "only sha2-256 CIDs are stored here".into(),
			}),
		}
	}

	/// Stores `data` as a UnixFS file and pins it (synchronous form of [`Storage::put`]).
	pub fn put_sync(&self, data: &[u8]) -> Result<Cid, StorageError> {
		let root = unixfs::import(data, |cid, block| self.put_block(cid, block))?;
		self.pin_sync(&root)?;
		Ok(root)
	}

	/// Pins `cid` (synchronous form of [`Storage::pin`]); the root block must be present.
	pub fn pin_sync(&self, cid: &Cid) -> Result<(), StorageError> {
		if !self.block_path(cid).exists() {
			return Err(StorageError::NotFound { cid: cid.to_string(), dir: self.root.clone() });
		}
		let pin = self.root.join("pins").join(cid.to_string());
		if pin.exists() {
			return Ok(());
		}
		self.write_atomic(&pin, b"")
	}

	/// Reads the file `cid` (synchronous form of [`Storage::get`]).
	pub fn get_sync(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
		let mut out = Vec::new();
		self.read_into(cid, &mut out, 0)?;
		Ok(out)
	}

	fn read_into(&self, cid: &Cid, out: &mut Vec<u8>, depth: u32) -> Result<(), StorageError> {
		if depth > 64 {
			return Err(StorageError::Unsupported {
				cid: cid.to_string(),
				detail: "DAG deeper than 64".into(),
			});
		}
		let block = self.get_block(cid)?;
		match cid.codec() {
			unixfs::RAW => {
				if out.len() as u64 + block.len() as u64 > MAX_FILE_SIZE {
					return Err(StorageError::Unsupported {
						cid: cid.to_string(),
						detail: format!("file larger than {MAX_FILE_SIZE} bytes"),
					});
				}
				out.extend_from_slice(&block);
				Ok(())
			},
			unixfs::DAG_PB => {
				let bad = |e: unixfs::DecodeError| StorageError::Corrupt {
					cid: cid.to_string(),
					detail: format!("not a valid dag-pb node: {e}"),
				};
				let node = unixfs::decode_pb_node(&block).map_err(bad)?;
				let data =
					unixfs::decode_unixfs(node.data.as_deref().unwrap_or_default()).map_err(bad)?;
				if !matches!(data.kind, unixfs::UnixFsType::File | unixfs::UnixFsType::Raw) {
					return Err(StorageError::Unsupported {
						cid: cid.to_string(),
						detail: format!("UnixFS {:?} nodes are not files", data.kind),
					});
				}
				if out.len() as u64 + data.filesize.unwrap_or(0) > MAX_FILE_SIZE {
					return Err(StorageError::Unsupported {
						cid: cid.to_string(),
						detail: format!("file larger than {MAX_FILE_SIZE} bytes"),
					});
				}
				out.extend_from_slice(&data.data);
				for link in &node.links {
					self.read_into(&link.cid, out, depth + 1)?;
				}
				Ok(())
			},
			other => Err(StorageError::Unsupported {
				cid: cid.to_string(),
				detail: format!("codec 0x{other:x} is neither raw nor dag-pb"),
			}),
		}
	}

	/// Size of the block `cid` (synchronous form of [`Storage::block_size`]).
	pub fn block_size_sync(&self, cid: &Cid) -> Result<u64, StorageError> {
		let path = self.block_path(cid);
		match fs::metadata(&path) {
			Ok(m) => Ok(m.len()),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
				Err(StorageError::NotFound { cid: cid.to_string(), dir: self.root.clone() })
			},
			Err(e) => Err(io_err("reading", &path)(e)),
		}
	}

	/// Whether `cid` is pinned.
	pub fn is_pinned(&self, cid: &Cid) -> bool {
		self.root.join("pins").join(cid.to_string()).exists()
	}
}

impl Storage for EmbeddedStore {
	async fn put(&self, data: bytes::Bytes) -> Result<Cid, StorageError> {
		self.put_sync(&data)
	}
	async fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
		self.get_sync(cid)
	}
	async fn pin(&self, cid: &Cid) -> Result<(), StorageError> {
		self.pin_sync(cid)
	}
	async fn block_size(&self, cid: &Cid) -> Result<u64, StorageError> {
		self.block_size_sync(cid)
	}
	fn describe(&self) -> String {
		format!("embedded store at {}", self.root.display())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn roundtrip_pin_and_corruption() {
		let dir = tempfile::tempdir().unwrap();
		let store = EmbeddedStore::open(dir.path()).unwrap();
		for len in
			[0usize, 1, unixfs::CHUNK_SIZE, unixfs::CHUNK_SIZE + 1, 3 * unixfs::CHUNK_SIZE + 7]
		{
			let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
			let cid = store.put_sync(&data).unwrap();
			assert_eq!(cid, unixfs::cid_of(&data));
			assert!(store.is_pinned(&cid));
			assert_eq!(store.get_sync(&cid).unwrap(), data);
		}
		// Nothing is left in tmp/ after successful writes.
		assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);

		let data = b"some bytes".to_vec();
		let cid = store.put_sync(&data).unwrap();
		fs::write(store.block_path(&cid), b"other bytes").unwrap();
		assert!(matches!(store.get_sync(&cid), Err(StorageError::Corrupt { .. })));

		let missing = unixfs::cid_of(b"never stored");
		assert!(matches!(store.get_sync(&missing), Err(StorageError::NotFound { .. })));
		assert!(matches!(store.pin_sync(&missing), Err(StorageError::NotFound { .. })));
	}
}
