//! Records with the embedded store: round trips of every size class, sharing, "not shared with
//! you", rotation (revocation for new versions only), damaged storage, and the `emr` binary.
#![allow(clippy::unwrap_used)]

mod common;

use common::{data, emr, emr_ok, field};
use emr_cli::{
	client::{Client, ClientError, Quiet, WalkItem},
	crypto::RecordError,
	ids::{PatientId, Reader},
	keys::{KdfParams, KeySet, Keystore},
	storage::{EmbeddedStore, Storage, StorageError},
};
use emr_primitives::schnorr::SecretKey;

fn setup() -> (tempfile::TempDir, Client<EmbeddedStore>) {
	let dir = tempfile::tempdir().unwrap();
	let store = EmbeddedStore::open(dir.path().join("ipfs")).unwrap();
	let client = Client::new(store, dir.path());
	(dir, client)
}

fn reader(k: &KeySet) -> Reader {
	Reader { name: k.public.name.clone(), key: k.public.encryption }
}

#[tokio::test]
async fn round_trips() {
	let (_dir, client) = setup();
	let alice = KeySet::generate("alice");
	let p = PatientId::new("p-1").unwrap();
	const MIB: usize = 1 << 20;
	for len in [0, 1, MIB - 1, MIB + 1, 50 * MIB] {
		let bytes = data(len, len as u64);
		let r = client
			.put(&alice, &p, &mut bytes.as_slice(), len as u64, "DiagnosticReport", &[], &mut Quiet)
			.await
			.unwrap();
		let mut out = Vec::new();
		let got = client.get(&alice, &r.record, None, None, &mut out, &mut Quiet).await.unwrap();
		assert_eq!(got.version, 1);
		assert_eq!(got.metadata.content_length, len as u64);
		assert!(out == bytes, "round trip of {len} bytes");
	}
	let items = client.walk(&p, None, &alice, &mut Quiet).await.unwrap();
	assert_eq!(items.len(), 5);
	assert!(items.iter().all(|i| matches!(i, WalkItem::Visible { .. })));
}

#[tokio::test]
async fn share_and_not_shared() {
	let (_dir, client) = setup();
	let (alice, bob, carol) =
		(KeySet::generate("alice"), KeySet::generate("bob"), KeySet::generate("carol"));
	let p = PatientId::new("p-2").unwrap();
	let bytes = b"Observation: heart rate 72".to_vec();
	let r = client
		.put(&alice, &p, &mut bytes.as_slice(), bytes.len() as u64, "Observation", &[], &mut Quiet)
		.await
		.unwrap();
	let err =
		client.get(&bob, &r.record, None, None, &mut Vec::new(), &mut Quiet).await.unwrap_err();
	assert!(matches!(err, ClientError::NotSharedWithYou { .. }), "{err}");
	assert!(err.to_string().contains("was not shared with you"));
	let other =
		emr_cli::ids::RecordRef { patient: p.clone(), record: emr_cli::ids::RecordId([0; 16]) };
	let err =
		client.get(&alice, &other, None, None, &mut Vec::new(), &mut Quiet).await.unwrap_err();
	assert!(matches!(err, ClientError::RecordNotFound(_)), "{err}");

	client.share(&alice, &r.record, &reader(&bob), &mut Quiet).await.unwrap();
	let mut out = Vec::new();
	client.get(&bob, &r.record, None, None, &mut out, &mut Quiet).await.unwrap();
	assert_eq!(out, bytes);
	// Bob, a reader of version 1, sees the put entry too (same version key); Carol sees nothing.
	let items = client.walk(&p, None, &bob, &mut Quiet).await.unwrap();
	assert!(items.iter().all(|i| matches!(i, WalkItem::Visible { .. })));
	let items = client.walk(&p, None, &carol, &mut Quiet).await.unwrap();
	assert!(items.iter().all(|i| matches!(i, WalkItem::Hidden { .. })));
	// Bob may share further (he holds the key); the entry is signed by Bob.
	client.share(&bob, &r.record, &reader(&carol), &mut Quiet).await.unwrap();
	client.get(&carol, &r.record, None, None, &mut Vec::new(), &mut Quiet).await.unwrap();
}

#[tokio::test]
async fn rotate_revokes_new_versions_only() {
	let (_dir, client) = setup();
	let (alice, bob, carol) =
		(KeySet::generate("alice"), KeySet::generate("bob"), KeySet::generate("carol"));
	let p = PatientId::new("p-3").unwrap();
	let v1 = b"version one".to_vec();
	let r = client
		.put(
			&alice,
			&p,
			&mut v1.as_slice(),
			v1.len() as u64,
			"Condition",
			&[reader(&bob), reader(&carol)],
			&mut Quiet,
		)
		.await
		.unwrap();
	let rot = client.rotate(&alice, &r.record, &[bob.public.encryption], &mut Quiet).await.unwrap();
	assert_eq!(rot.version, 2);
	assert_ne!(rot.ciphertext, r.ciphertext);
	let names: Vec<_> = rot.readers.iter().map(|r| r.name.as_str()).collect();
	assert_eq!(names, ["alice", "carol"]);

	// Bob cannot open version 2 ...
	let err =
		client.get(&bob, &r.record, Some(2), None, &mut Vec::new(), &mut Quiet).await.unwrap_err();
	assert!(
		matches!(err, ClientError::VersionNotShared { version: 2, ref readable, .. } if readable == &[1]),
		"{err}"
	);
	// ... even with version 2's ciphertext and his version-1 key (the rotation's key is new).
	let items = client.walk(&p, None, &bob, &mut Quiet).await.unwrap();
	let WalkItem::Visible { key: old_key, .. } =
		items.iter().find(|i| matches!(i, WalkItem::Visible { .. })).unwrap()
	else {
		unreachable!()
	};
	let ct2 = client.store.get(&rot.ciphertext).await.unwrap();
	let ctx2 =
		emr_cli::crypto::RecordContext { patient: p.clone(), record: r.record.record, version: 2 };
	let err = emr_cli::crypto::decrypt_record(old_key, &ctx2, &ct2, &mut Vec::new()).unwrap_err();
	assert!(matches!(err, RecordError::WrongKey));
	// ... but revocation cannot unread: Bob still opens version 1, and his default `get` falls
	// back to it, reporting newer entries he cannot read.
	let mut out = Vec::new();
	let got = client.get(&bob, &r.record, None, None, &mut out, &mut Quiet).await.unwrap();
	assert_eq!((got.version, got.newer_hidden, out.as_slice()), (1, 1, v1.as_slice()));
	// Carol and Alice open version 2 (same content).
	for k in [&alice, &carol] {
		let mut out = Vec::new();
		let got = client.get(k, &r.record, None, None, &mut out, &mut Quiet).await.unwrap();
		assert_eq!((got.version, out.as_slice()), (2, v1.as_slice()));
	}
	// Bob cannot rotate or share the record any more.
	let err = client.rotate(&bob, &r.record, &[], &mut Quiet).await.unwrap_err();
	assert!(matches!(err, ClientError::NotCurrentReader(_)), "{err}");
}

#[tokio::test]
async fn damaged_storage_is_reported() {
	let (dir, client) = setup();
	let alice = KeySet::generate("alice");
	let p = PatientId::new("p-4").unwrap();
	let bytes = data(100_000, 1);
	let r = client
		.put(&alice, &p, &mut bytes.as_slice(), bytes.len() as u64, "Binary", &[], &mut Quiet)
		.await
		.unwrap();
	// Flip a byte of the ciphertext block on disk.
	let name = r.ciphertext.to_string();
	let path =
		dir.path().join("ipfs/blocks").join(&name[name.len() - 3..name.len() - 1]).join(&name);
	let mut block = std::fs::read(&path).unwrap();
	block[500] ^= 1;
	std::fs::write(&path, block).unwrap();
	let err =
		client.get(&alice, &r.record, None, None, &mut Vec::new(), &mut Quiet).await.unwrap_err();
	assert!(matches!(err, ClientError::Storage(StorageError::Corrupt { .. })), "{err}");
	// No head: a clear error.
	let err = client
		.walk(&PatientId::new("nobody").unwrap(), None, &alice, &mut Quiet)
		.await
		.unwrap_err();
	assert!(matches!(err, ClientError::NoIndex { .. }), "{err}");
}

#[test]
fn cli_end_to_end_with_the_embedded_store() {
	let dir = tempfile::tempdir().unwrap();
	let d = dir.path();
	let created = emr_ok(d, "dr-a", &["keys", "new"]);
	let rollup = field(&created, "rollup key");
	assert_eq!(rollup.len(), 64, "{created}");
	let shown = emr_ok(d, "dr-a", &["keys", "show"]);
	assert_eq!(field(&shown, "rollup key"), rollup);
	emr_ok(d, "bob", &["keys", "new"]);
	let again = emr(d, "bob", &["keys", "new"]);
	assert!(!again.status.success());
	let shown = emr_ok(d, "bob", &["keys", "show"]);
	let bob_reader = field(&shown, "reader");
	let card = d.join("bob.json");
	emr_ok(d, "bob", &["keys", "export", "--out", card.to_str().unwrap()]);
	#[cfg(unix)]
	{
		use std::os::unix::fs::PermissionsExt;
		let mode = std::fs::metadata(d.join("keystore/bob.key")).unwrap().permissions().mode();
		assert_eq!(mode & 0o777, 0o600);
	}

	let input = d.join("report.json");
	let bytes = br#"{"resourceType":"DiagnosticReport","status":"final"}"#.to_vec();
	std::fs::write(&input, &bytes).unwrap();
	let put = emr_ok(
		d,
		"dr-a",
		&[
			"record",
			"put",
			input.to_str().unwrap(),
			"--patient",
			"p-9",
			"--type",
			"DiagnosticReport",
		],
	);
	let id = field(&put, "record");
	let head = field(&put, "index head");
	let out = d.join("out.json");

	// Bob: not shared with him yet, and the output file is not created.
	let denied = emr(d, "bob", &["record", "get", &id, "--out", out.to_str().unwrap()]);
	assert!(!denied.status.success());
	assert!(String::from_utf8_lossy(&denied.stderr).contains("was not shared with you"));
	assert!(!out.exists());

	emr_ok(d, "dr-a", &["record", "share", &id, "--with", card.to_str().unwrap()]);
	// `--head` with the old head: the share entry is not reachable from it, so Bob is refused.
	let old =
		emr(d, "bob", &["record", "get", &id, "--out", out.to_str().unwrap(), "--head", &head]);
	assert!(!old.status.success());
	let got = emr_ok(d, "bob", &["record", "get", &id, "--out", out.to_str().unwrap()]);
	assert_eq!(field(&got, "version"), "1");
	assert_eq!(std::fs::read(&out).unwrap(), bytes);

	let shown = emr_ok(d, "bob", &["index", "show", "--patient", "p-9"]);
	assert!(shown.contains("2 entries, 2 visible to bob"), "{shown}");
	assert!(shown.contains("share p-9/"), "{shown}");

	let rotated = emr_ok(d, "dr-a", &["record", "rotate", &id, "--remove", &bob_reader]);
	assert_eq!(field(&rotated, "version"), "2");
	assert_eq!(field(&rotated, "readers"), "dr-a");
	let v2 =
		emr(d, "bob", &["record", "get", &id, "--version", "2", "--out", out.to_str().unwrap()]);
	assert!(String::from_utf8_lossy(&v2.stderr).contains("version 2 of record"), "{v2:?}");

	// Wrong passphrase: a clear error.
	let wrong = std::process::Command::new(env!("CARGO_BIN_EXE_emr"))
		.args([
			"--data-dir",
			d.to_str().unwrap(),
			"--key",
			"bob",
			"index",
			"show",
			"--patient",
			"p-9",
		])
		.env("EMR_PASSPHRASE", "not it")
		.output()
		.unwrap();
	assert!(String::from_utf8_lossy(&wrong.stderr).contains("the passphrase is wrong"));

	// store add / cat.
	let cid = emr_ok(d, "dr-a", &["store", "add", input.to_str().unwrap()]);
	let cat = emr_ok(d, "dr-a", &["store", "cat", cid.trim()]);
	assert_eq!(cat.as_bytes(), bytes.as_slice());
}

#[test]
fn cli_rollup_key_is_the_sealed_seeds() {
	let dir = tempfile::tempdir().unwrap();
	let d = dir.path();
	let seed = [0x5a; 32];
	let keys = KeySet::from_seeds("carol", [0x11; 32], seed, [0x22; 32]);
	let path = Keystore::new(d.join("keystore"))
		.with_kdf(KdfParams { m_cost_kib: 256, t_cost: 1, p_cost: 1 })
		.create(&keys, b"passphrase of carol")
		.unwrap();
	let expected = SecretKey::from_seed(&seed).public();

	// `keys show` (no passphrase) and the key card carry the key of the stored seed.
	let shown = emr_ok(d, "carol", &["keys", "show"]);
	assert_eq!(field(&shown, "rollup key"), hex::encode(expected.to_bytes()));
	let card: serde_json::Value =
		serde_json::from_str(&emr_ok(d, "carol", &["keys", "export"])).unwrap();
	assert_eq!(card["rollup"], hex::encode(expected.to_bytes()));
	// The file opens with its passphrase.
	let input = d.join("note.txt");
	std::fs::write(&input, b"note").unwrap();
	emr_ok(d, "carol", &["record", "put", input.to_str().unwrap(), "--patient", "p-1"]);

	// The clear rollup key replaced by another valid key: opening the key set is refused.
	let original = std::fs::read(&path).unwrap();
	let at = original
		.windows(32)
		.position(|w| w == expected.to_bytes())
		.expect("the rollup key is in clear");
	let mut altered = original.clone();
	altered[at..at + 32].copy_from_slice(&SecretKey::from_seed(&[0x5b; 32]).public().to_bytes());
	std::fs::write(&path, &altered).unwrap();
	let refused = emr(d, "carol", &["record", "put", input.to_str().unwrap(), "--patient", "p-1"]);
	assert!(!refused.status.success());
	assert!(String::from_utf8_lossy(&refused.stderr).contains("was altered"), "{refused:?}");

	// Replaced by bytes that are no rollup key: even `keys show` refuses the file.
	altered[at..at + 32].fill(0xff);
	std::fs::write(&path, &altered).unwrap();
	let refused = emr(d, "carol", &["keys", "show"]);
	assert!(!refused.status.success());
	assert!(String::from_utf8_lossy(&refused.stderr).contains("damaged header"), "{refused:?}");
}
