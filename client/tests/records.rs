//! Records with the embedded store: round trips of every size class, sharing, "not shared with
//! you", rotation (revocation for new versions only), damaged storage (the `emr` binary's own
//! tests are in `client/cli/tests/cli.rs`).
#![allow(clippy::unwrap_used)]

mod common;

use common::data;
use emr_client::{
	client::{Client, ClientError, Quiet, WalkItem},
	crypto::RecordError,
	ids::{PatientId, Reader},
	keys::KeySet,
	storage::{EmbeddedStore, Storage, StorageError},
};

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
	let other = emr_client::ids::RecordRef {
		patient: p.clone(),
		record: emr_client::ids::RecordId([0; 16]),
	};
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
	let ctx2 = emr_client::crypto::RecordContext {
		patient: p.clone(),
		record: r.record.record,
		version: 2,
	};
	let err =
		emr_client::crypto::decrypt_record(old_key, &ctx2, &ct2, &mut Vec::new()).unwrap_err();
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
