//! The `emr-prover` command line end to end on two consecutive batches: setup, example batches,
//! prove, and `verify` with `--batch` (the proof is about exactly that file's entries) and
//! `--prev` (it continues the previous proof); each check refuses what it must.

use std::{path::Path, process::Command};

fn prover(args: &[&str]) -> (bool, String) {
	let out = Command::new(env!("CARGO_BIN_EXE_emr-prover")).args(args).output().expect("run");
	let text =
		format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
	(out.status.success(), text)
}

fn ok(args: &[&str]) -> String {
	let (success, text) = prover(args);
	assert!(success, "emr-prover {args:?} failed:\n{text}");
	text
}

fn refused(args: &[&str], expected: &str) {
	let (success, text) = prover(args);
	assert!(!success, "emr-prover {args:?} should have failed:\n{text}");
	assert!(text.contains(expected), "emr-prover {args:?}: expected {expected:?} in:\n{text}");
}

fn p(path: &Path) -> &str {
	path.to_str().expect("utf-8 path")
}

#[test]
fn verify_checks_the_batch_file_and_the_previous_proof() {
	let dir = tempfile::tempdir().expect("tempdir");
	let d = dir.path();
	let (keys, state) = (d.join("keys"), d.join("state"));
	let seed = "07".repeat(32);
	ok(&["setup", "--batch-size", "2", "--out", p(&keys), "--seed", &seed]);
	let batch = |n: u64, skip: usize| {
		let path = d.join(format!("batch-{n}-{skip}"));
		let (n, skip) = (n.to_string(), skip.to_string());
		ok(&[
			"example-batch",
			"--number",
			&n,
			"--entries",
			"2",
			"--skip",
			&skip,
			"--out",
			p(&path),
		]);
		path
	};
	let (b1, b2, b2_other) = (batch(1, 0), batch(2, 2), batch(2, 3));
	let (proof1, proof2) = (d.join("proof1"), d.join("proof2"));
	for (b, out) in [(&b1, &proof1), (&b2, &proof2)] {
		ok(&["prove", "--keys", p(&keys), "--state", p(&state), "--batch", p(b), "--out", p(out)]);
	}
	let k = p(&keys);
	let text = ok(&["verify", "--keys", k, "--proof", p(&proof1), "--batch", p(&b1)]);
	assert!(text.contains("proves the 2 entries"), "{text}");
	let text = ok(&[
		"verify",
		"--keys",
		k,
		"--proof",
		p(&proof2),
		"--batch",
		p(&b2),
		"--prev",
		p(&proof1),
	]);
	assert!(text.contains("continues batch 1"), "{text}");

	// The same batch number with other entries: the commitment differs.
	refused(
		&["verify", "--keys", k, "--proof", p(&proof2), "--batch", p(&b2_other)],
		"it proves other operations",
	);
	// Another batch's file.
	refused(&["verify", "--keys", k, "--proof", p(&proof2), "--batch", p(&b1)], "holds batch 1");
	// A proof does not continue itself, nor does batch 1 continue batch 2.
	refused(
		&["verify", "--keys", k, "--proof", p(&proof2), "--prev", p(&proof2)],
		"does not follow",
	);
	refused(
		&["verify", "--keys", k, "--proof", p(&proof1), "--prev", p(&proof2)],
		"does not follow",
	);
	// Batch 2 proved again from the empty state (a fresh state directory) is a valid proof
	// that does not start where batch 1 ended.
	let fresh = d.join("fresh");
	let b2_alone = d.join("batch-2-alone");
	ok(&["example-batch", "--number", "2", "--entries", "2", "--out", p(&b2_alone)]);
	let proof2_alone = d.join("proof2-alone");
	ok(&[
		"prove",
		"--keys",
		k,
		"--state",
		p(&fresh),
		"--batch",
		p(&b2_alone),
		"--out",
		p(&proof2_alone),
	]);
	refused(
		&["verify", "--keys", k, "--proof", p(&proof2_alone), "--prev", p(&proof1)],
		"does not start from the root",
	);
}
