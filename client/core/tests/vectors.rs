//! The test vectors of `docs/formats.md` are checked against the code: every block tagged
//! `<!-- vector:NAME -->` in the document must equal what the code computes (or, for the index
//! entry, whose sr25519 signature is randomised, must decode and open to the documented values).
//!
//! `EMR_PRINT_VECTORS=1 cargo test -p emr-client-core --test vectors -- --nocapture` prints the computed
//! blocks.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use codec::Encode;
use emr_client_core::{
	crypto::{self, EncryptionSecret, RecordContext, SymmetricKey},
	ids::{PatientId, Reader, RecordId},
	index::{self, Author, EntryKind, Envelope, Metadata},
	keys::{self, KdfParams, KeySet},
	unixfs,
};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Hex blocks of the document by name.
fn documented() -> HashMap<String, String> {
	let doc =
		std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/formats.md"))
			.expect("docs/formats.md exists");
	let mut out = HashMap::new();
	let mut lines = doc.lines();
	while let Some(line) = lines.next() {
		let Some(name) =
			line.trim().strip_prefix("<!-- vector:").and_then(|r| r.strip_suffix(" -->"))
		else {
			continue;
		};
		assert_eq!(
			lines.next().map(str::trim),
			Some("```text"),
			"vector {name}: expected a ```text block"
		);
		let mut hex = String::new();
		for l in lines.by_ref() {
			if l.trim() == "```" {
				break;
			}
			hex.push_str(l.trim());
		}
		out.insert(name.to_owned(), hex);
	}
	out
}

fn wrap_hex(bytes: &[u8]) -> String {
	hex::encode(bytes)
		.as_bytes()
		.chunks(96)
		.map(|c| std::str::from_utf8(c).unwrap())
		.collect::<Vec<_>>()
		.join("\n")
}

fn check(doc: &HashMap<String, String>, name: &str, computed: &[u8]) {
	if std::env::var_os("EMR_PRINT_VECTORS").is_some() {
		println!("<!-- vector:{name} -->\n```text\n{}\n```\n", wrap_hex(computed));
		return;
	}
	let want = doc.get(name).unwrap_or_else(|| panic!("docs/formats.md lacks vector {name}"));
	assert_eq!(hex::encode(computed), *want, "vector {name} differs from docs/formats.md");
}

fn patient() -> PatientId {
	PatientId::new("patient-42").unwrap()
}

fn record() -> RecordId {
	RecordId(hex::decode("00112233445566778899aabbccddeeff").unwrap().try_into().unwrap())
}

fn seq(start: u8, len: usize) -> Vec<u8> {
	(0..len).map(|i| start.wrapping_add(i as u8)).collect()
}

fn key32(start: u8) -> [u8; 32] {
	seq(start, 32).try_into().unwrap()
}

#[test]
fn record_vector() {
	let doc = documented();
	let ctx = RecordContext { patient: patient(), record: record(), version: 1 };
	check(&doc, "record-associated-data", &ctx.associated_data());
	let key = SymmetricKey(key32(0x00));
	let prefix: [u8; 19] = seq(0xa0, 19).try_into().unwrap();
	let plaintext = b"{\"resourceType\":\"Observation\"}";
	let (ct, hash) = crypto::encrypt_record_with_nonce_prefix(
		&key,
		&ctx,
		&mut &plaintext[..],
		plaintext.len() as u64,
		1024,
		prefix,
	)
	.unwrap();
	check(&doc, "record-ciphertext", &ct);
	let mut out = Vec::new();
	assert_eq!(crypto::decrypt_record(&key, &ctx, &ct, &mut out).unwrap(), hash);
	assert_eq!(out, plaintext);
	// A two-chunk record (chunk size 1024, 1030 bytes of 0x61) shows the chunk framing.
	let two = vec![0x61u8; 1030];
	let (ct2, _) =
		crypto::encrypt_record_with_nonce_prefix(&key, &ctx, &mut &two[..], 1030, 1024, prefix)
			.unwrap();
	check(&doc, "record-two-chunks-tail", &ct2[ct2.len() - 6 - 16..]);
}

#[test]
fn wrap_vector() {
	let doc = documented();
	let reader = EncryptionSecret(key32(0x40));
	check(&doc, "wrap-reader-public", &reader.public());
	let key = SymmetricKey(key32(0x00));
	let aad = [b"emr-index-wrap-v1".as_slice(), &patient().encode(), &record().0].concat();
	let mut rng = ChaCha20Rng::from_seed([7; 32]);
	let w = crypto::wrap_key(&reader.public(), &key, &aad, &mut rng).unwrap();
	check(&doc, "wrap", &w.encode());
	let documented = doc.get("wrap").map(|h| hex::decode(h).unwrap());
	if let Some(bytes) = documented {
		let w: crypto::WrappedKey = codec::Decode::decode(&mut &bytes[..]).unwrap();
		assert_eq!(crypto::unwrap_key(&reader, &[w], &aad).unwrap(), Some(key));
	}
}

fn vector_author() -> KeySet {
	KeySet::from_seeds("dr-a", key32(0x10), key32(0x20), key32(0x30))
}

#[test]
fn index_entry_vector() {
	let doc = documented();
	let author = vector_author();
	let reader = EncryptionSecret(key32(0x40));
	let expected = Metadata {
		kind: EntryKind::Put,
		version: 1,
		ciphertext: unixfs::cid_of(b"ciphertext").to_bytes(),
		content_hash: key32(0x50),
		content_length: 30,
		media_type: "Observation".into(),
		author: Author {
			name: "dr-a".into(),
			account: author.public.account,
			encryption: author.public.encryption,
		},
		time: 1_700_000_000,
		readers: vec![
			Reader { name: "dr-a".into(), key: author.public.encryption },
			Reader { name: "reader".into(), key: reader.public() },
		],
	};
	check(&doc, "index-metadata", &expected.encode());
	if std::env::var_os("EMR_PRINT_VECTORS").is_some() {
		let mut rng = ChaCha20Rng::from_seed([9; 32]);
		let prev = unixfs::cid_of(b"previous entry");
		let env = index::seal_entry(
			&patient(),
			Some(&prev),
			record(),
			&expected,
			&SymmetricKey(key32(0x00)),
			&author,
			&mut rng,
		)
		.unwrap();
		check(&doc, "index-entry", &env.to_bytes());
		return;
	}
	let bytes = hex::decode(&doc["index-entry"]).unwrap();
	let env = Envelope::from_bytes(&bytes).unwrap();
	assert_eq!(env.to_bytes(), bytes, "canonical re-encoding");
	assert_eq!(env.prev_cid().unwrap(), Some(unixfs::cid_of(b"previous entry")));
	assert_eq!(env.record, record());
	let (metadata, key) = index::open_entry(&patient(), &env, &reader).unwrap().unwrap();
	assert_eq!(metadata, expected);
	assert_eq!(key, SymmetricKey(key32(0x00)));
	// The author opens it too; a stranger does not.
	assert!(index::open_entry(&patient(), &env, &author.encryption_secret()).unwrap().is_some());
	assert!(index::open_entry(&patient(), &env, &EncryptionSecret([0x99; 32])).unwrap().is_none());
}

#[test]
fn keystore_vector() {
	let doc = documented();
	let keys = vector_author();
	check(&doc, "account-public", &keys.public.account);
	check(&doc, "encryption-public", &keys.public.encryption);
	let rollup = emr_primitives::schnorr::SecretKey::from_seed(&key32(0x20)).public();
	assert_eq!(keys.public.rollup, rollup);
	check(&doc, "rollup-public", &rollup.to_bytes());
	let kdf = KdfParams { m_cost_kib: 64, t_cost: 1, p_cost: 1 };
	let bytes = keys::seal_file(
		&keys,
		b"emr test vector",
		kdf,
		seq(0x60, 16).try_into().unwrap(),
		seq(0x70, 24).try_into().unwrap(),
	)
	.unwrap();
	check(&doc, "keystore-file", &bytes);
	let opened =
		keys::open_file(std::path::Path::new("vector"), &bytes, b"emr test vector").unwrap();
	assert_eq!(opened.public, keys.public);
}

#[test]
fn unixfs_vectors() {
	// CIDs reported by js-ipfs 0.66.1 (`add?cid-version=1&raw-leaves=true`) for these inputs.
	let cases: [(&[u8], &str); 3] = [
		(b"", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
		(b"hello world\n", "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"),
		(&[0u8; 262_145], "zdj7Wj7gtPF8KfVP2steidk1WyyYCjK6xUFsBvF1uwVxypNhP"),
	];
	for (data, cid) in cases {
		assert_eq!(unixfs::cid_of(data), cid.parse::<cid::Cid>().unwrap(), "{cid}");
	}
	// The root node of the 262 145-zero-byte file, byte for byte.
	let mut root = Vec::new();
	unixfs::import::<()>(&[0u8; 262_145], |c, b| {
		if c.codec() == unixfs::DAG_PB {
			root = b.to_vec();
		}
		Ok(())
	})
	.unwrap();
	check(&documented(), "unixfs-two-chunk-root", &root);
}
