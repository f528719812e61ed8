//! UnixFS import and export, byte-compatible with Kubo and js-ipfs.
//!
//! The importer reproduces `ipfs add --cid-version=1 --raw-leaves=true --chunker=size-262144`
//! with the default balanced layout:
//!
//! * the input is cut into 262 144-byte chunks (the last one shorter; an empty input is one empty
//!   chunk);
//! * every chunk is a **raw** block (CIDv1, codec `raw` 0x55, sha2-256);
//! * a single chunk *is* the file: its CID is the file's CID;
//! * otherwise chunks are grouped, in order, 174 at a time under dag-pb nodes (CIDv1, codec
//!   `dag-pb` 0x70) carrying a UnixFS `File` message (`filesize`, one `blocksizes` entry per
//!   child), and those nodes again 174 at a time, until one root remains.
//!
//! The protobuf encoding is written by hand (a handful of fields): the dag-pb `PBNode` puts its
//! `Links` (field 2) before `Data` (field 1), each `PBLink` is `Hash` (1), `Name` (2, always present,
//! empty), `Tsize` (3); UnixFS `Data` is `Type` (1), `filesize` (3), `blocksizes` (4, not packed).
//! The decoder accepts any field order, skips unknown fields and never panics on malformed input.

use cid::multihash::Multihash;
use cid::Cid;
use sha2::{Digest, Sha256};

/// Chunk size of Kubo's default chunker (`size-262144`).
pub const CHUNK_SIZE: usize = 262_144;
/// Maximum number of links per node of the balanced layout (Kubo and js-ipfs default).
pub const MAX_LINKS: usize = 174;
/// Multicodec code of raw blocks.
pub const RAW: u64 = 0x55;
/// Multicodec code of dag-pb blocks.
pub const DAG_PB: u64 = 0x70;
/// Multihash code of sha2-256.
pub const SHA2_256: u64 = 0x12;

/// Computes the CIDv1 of one block (sha2-256) for the given codec.
pub fn block_cid(codec: u64, block: &[u8]) -> Cid {
	let digest = Sha256::digest(block);
	// A 32-byte digest always fits the 64-byte multihash.
	let mh =
		Multihash::<64>::wrap(SHA2_256, &digest).expect("32-byte digest fits a 64-byte multihash");
	Cid::new_v1(codec, mh)
}

/// Checks that `block` hashes to `cid` (sha2-256 CIDs only). Returns `None` when the CID uses a
/// hash function this client does not implement (the block then cannot be verified).
pub fn verify_block(cid: &Cid, block: &[u8]) -> Option<bool> {
	let mh = cid.hash();
	if mh.code() != SHA2_256 {
		return None;
	}
	Some(Sha256::digest(block).as_slice() == mh.digest())
}

/// A node of the DAG while it is being built: its CID, its cumulative size (`Tsize`) and the
/// number of file bytes under it.
#[derive(Clone, Copy)]
struct Built {
	cid: Cid,
	tsize: u64,
	filesize: u64,
}

/// Imports `data` as a UnixFS file, handing every block to `sink` (children before parents) and
/// returning the root CID.
pub fn import<E>(
	data: &[u8],
	mut sink: impl FnMut(&Cid, &[u8]) -> Result<(), E>,
) -> Result<Cid, E> {
	let mut level: Vec<Built> = Vec::with_capacity(data.len() / CHUNK_SIZE + 1);
	if data.is_empty() {
		let cid = block_cid(RAW, &[]);
		sink(&cid, &[])?;
		return Ok(cid);
	}
	for chunk in data.chunks(CHUNK_SIZE) {
		let cid = block_cid(RAW, chunk);
		sink(&cid, chunk)?;
		level.push(Built { cid, tsize: chunk.len() as u64, filesize: chunk.len() as u64 });
	}
	while level.len() > 1 {
		let mut next = Vec::with_capacity(level.len() / MAX_LINKS + 1);
		for group in level.chunks(MAX_LINKS) {
			let block = file_node(group);
			let cid = block_cid(DAG_PB, &block);
			sink(&cid, &block)?;
			let tsize = block.len() as u64 + group.iter().map(|c| c.tsize).sum::<u64>();
			let filesize = group.iter().map(|c| c.filesize).sum();
			next.push(Built { cid, tsize, filesize });
		}
		level = next;
	}
	Ok(level[0].cid)
}

/// Computes the root CID `data` gets when imported, without storing anything.
pub fn cid_of(data: &[u8]) -> Cid {
	match import::<std::convert::Infallible>(data, |_, _| Ok(())) {
		Ok(cid) => cid,
		Err(never) => match never {},
	}
}

/// Encodes a dag-pb node with a UnixFS `File` message linking `children` in order.
fn file_node(children: &[Built]) -> Vec<u8> {
	let filesize: u64 = children.iter().map(|c| c.filesize).sum();
	let mut unixfs = Vec::with_capacity(8 + children.len() * 5);
	put_varint_field(&mut unixfs, 1, UnixFsType::File as u64);
	put_varint_field(&mut unixfs, 3, filesize);
	for c in children {
		put_varint_field(&mut unixfs, 4, c.filesize);
	}
	let mut node = Vec::with_capacity(unixfs.len() + children.len() * 48 + 8);
	for c in children {
		let mut link = Vec::with_capacity(48);
		put_bytes_field(&mut link, 1, &c.cid.to_bytes());
		put_bytes_field(&mut link, 2, b"");
		put_varint_field(&mut link, 3, c.tsize);
		put_bytes_field(&mut node, 2, &link);
	}
	put_bytes_field(&mut node, 1, &unixfs);
	node
}

/// UnixFS node types (`Data.DataType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixFsType {
	/// Raw data.
	Raw = 0,
	/// Directory.
	Directory = 1,
	/// File.
	File = 2,
	/// Metadata.
	Metadata = 3,
	/// Symbolic link.
	Symlink = 4,
	/// HAMT-sharded directory.
	HamtShard = 5,
}

/// A decoded dag-pb link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbLink {
	/// Target CID.
	pub cid: Cid,
	/// Link name (empty for file chunks).
	pub name: String,
	/// Cumulative size of the target.
	pub tsize: Option<u64>,
}

/// A decoded dag-pb node.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PbNode {
	/// Links in order.
	pub links: Vec<PbLink>,
	/// The `Data` field (a UnixFS message for UnixFS nodes).
	pub data: Option<Vec<u8>>,
}

/// A decoded UnixFS `Data` message (the fields a file reader needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnixFsData {
	/// Node type.
	pub kind: UnixFsType,
	/// Inline file bytes.
	pub data: Vec<u8>,
	/// Total file size under this node.
	pub filesize: Option<u64>,
	/// File bytes under each link.
	pub blocksizes: Vec<u64>,
}

/// Why a block could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
	/// The protobuf bytes are malformed.
	#[error("malformed protobuf: {0}")]
	Malformed(&'static str),
	/// A link carries an invalid CID.
	#[error("a link carries an invalid CID")]
	BadCid,
	/// A required field is missing.
	#[error("missing field {0}")]
	Missing(&'static str),
	/// The UnixFS type is not a known one.
	#[error("unknown UnixFS type {0}")]
	UnknownType(u64),
}

/// Decodes a dag-pb node.
pub fn decode_pb_node(mut buf: &[u8]) -> Result<PbNode, DecodeError> {
	let mut node = PbNode::default();
	while !buf.is_empty() {
		let (field, wire) = read_key(&mut buf)?;
		match (field, wire) {
			(2, 2) => node.links.push(decode_pb_link(read_len(&mut buf)?)?),
			(1, 2) => node.data = Some(read_len(&mut buf)?.to_vec()),
			_ => skip(&mut buf, wire)?,
		}
	}
	Ok(node)
}

fn decode_pb_link(mut buf: &[u8]) -> Result<PbLink, DecodeError> {
	let (mut cid, mut name, mut tsize) = (None, String::new(), None);
	while !buf.is_empty() {
		let (field, wire) = read_key(&mut buf)?;
		match (field, wire) {
			(1, 2) => {
				cid = Some(Cid::try_from(read_len(&mut buf)?).map_err(|_| DecodeError::BadCid)?)
			},
			(2, 2) => {
				name = String::from_utf8(read_len(&mut buf)?.to_vec())
					.map_err(|_| DecodeError::Malformed("link name is not UTF-8"))?
			},
			(3, 0) => tsize = Some(read_varint(&mut buf)?),
			_ => skip(&mut buf, wire)?,
		}
	}
	Ok(PbLink { cid: cid.ok_or(DecodeError::Missing("PBLink.Hash"))?, name, tsize })
}

/// Decodes a UnixFS `Data` message.
pub fn decode_unixfs(mut buf: &[u8]) -> Result<UnixFsData, DecodeError> {
	let mut kind = None;
	let mut out = UnixFsData {
		kind: UnixFsType::Raw,
		data: Vec::new(),
		filesize: None,
		blocksizes: Vec::new(),
	};
	while !buf.is_empty() {
		let (field, wire) = read_key(&mut buf)?;
		match (field, wire) {
			(1, 0) => {
				kind = Some(match read_varint(&mut buf)? {
					0 => UnixFsType::Raw,
					1 => UnixFsType::Directory,
					2 => UnixFsType::File,
					3 => UnixFsType::Metadata,
					4 => UnixFsType::Symlink,
					5 => UnixFsType::HamtShard,
					other => return Err(DecodeError::UnknownType(other)),
				})
			},
			(2, 2) => out.data = read_len(&mut buf)?.to_vec(),
			(3, 0) => out.filesize = Some(read_varint(&mut buf)?),
			(4, 0) => out.blocksizes.push(read_varint(&mut buf)?),
			(4, 2) => {
				// Packed encoding (not produced by Kubo, but valid protobuf).
				let mut packed = read_len(&mut buf)?;
				while !packed.is_empty() {
					out.blocksizes.push(read_varint(&mut packed)?);
				}
			},
			_ => skip(&mut buf, wire)?,
		}
	}
	out.kind = kind.ok_or(DecodeError::Missing("Data.Type"))?;
	Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
	while v >= 0x80 {
		out.push((v as u8) | 0x80);
		v >>= 7;
	}
	out.push(v as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
	put_varint(out, field << 3);
	put_varint(out, v);
}

fn put_bytes_field(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
	put_varint(out, (field << 3) | 2);
	put_varint(out, bytes.len() as u64);
	out.extend_from_slice(bytes);
}

fn read_varint(buf: &mut &[u8]) -> Result<u64, DecodeError> {
	let mut v: u64 = 0;
	for i in 0..10 {
		let (&b, rest) = buf.split_first().ok_or(DecodeError::Malformed("truncated varint"))?;
		*buf = rest;
		if i == 9 && b > 1 {
			return Err(DecodeError::Malformed("varint overflows 64 bits"));
		}
		v |= u64::from(b & 0x7f) << (7 * i);
		if b & 0x80 == 0 {
			return Ok(v);
		}
	}
	Err(DecodeError::Malformed("varint longer than 10 bytes"))
}

fn read_key(buf: &mut &[u8]) -> Result<(u64, u8), DecodeError> {
	let key = read_varint(buf)?;
	if key >> 3 == 0 {
		return Err(DecodeError::Malformed("field number 0"));
	}
	Ok((key >> 3, (key & 7) as u8))
}

fn read_len<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
	let len = read_varint(buf)?;
	let len = usize::try_from(len).map_err(|_| DecodeError::Malformed("length overflows"))?;
	if len > buf.len() {
		return Err(DecodeError::Malformed("length runs past the end"));
	}
	let (head, rest) = buf.split_at(len);
	*buf = rest;
	Ok(head)
}

fn skip(buf: &mut &[u8], wire: u8) -> Result<(), DecodeError> {
	let n = match wire {
		0 => return read_varint(buf).map(|_| ()),
		1 => 8,
		2 => return read_len(buf).map(|_| ()),
		5 => 4,
		_ => return Err(DecodeError::Malformed("unsupported wire type")),
	};
	if buf.len() < n {
		return Err(DecodeError::Malformed("fixed-size field runs past the end"));
	}
	*buf = &buf[n..];
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	#[test]
	fn known_cids() {
		// `ipfs add --cid-version=1 --raw-leaves` of the empty file and of "hello world\n".
		assert_eq!(
			cid_of(b"").to_string(),
			"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
		);
		assert_eq!(
			cid_of(b"hello world\n").to_string(),
			"bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
		);
	}

	#[test]
	fn two_chunk_node_layout() {
		let data = vec![7u8; CHUNK_SIZE + 1];
		let mut blocks = Vec::new();
		let root = import::<()>(&data, |c, b| {
			blocks.push((*c, b.to_vec()));
			Ok(())
		})
		.unwrap();
		assert_eq!(blocks.len(), 3);
		assert_eq!(root.codec(), DAG_PB);
		let node = decode_pb_node(&blocks[2].1).unwrap();
		assert_eq!(node.links.len(), 2);
		assert_eq!(node.links[0].cid, blocks[0].0);
		assert_eq!(node.links[1].tsize, Some(1));
		let fs = decode_unixfs(node.data.as_deref().unwrap()).unwrap();
		assert_eq!(fs.kind, UnixFsType::File);
		assert_eq!(fs.filesize, Some(CHUNK_SIZE as u64 + 1));
		assert_eq!(fs.blocksizes, vec![CHUNK_SIZE as u64, 1]);
	}

	#[test]
	fn deep_tree_has_max_links() {
		// 175 chunks: a root over a full node (174 leaves) and a node with one leaf.
		let data = vec![1u8; CHUNK_SIZE * 175];
		let mut nodes = Vec::new();
		let root = import::<()>(&data, |c, b| {
			if c.codec() == DAG_PB {
				nodes.push((*c, decode_pb_node(b).unwrap()));
			}
			Ok(())
		})
		.unwrap();
		assert_eq!(nodes.len(), 3);
		assert_eq!(nodes[0].1.links.len(), 174);
		assert_eq!(nodes[1].1.links.len(), 1);
		assert_eq!(nodes[2].0, root);
		assert_eq!(nodes[2].1.links.len(), 2);
	}

	proptest! {
		#[test]
		fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
			let _ = decode_pb_node(&bytes);
			let _ = decode_unixfs(&bytes);
		}

		#[test]
		fn varint_roundtrip(v in any::<u64>()) {
			let mut out = Vec::new();
			put_varint(&mut out, v);
			let mut s = out.as_slice();
			prop_assert_eq!(read_varint(&mut s).unwrap(), v);
			prop_assert!(s.is_empty());
		}
	}
}
