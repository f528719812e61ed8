//! The `emr` binary: key sets, records and plain storage with the embedded store and through a
//! real js-ipfs daemon (`scripts/ipfs.sh`), a key file whose clear header was altered, and an
//! IPFS daemon that is not there or does not answer, said in words.
#![allow(clippy::unwrap_used)]

mod common;

use common::{daemon, data, emr, emr_ok, field};
use emr_client::unixfs;
use emr_client::{
	keys::{KdfParams, KeySet},
	keystore::Keystore,
};
use emr_primitives::schnorr::SecretKey;
use std::net::TcpListener;

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

#[test]
fn cli_put_get_with_the_daemon() {
	let url = daemon().url.clone();
	let dir = tempfile::tempdir().unwrap();
	let d = dir.path();
	emr_ok(d, "dr-a", &["keys", "new"]);
	let input = d.join("scan.bin");
	let bytes = data(700_000, 3);
	std::fs::write(&input, &bytes).unwrap();
	let put = emr_ok(
		d,
		"dr-a",
		&[
			"--ipfs-api",
			&url,
			"record",
			"put",
			input.to_str().unwrap(),
			"--patient",
			"p-77",
			"--type",
			"ImagingStudy",
		],
	);
	let id = field(&put, "record");
	let out = d.join("scan.out");
	let got = emr_ok(
		d,
		"dr-a",
		&["--ipfs-api", &url, "record", "get", &id, "--out", out.to_str().unwrap()],
	);
	assert_eq!(field(&got, "type"), "ImagingStudy");
	assert!(std::fs::read(&out).unwrap() == bytes);
	// Nothing went to the embedded store.
	let blocks = walk_count(&d.join("ipfs/blocks"));
	assert_eq!(blocks, 0, "the daemon run must not write the embedded store");
	// store add / cat through the daemon, CID equal to the embedded store's.
	let cid_daemon =
		emr_ok(d, "dr-a", &["--ipfs-api", &url, "store", "add", input.to_str().unwrap()]);
	let cid_embedded = emr_ok(d, "dr-a", &["store", "add", input.to_str().unwrap()]);
	assert_eq!(cid_daemon.trim(), cid_embedded.trim());
	let cat = d.join("cat.out");
	emr_ok(
		d,
		"dr-a",
		&["--ipfs-api", &url, "store", "cat", cid_daemon.trim(), "--out", cat.to_str().unwrap()],
	);
	assert!(std::fs::read(&cat).unwrap() == bytes);
}

fn walk_count(dir: &std::path::Path) -> usize {
	std::fs::read_dir(dir)
		.map(|rd| {
			rd.filter_map(|e| e.ok())
				.map(|e| if e.path().is_dir() { walk_count(&e.path()) } else { 1 })
				.sum()
		})
		.unwrap_or(0)
}

#[test]
fn cli_reports_a_dead_daemon_in_words() {
	// Port 9 (discard) of the loopback: privileged, so no test process can be listening there
	// (a port bound, learnt and closed could be taken by another test meanwhile).
	let port = 9;
	let dir = tempfile::tempdir().unwrap();
	let f = dir.path().join("f");
	std::fs::write(&f, b"x").unwrap();
	let out = std::process::Command::new(env!("CARGO_BIN_EXE_emr"))
		.args([
			"--data-dir",
			dir.path().to_str().unwrap(),
			"--ipfs-api",
			&format!("http://127.0.0.1:{port}"),
		])
		.args(["store", "add", f.to_str().unwrap()])
		.output()
		.unwrap();
	assert!(!out.status.success());
	let err = String::from_utf8_lossy(&out.stderr);
	assert!(
		err.contains(&format!(
			"error: the IPFS daemon at http://127.0.0.1:{port} could not be reached"
		)),
		"{err}"
	);

	let l = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = l.local_addr().unwrap().port();
	let out = std::process::Command::new(env!("CARGO_BIN_EXE_emr"))
		.args([
			"--data-dir",
			dir.path().to_str().unwrap(),
			"--ipfs-api",
			&format!("http://127.0.0.1:{port}"),
		])
		.args(["--ipfs-timeout", "1", "store", "cat", &unixfs::cid_of(b"x").to_string()])
		.output()
		.unwrap();
	let err = String::from_utf8_lossy(&out.stderr);
	assert!(err.contains("did not answer cat within 1 s"), "{err}");
	drop(l);
}
