//! Against a real js-ipfs daemon (npm `ipfs@0.66.1`, started by `scripts/ipfs.sh`): the embedded
//! store and the daemon agree on CIDs; put/get/pin through the Kubo RPC client; records and the
//! `emr` binary's own tests through the daemon are in `client/cli/tests/cli.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::{daemon, data};
use emr_client::{
	client::{Client, Quiet},
	ids::PatientId,
	keys::KeySet,
	storage::{unixfs, EmbeddedStore, KuboClient, KuboConfig, Storage, Store},
};

fn kubo() -> KuboClient {
	KuboClient::new(&daemon().url, KuboConfig::default()).expect("valid URL")
}

#[tokio::test]
async fn embedded_and_daemon_agree_on_cids() {
	let kubo = kubo();
	let version = kubo.version().await.expect("version");
	assert_eq!(version, "0.18.1", "js-ipfs 0.66.1 reports its core version");
	let dir = tempfile::tempdir().unwrap();
	let embedded = EmbeddedStore::open(dir.path()).unwrap();
	const K: usize = 1024;
	let sizes = [0, 1, 256 * K, 256 * K + 1, 174 * 256 * K, 174 * 256 * K + 1, 50 * K * K];
	for (i, &len) in sizes.iter().enumerate() {
		let bytes = data(len, i as u64);
		let local = unixfs::cid_of(&bytes);
		let from_daemon = kubo.add(Bytes::from(bytes.clone())).await.expect("add");
		assert_eq!(from_daemon, local, "CID mismatch for {len} bytes");
		assert_eq!(embedded.put(Bytes::from(bytes.clone())).await.unwrap(), local);
		// The root block has the same size on both sides (block/stat).
		assert_eq!(
			kubo.block_size(&local).await.unwrap(),
			embedded.block_size(&local).await.unwrap()
		);
		let back = kubo.get(&local).await.expect("cat");
		assert!(back == bytes, "cat returned other bytes for {len}");
		println!("{len} bytes: {local}");
	}
}

#[tokio::test]
async fn put_get_pin_through_the_daemon() {
	let kubo = kubo();
	let bytes = data(300_000, 99);
	let cid = kubo.put(Bytes::from(bytes.clone())).await.unwrap();
	kubo.pin(&cid).await.unwrap();
	assert_eq!(kubo.get(&cid).await.unwrap(), bytes);
	// A raw leaf's block size is its length.
	let small = kubo.put(Bytes::from_static(b"hello world\n")).await.unwrap();
	assert_eq!(small.to_string(), "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");
	assert_eq!(kubo.block_size(&small).await.unwrap(), 12);
}

#[tokio::test]
async fn records_through_the_daemon() {
	let dir = tempfile::tempdir().unwrap();
	let client = Client::new(Store::Kubo(kubo()), dir.path());
	let alice = KeySet::generate("alice");
	let p = PatientId::new("patient-d").unwrap();
	for len in [0usize, 1, (1 << 20) + 1] {
		let bytes = data(len, 7);
		let r = client
			.put(&alice, &p, &mut bytes.as_slice(), len as u64, "Observation", &[], &mut Quiet)
			.await
			.unwrap();
		let mut out = Vec::new();
		client.get(&alice, &r.record, None, None, &mut out, &mut Quiet).await.unwrap();
		assert!(out == bytes);
		// The ciphertext and the index entry are in the daemon under the CIDs the embedded
		// store would compute.
		let ct = client.store.get(&r.ciphertext).await.unwrap();
		assert_eq!(unixfs::cid_of(&ct), r.ciphertext);
	}
}
