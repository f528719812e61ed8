//! The operations behind `emr record …` and `emr index show`: encrypt, store, append to the
//! patient's index, walk it, fetch and decrypt, share, rotate.
//!
//! The index head this machine knows is kept in one file per patient under
//! `<data-dir>/heads/`; a patient's head on chain is adopted from there by
//! [`crate::records_on_chain::adopt_chain_head`]. A reader on another machine passes the head
//! printed by the writer with `--head`, or reads it from the chain.
//!
//! **What revocation can do**: `rotate` re-encrypts the record under a fresh key for the remaining
//! readers; a removed reader cannot open the new version. It **cannot unread** anything: the
//! removed reader keeps the old version's key and can still open the old version (its ciphertext
//! stays on IPFS unless every copy is unpinned and collected), and any copy already decrypted.

use std::{
	collections::{BTreeSet, HashMap},
	fs,
	io::{Read, Write},
	path::{Path, PathBuf},
	time::{SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use rand::rngs::OsRng;

use crate::{
	crypto::{self, RecordContext, RecordError, SymmetricKey},
	ids::{PatientId, Reader, RecordId, RecordRef},
	index::{self, Author, EntryKind, Envelope, IndexError, Metadata},
	keys::KeySet,
	storage::{Cid, Storage, StorageError},
};

/// Most entries walked in one index (a guard against a malicious, endless chain).
pub const MAX_INDEX_ENTRIES: usize = 10_000_000;

/// Errors of the client operations.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
	/// Storage failed.
	#[error(transparent)]
	Storage(#[from] StorageError),
	/// An index entry is bad.
	#[error("index entry {cid}: {source}")]
	Index {
		/// The entry.
		cid: String,
		/// What is wrong.
		source: IndexError,
	},
	/// Encryption or decryption failed.
	#[error(transparent)]
	Record(#[from] RecordError),
	/// No index head known.
	#[error("patient {patient} has no index on this machine yet (no head in {dir}); pass the head CID printed by the writer with --head")]
	NoIndex {
		/// The patient.
		patient: PatientId,
		/// Where heads are kept.
		dir: PathBuf,
	},
	/// No entry of this record exists.
	#[error("record {0} is not in the patient's index")]
	RecordNotFound(RecordRef),
	/// Entries exist but none is readable by the caller.
	#[error("record {record} was not shared with you (key set {reader}); ask its author to run `emr record share {record} --with <your reader key>`")]
	NotSharedWithYou {
		/// The record.
		record: RecordRef,
		/// The caller's key set name.
		reader: String,
	},
	/// The requested version is not readable by the caller.
	#[error("version {version} of record {record} was not shared with you{}", if readable.is_empty() { String::new() } else { format!(" (you can open version(s) {readable:?})") })]
	VersionNotShared {
		/// The record.
		record: RecordRef,
		/// The version asked for.
		version: u32,
		/// Versions the caller can open.
		readable: Vec<u32>,
	},
	/// The decrypted content does not match the index.
	#[error("the decrypted content of {0} does not match the SHA-256 recorded in the index")]
	ContentHashMismatch(RecordRef),
	/// Someone else changed the head meanwhile.
	#[error("the index of patient {0} changed while this command ran; run it again")]
	ConcurrentUpdate(PatientId),
	/// Rotation by someone who cannot see the latest version.
	#[error("record {0} has newer entries you cannot read (it was rotated without you); only a current reader can rotate it")]
	NotCurrentReader(RecordRef),
	/// Local file error.
	#[error("{action} {path}: {source}")]
	Io {
		/// What was being done.
		action: &'static str,
		/// The file.
		path: PathBuf,
		/// The operating system's error.
		source: std::io::Error,
	},
}

/// One entry of a walked index, as the caller sees it.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // few per index; boxing buys nothing here
pub enum WalkItem {
	/// An entry the caller can read.
	Visible {
		/// The entry's CID.
		cid: Cid,
		/// Its clear part.
		envelope: Envelope,
		/// Its metadata.
		metadata: Metadata,
		/// The record version's key.
		key: SymmetricKey,
	},
	/// An entry not shared with the caller.
	Hidden {
		/// The entry's CID.
		cid: Cid,
		/// Its record id (clear).
		record: RecordId,
	},
}

impl WalkItem {
	/// The record this entry is about.
	pub fn record(&self) -> RecordId {
		match self {
			WalkItem::Visible { envelope, .. } => envelope.record,
			WalkItem::Hidden { record, .. } => *record,
		}
	}
}

/// What `put` and `rotate` produce.
#[derive(Debug, Clone)]
pub struct PutOutcome {
	/// The record.
	pub record: RecordRef,
	/// Its version.
	pub version: u32,
	/// CID of the ciphertext.
	pub ciphertext: Cid,
	/// SHA-256 of the plaintext.
	pub content_hash: [u8; 32],
	/// The new index head (the appended entry).
	pub head: Cid,
	/// Readers of this version.
	pub readers: Vec<Reader>,
}

/// What `get` produces.
#[derive(Debug, Clone)]
pub struct GetOutcome {
	/// The version fetched.
	pub version: u32,
	/// Its metadata.
	pub metadata: Metadata,
	/// Entries of this record closer to the head that the caller cannot read.
	pub newer_hidden: usize,
}

/// Progress reports for long operations (the CLI prints them on stderr).
pub trait Progress {
	/// A step begins.
	fn step(&mut self, message: &str);
}

/// Reports nothing.
pub struct Quiet;
impl Progress for Quiet {
	fn step(&mut self, _: &str) {}
}

/// Readable versions of a record: version → (metadata, key, position of its newest entry).
type Versions = HashMap<u32, (Metadata, SymmetricKey, usize)>;

/// Client operations over a storage back end.
pub struct Client<S> {
	/// Where ciphertexts and index entries go.
	pub store: S,
	heads_dir: PathBuf,
}

fn now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn self_reader(keys: &KeySet) -> Reader {
	Reader { name: keys.public.name.clone(), key: keys.public.encryption }
}

fn author(keys: &KeySet) -> Author {
	Author {
		name: keys.public.name.clone(),
		account: keys.public.account,
		encryption: keys.public.encryption,
	}
}

/// Human-readable byte count.
pub fn human_bytes(n: u64) -> String {
	const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
	let mut v = n as f64;
	let mut u = 0;
	while v >= 1024.0 && u + 1 < UNITS.len() {
		v /= 1024.0;
		u += 1;
	}
	if u == 0 {
		format!("{n} B")
	} else {
		format!("{v:.1} {}", UNITS[u])
	}
}

impl<S: Storage> Client<S> {
	/// A client keeping index heads in `<data_dir>/heads`.
	pub fn new(store: S, data_dir: &Path) -> Self {
		Self { store, heads_dir: data_dir.join("heads") }
	}

	fn head_path(&self, patient: &PatientId) -> PathBuf {
		self.heads_dir.join(format!("{patient}.head"))
	}

	/// The locally known head of `patient`'s index.
	pub fn head(&self, patient: &PatientId) -> Result<Option<Cid>, ClientError> {
		let path = self.head_path(patient);
		match fs::read_to_string(&path) {
			Ok(s) => Cid::try_from(s.trim()).map(Some).map_err(|e| ClientError::Io {
				action: "reading the index head in",
				path,
				source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
			}),
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
			Err(source) => Err(ClientError::Io { action: "reading", path, source }),
		}
	}

	/// Replaces the head if it is still `expected` (atomic write: temp file + rename).
	fn set_head(
		&self,
		patient: &PatientId,
		expected: Option<Cid>,
		new: &Cid,
	) -> Result<(), ClientError> {
		if self.head(patient)? != expected {
			return Err(ClientError::ConcurrentUpdate(patient.clone()));
		}
		let path = self.head_path(patient);
		let io = |action, source| ClientError::Io { action, path: path.clone(), source };
		fs::create_dir_all(&self.heads_dir).map_err(|e| io("creating the directory of", e))?;
		let tmp = self.heads_dir.join(format!(
			".{patient}.{}.{:x}",
			std::process::id(),
			rand::random::<u64>()
		));
		let mut f = fs::File::create(&tmp).map_err(|e| io("writing", e))?;
		f.write_all(format!("{new}\n").as_bytes())
			.and_then(|_| f.sync_all())
			.map_err(|e| io("writing", e))?;
		fs::rename(&tmp, &path).map_err(|e| io("writing", e))?;
		Ok(())
	}

	/// Makes `head` the locally known head of `patient`'s index (none: forget it), whatever was
	/// known before: for a head read from the chain, which is authoritative.
	pub fn adopt_head(&self, patient: &PatientId, head: Option<&Cid>) -> Result<(), ClientError> {
		let current = self.head(patient)?;
		match head {
			Some(h) => self.set_head(patient, current, h),
			None => match fs::remove_file(self.head_path(patient)) {
				Ok(()) => Ok(()),
				Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
				Err(source) => Err(ClientError::Io {
					action: "removing",
					path: self.head_path(patient),
					source,
				}),
			},
		}
	}

	fn resolve_head(&self, patient: &PatientId, head: Option<Cid>) -> Result<Cid, ClientError> {
		match head {
			Some(h) => Ok(h),
			None => self.head(patient)?.ok_or_else(|| ClientError::NoIndex {
				patient: patient.clone(),
				dir: self.heads_dir.clone(),
			}),
		}
	}

	/// Walks `patient`'s index from `head` (or the local head) to the first entry and opens what
	/// `keys` may read. Entries of a record version whose key the caller learnt from another entry
	/// are opened too (all readers of a version see all its entries).
	pub async fn walk(
		&self,
		patient: &PatientId,
		head: Option<Cid>,
		keys: &KeySet,
		progress: &mut dyn Progress,
	) -> Result<Vec<WalkItem>, ClientError> {
		let mut next = Some(self.resolve_head(patient, head)?);
		let secret = keys.encryption_secret();
		let mut items = Vec::new();
		let mut known: HashMap<RecordId, Vec<SymmetricKey>> = HashMap::new();
		let mut seen = BTreeSet::new();
		while let Some(cid) = next {
			if !seen.insert(cid) || items.len() >= MAX_INDEX_ENTRIES {
				return Err(ClientError::Index {
					cid: cid.to_string(),
					source: IndexError::Malformed("the index loops or is too long".into()),
				});
			}
			if items.len() % 100 == 99 {
				progress.step(&format!("read {} index entries", items.len() + 1));
			}
			let bytes = self.store.get(&cid).await?;
			let err = |source| ClientError::Index { cid: cid.to_string(), source };
			let env = Envelope::from_bytes(&bytes).map_err(err)?;
			next = env.prev_cid().map_err(err)?;
			match index::open_entry(patient, &env, &secret).map_err(err)? {
				Some((metadata, key)) => {
					let ks = known.entry(env.record).or_default();
					if !ks.contains(&key) {
						ks.push(key.clone());
					}
					items.push(WalkItem::Visible { cid, envelope: env, metadata, key });
				},
				None => items.push(WalkItem::Hidden { cid, record: env.record }),
			}
		}
		// Second pass: entries without a wrap for us but sealed under a key we learnt elsewhere.
		for item in items.iter_mut() {
			let WalkItem::Hidden { cid, record } = item else { continue };
			let Some(candidates) = known.get(record) else { continue };
			let bytes = self.store.get(cid).await?;
			let env = Envelope::from_bytes(&bytes)
				.map_err(|source| ClientError::Index { cid: cid.to_string(), source })?;
			for key in candidates {
				if let Ok(metadata) = index::open_with_key(patient, &env, key) {
					*item =
						WalkItem::Visible { cid: *cid, envelope: env, metadata, key: key.clone() };
					break;
				}
			}
		}
		Ok(items)
	}

	async fn append(
		&self,
		patient: &PatientId,
		prev: Option<Cid>,
		record: RecordId,
		metadata: &Metadata,
		key: &SymmetricKey,
		keys: &KeySet,
	) -> Result<Cid, ClientError> {
		let env =
			index::seal_entry(patient, prev.as_ref(), record, metadata, key, keys, &mut OsRng)
				.map_err(|source| ClientError::Index { cid: "(new entry)".into(), source })?;
		let cid = self.store.put(Bytes::from(env.to_bytes())).await?;
		self.set_head(patient, prev, &cid)?;
		Ok(cid)
	}

	/// Encrypts `len` bytes from `input` as version `version` of `record`, uploads them and
	/// appends an entry.
	#[allow(clippy::too_many_arguments)]
	async fn write_version(
		&self,
		keys: &KeySet,
		record: RecordRef,
		version: u32,
		kind: EntryKind,
		input: &mut dyn Read,
		len: u64,
		media_type: &str,
		readers: Vec<Reader>,
		progress: &mut dyn Progress,
	) -> Result<PutOutcome, ClientError> {
		let prev = self.head(&record.patient)?;
		let key = SymmetricKey::random(&mut OsRng);
		let ctx = RecordContext { patient: record.patient.clone(), record: record.record, version };
		progress.step(&format!("encrypting {}", human_bytes(len)));
		let (ciphertext, content_hash) = crypto::encrypt_record(
			&key,
			&ctx,
			&mut &mut *input,
			len,
			crypto::DEFAULT_CHUNK_SIZE,
			&mut OsRng,
		)?;
		progress.step(&format!(
			"storing {} in the {}",
			human_bytes(ciphertext.len() as u64),
			self.store.describe()
		));
		let ct_cid = self.store.put(Bytes::from(ciphertext)).await?;
		let metadata = Metadata {
			kind,
			version,
			ciphertext: ct_cid.to_bytes(),
			content_hash,
			content_length: len,
			media_type: media_type.to_owned(),
			author: author(keys),
			time: now(),
			readers: readers.clone(),
		};
		progress.step("appending to the patient's index");
		let head = self.append(&record.patient, prev, record.record, &metadata, &key, keys).await?;
		Ok(PutOutcome { record, version, ciphertext: ct_cid, content_hash, head, readers })
	}

	#[allow(clippy::too_many_arguments)]
	/// `emr record put`: a new record (version 1) readable by the author and `readers`.
	pub async fn put(
		&self,
		keys: &KeySet,
		patient: &PatientId,
		input: &mut dyn Read,
		len: u64,
		media_type: &str,
		readers: &[Reader],
		progress: &mut dyn Progress,
	) -> Result<PutOutcome, ClientError> {
		let mut all = vec![self_reader(keys)];
		for r in readers {
			if !all.iter().any(|a| a.key == r.key) {
				all.push(r.clone());
			}
		}
		let record = RecordRef { patient: patient.clone(), record: RecordId::random() };
		self.write_version(keys, record, 1, EntryKind::Put, input, len, media_type, all, progress)
			.await
	}

	/// Versions of `record` the caller can read: version → (metadata, key, position of the newest
	/// entry), plus the positions of unreadable entries of the record.
	fn readable_versions(items: &[WalkItem], record: &RecordId) -> (Versions, Vec<usize>) {
		let mut versions: Versions = HashMap::new();
		let mut hidden = Vec::new();
		for (pos, item) in items.iter().enumerate() {
			match item {
				WalkItem::Visible { envelope, metadata, key, .. } if envelope.record == *record => {
					versions
						.entry(metadata.version)
						.or_insert_with(|| (metadata.clone(), key.clone(), pos));
				},
				WalkItem::Hidden { record: r, .. } if r == record => hidden.push(pos),
				_ => {},
			}
		}
		(versions, hidden)
	}

	fn pick(
		keys: &KeySet,
		rref: &RecordRef,
		items: &[WalkItem],
		version: Option<u32>,
	) -> Result<(Metadata, SymmetricKey, usize), ClientError> {
		let (versions, hidden) = Self::readable_versions(items, &rref.record);
		if versions.is_empty() {
			return Err(if hidden.is_empty() {
				ClientError::RecordNotFound(rref.clone())
			} else {
				ClientError::NotSharedWithYou {
					record: rref.clone(),
					reader: keys.public.name.clone(),
				}
			});
		}
		let chosen = match version {
			Some(v) => versions.get(&v).cloned().ok_or_else(|| {
				let mut readable: Vec<u32> = versions.keys().copied().collect();
				readable.sort();
				ClientError::VersionNotShared { record: rref.clone(), version: v, readable }
			})?,
			None => versions
				.values()
				.max_by_key(|(m, _, _)| m.version)
				.cloned()
				.ok_or_else(|| ClientError::RecordNotFound(rref.clone()))?,
		};
		let newer_hidden = hidden.iter().filter(|&&p| p < chosen.2).count();
		Ok((chosen.0, chosen.1, newer_hidden))
	}

	/// Fetches and decrypts a record version into `out`, checking the content hash.
	async fn fetch(
		&self,
		rref: &RecordRef,
		metadata: &Metadata,
		key: &SymmetricKey,
		out: &mut dyn Write,
		progress: &mut dyn Progress,
	) -> Result<(), ClientError> {
		let ct_cid =
			Cid::try_from(metadata.ciphertext.as_slice()).map_err(|e| ClientError::Index {
				cid: "(record metadata)".into(),
				source: IndexError::Malformed(format!("bad ciphertext CID: {e}")),
			})?;
		progress.step(&format!(
			"fetching {} from the {}",
			human_bytes(metadata.content_length),
			self.store.describe()
		));
		let ciphertext = self.store.get(&ct_cid).await?;
		progress.step("decrypting");
		let ctx = RecordContext {
			patient: rref.patient.clone(),
			record: rref.record,
			version: metadata.version,
		};
		let hash = crypto::decrypt_record(key, &ctx, &ciphertext, &mut &mut *out)?;
		if hash != metadata.content_hash {
			return Err(ClientError::ContentHashMismatch(rref.clone()));
		}
		Ok(())
	}

	/// `emr record get`: the newest version readable by the caller (or `version`), written to `out`.
	pub async fn get(
		&self,
		keys: &KeySet,
		rref: &RecordRef,
		version: Option<u32>,
		head: Option<Cid>,
		out: &mut dyn Write,
		progress: &mut dyn Progress,
	) -> Result<GetOutcome, ClientError> {
		let items = self.walk(&rref.patient, head, keys, progress).await?;
		let (metadata, key, newer_hidden) = Self::pick(keys, rref, &items, version)?;
		self.fetch(rref, &metadata, &key, out, progress).await?;
		Ok(GetOutcome { version: metadata.version, metadata, newer_hidden })
	}

	/// [`Self::get`] into a file: written to a temporary file next to `path` and renamed into
	/// place only when decryption and verification succeeded.
	pub async fn get_to_file(
		&self,
		keys: &KeySet,
		rref: &RecordRef,
		version: Option<u32>,
		head: Option<Cid>,
		path: &Path,
		progress: &mut dyn Progress,
	) -> Result<GetOutcome, ClientError> {
		let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
		let tmp =
			dir.join(format!(".emr-get.{}.{:x}.tmp", std::process::id(), rand::random::<u64>()));
		let io = |action, source| ClientError::Io { action, path: path.to_owned(), source };
		let file = fs::File::create(&tmp).map_err(|e| io("creating a temporary file for", e))?;
		let mut w = std::io::BufWriter::new(file);
		let result = self.get(keys, rref, version, head, &mut w, progress).await;
		let finished = result.and_then(|r| {
			let f = w.into_inner().map_err(|e| io("writing", e.into_error()))?;
			f.sync_all().map_err(|e| io("writing", e))?;
			fs::rename(&tmp, path).map_err(|e| io("writing", e))?;
			Ok(r)
		});
		if finished.is_err() {
			let _ = fs::remove_file(&tmp);
		}
		finished
	}

	/// `emr record share`: appends an entry wrapping the newest readable version's key for `reader`.
	pub async fn share(
		&self,
		keys: &KeySet,
		rref: &RecordRef,
		reader: &Reader,
		progress: &mut dyn Progress,
	) -> Result<PutOutcome, ClientError> {
		let items = self.walk(&rref.patient, None, keys, progress).await?;
		let (metadata, key, _) = Self::pick(keys, rref, &items, None)?;
		let prev = self.head(&rref.patient)?;
		let share = Metadata {
			kind: EntryKind::Share,
			author: author(keys),
			time: now(),
			readers: vec![reader.clone()],
			..metadata.clone()
		};
		let head = self.append(&rref.patient, prev, rref.record, &share, &key, keys).await?;
		let ciphertext = Cid::try_from(metadata.ciphertext.as_slice()).unwrap_or_default();
		Ok(PutOutcome {
			record: rref.clone(),
			version: metadata.version,
			ciphertext,
			content_hash: metadata.content_hash,
			head,
			readers: vec![reader.clone()],
		})
	}

	/// `emr record rotate`: re-encrypts the newest version under a fresh key as the next version,
	/// for its current readers minus `remove` (X25519 public keys). See the module documentation
	/// for what this can and cannot revoke.
	pub async fn rotate(
		&self,
		keys: &KeySet,
		rref: &RecordRef,
		remove: &[[u8; 32]],
		progress: &mut dyn Progress,
	) -> Result<PutOutcome, ClientError> {
		let items = self.walk(&rref.patient, None, keys, progress).await?;
		let (metadata, key, newer_hidden) = Self::pick(keys, rref, &items, None)?;
		if newer_hidden > 0 {
			return Err(ClientError::NotCurrentReader(rref.clone()));
		}
		// Current readers: every reader named by an entry of this version, and the caller.
		let mut readers = vec![self_reader(keys)];
		for item in &items {
			if let WalkItem::Visible { envelope, metadata: m, .. } = item {
				if envelope.record == rref.record && m.version == metadata.version {
					for r in &m.readers {
						if !readers.iter().any(|x| x.key == r.key) {
							readers.push(r.clone());
						}
					}
				}
			}
		}
		readers.retain(|r| !remove.contains(&r.key));
		let mut plain = Vec::with_capacity(metadata.content_length as usize);
		self.fetch(rref, &metadata, &key, &mut plain, progress).await?;
		let len = plain.len() as u64;
		self.write_version(
			keys,
			rref.clone(),
			metadata.version + 1,
			EntryKind::Rotate,
			&mut plain.as_slice(),
			len,
			&metadata.media_type,
			readers,
			progress,
		)
		.await
	}
}
