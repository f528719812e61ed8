//! Content-addressed storage: the [`Storage`] trait, the embedded block store and the Kubo RPC
//! client.
//!
//! Both back ends produce the same CIDs for the same bytes (CIDv1, raw leaves, 256 KiB chunks,
//! balanced DAG — see [`unixfs`]), so content moves between them unchanged.

pub mod embedded;
pub mod kubo;

/// Content ids as IPFS computes them (from the core: the browser computes the same).
pub use emr_client_core::unixfs;

use std::{future::Future, path::PathBuf};

pub use cid::Cid;
pub use embedded::EmbeddedStore;
pub use kubo::{KuboClient, KuboConfig};

/// Errors of the storage back ends, worded for the people who run them.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
	/// The endpoint URL is not usable.
	#[error("invalid IPFS API address {url:?}: {reason}")]
	BadEndpoint {
		/// The address as given.
		url: String,
		/// Why it was rejected.
		reason: String,
	},
	/// Nothing accepted the connection.
	#[error("the IPFS daemon at {endpoint} could not be reached ({reason}); is it running? (scripts/ipfs.sh start)")]
	Unreachable {
		/// The daemon's address.
		endpoint: String,
		/// The operating system's reason.
		reason: String,
	},
	/// The daemon did not answer in time.
	#[error("the IPFS daemon at {endpoint} did not answer {call} within {seconds} s")]
	Timeout {
		/// The daemon's address.
		endpoint: String,
		/// The RPC call.
		call: String,
		/// The limit that was exceeded.
		seconds: u64,
	},
	/// The daemon answered with an HTTP error.
	#[error("the IPFS daemon at {endpoint} refused {call}: HTTP {status}: {message}")]
	Http {
		/// The daemon's address.
		endpoint: String,
		/// The RPC call.
		call: String,
		/// HTTP status code.
		status: u16,
		/// The daemon's error message (or the start of the body).
		message: String,
	},
	/// The response exceeded the configured size limit.
	#[error(
		"the IPFS daemon at {endpoint} sent more than {limit} bytes for {call}; refusing the rest"
	)]
	TooLarge {
		/// The daemon's address.
		endpoint: String,
		/// The RPC call.
		call: String,
		/// The limit in bytes.
		limit: u64,
	},
	/// The daemon sent something this client does not understand.
	#[error("the IPFS daemon at {endpoint} sent an answer to {call} this client does not understand: {detail}")]
	BadResponse {
		/// The daemon's address.
		endpoint: String,
		/// The RPC call.
		call: String,
		/// What was wrong.
		detail: String,
	},
	/// The connection broke during the exchange.
	#[error("the connection to the IPFS daemon at {endpoint} failed during {call}: {reason}")]
	Connection {
		/// The daemon's address.
		endpoint: String,
		/// The RPC call.
		call: String,
		/// The underlying error.
		reason: String,
	},
	/// The content is not in the local store.
	#[error("{cid} is not in the local block store at {dir} (was it added with --ipfs-api to a daemon?)")]
	NotFound {
		/// The CID asked for.
		cid: String,
		/// The store's directory.
		dir: PathBuf,
	},
	/// Bytes do not match the CID they were stored or served under.
	#[error("the content of {cid} does not match its CID ({detail}); the store or the daemon returned corrupt data")]
	Corrupt {
		/// The CID.
		cid: String,
		/// What did not match.
		detail: String,
	},
	/// The content uses an IPLD feature this client does not read.
	#[error("{cid} cannot be read by this client: {detail}")]
	Unsupported {
		/// The CID.
		cid: String,
		/// What is unsupported.
		detail: String,
	},
	/// Reading or writing the local store failed.
	#[error("local block store: {action} {path}: {source}")]
	Io {
		/// What was being done.
		action: &'static str,
		/// The file or directory.
		path: PathBuf,
		/// The operating system's error.
		source: std::io::Error,
	},
}

/// A content-addressed store of files.
///
/// `put` imports bytes as a UnixFS file with CIDv1, raw leaves, 256 KiB chunks and the balanced
/// layout, pins it and returns its root CID; `get` returns the file's bytes after checking them
/// against the CID.
pub trait Storage {
	/// Stores `data` as a file, pins it and returns its CID.
	fn put(&self, data: bytes::Bytes) -> impl Future<Output = Result<Cid, StorageError>> + Send;
	/// Returns the bytes of the file `cid`.
	fn get(&self, cid: &Cid) -> impl Future<Output = Result<Vec<u8>, StorageError>> + Send;
	/// Pins `cid` (keeps it from garbage collection).
	fn pin(&self, cid: &Cid) -> impl Future<Output = Result<(), StorageError>> + Send;
	/// Size in bytes of the single block `cid` (not of the whole file).
	fn block_size(&self, cid: &Cid) -> impl Future<Output = Result<u64, StorageError>> + Send;
	/// A short description for messages ("embedded store at …", "IPFS daemon at …").
	fn describe(&self) -> String;
}

/// Either back end, chosen at run time (`--ipfs-api` selects the daemon).
pub enum Store {
	/// The embedded block store under the data directory.
	Embedded(EmbeddedStore),
	/// A daemon speaking the Kubo RPC API.
	Kubo(KuboClient),
}

impl Storage for Store {
	async fn put(&self, data: bytes::Bytes) -> Result<Cid, StorageError> {
		match self {
			Store::Embedded(s) => s.put(data).await,
			Store::Kubo(s) => s.put(data).await,
		}
	}
	async fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
		match self {
			Store::Embedded(s) => s.get(cid).await,
			Store::Kubo(s) => s.get(cid).await,
		}
	}
	async fn pin(&self, cid: &Cid) -> Result<(), StorageError> {
		match self {
			Store::Embedded(s) => s.pin(cid).await,
			Store::Kubo(s) => s.pin(cid).await,
		}
	}
	async fn block_size(&self, cid: &Cid) -> Result<u64, StorageError> {
		match self {
			Store::Embedded(s) => s.block_size(cid).await,
			Store::Kubo(s) => s.block_size(cid).await,
		}
	}
	fn describe(&self) -> String {
		match self {
			Store::Embedded(s) => s.describe(),
			Store::Kubo(s) => s.describe(),
		}
	}
}

/// Checks bytes served for `cid` by re-importing them with this client's settings. CIDs of other
/// hash functions, CIDv0 and imports with other settings cannot be checked this way; those are
/// returned unchecked (`Ok(false)`), everything else must match (`Ok(true)`) or is an error.
pub fn verify_content(cid: &Cid, data: &[u8]) -> Result<bool, StorageError> {
	if cid.version() != cid::Version::V1 || cid.hash().code() != unixfs::SHA2_256 {
		return Ok(false);
	}
	match cid.codec() {
		unixfs::RAW => match unixfs::verify_block(cid, data) {
			Some(true) => Ok(true),
			_ => Err(StorageError::Corrupt {
				cid: cid.to_string(),
				detail: "sha2-256 of the bytes differs".into(),
			}),
		},
		unixfs::DAG_PB => {
			let again = unixfs::cid_of(data);
			if again == *cid {
				Ok(true)
			} else {
				Err(StorageError::Corrupt {
					cid: cid.to_string(),
					detail: format!(
						"re-importing the {} bytes gives {again} (if the file was added with other \
						 chunker or layout settings, fetch it with `ipfs cat` instead)",
						data.len()
					),
				})
			}
		},
		_ => Ok(false),
	}
}
