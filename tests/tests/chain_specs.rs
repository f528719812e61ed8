//! The committed chain specs under `chain-specs/` are exactly what the binary generates, and
//! the committed development verifying key is what `scripts/dev-keys.sh` makes, even when
//! several processes run it at once.
//!
//! When this fails, the runtime or a genesis preset changed: regenerate the specs with
//! `scripts/gen-chain-specs.sh` and commit them.

use emr_tests::{repo_root, run_node_command, Error, Result};
use serde_json::Value;

fn generated(chain: &str, raw: bool) -> Result<Value> {
	let mut args = vec!["build-spec", "--chain", chain, "--disable-default-bootnode"];
	if raw {
		args.push("--raw");
	}
	let out = run_node_command(&args)?;
	if !out.status.success() {
		return Err(Error(format!(
			"build-spec --chain {chain} failed: {}",
			String::from_utf8_lossy(&out.stderr)
		)));
	}
	serde_json::from_slice(&out.stdout).map_err(|e| Error(format!("build-spec output: {e}")))
}

fn committed(file: &str) -> Result<Value> {
	let path = repo_root().join("chain-specs").join(file);
	let text = std::fs::read_to_string(&path)
		.map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
	serde_json::from_str(&text).map_err(|e| Error(format!("{}: {e}", path.display())))
}

#[test]
fn committed_chain_specs_are_fresh() -> Result<()> {
	let mut stale = Vec::new();
	for chain in ["dev", "consortium-local"] {
		for raw in [false, true] {
			let file = if raw { format!("{chain}-raw.json") } else { format!("{chain}.json") };
			if generated(chain, raw)? != committed(&file)? {
				stale.push(file);
			}
		}
	}
	assert!(
		stale.is_empty(),
		"stale chain specs: {stale:?}; run scripts/gen-chain-specs.sh and commit the result"
	);
	Ok(())
}

#[test]
fn consortium_spec_has_four_hospitals() -> Result<()> {
	let spec = committed("consortium-local.json")?;
	let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
	// Aura, GRANDPA and BEEFY take their sets from the session keys of the validators.
	let keys = patch["session"]["keys"].as_array().map(Vec::len);
	let validators = patch["validators"]["validators"].as_array().map(Vec::len);
	let council = patch["councilMembership"]["members"].as_array().map(Vec::len);
	assert_eq!((keys, validators, council), (Some(4), Some(4), Some(4)), "{patch}");
	for entry in patch["session"]["keys"].as_array().into_iter().flatten() {
		for key in ["aura", "grandpa", "beefy"] {
			assert!(entry[2][key].is_string(), "every hospital has a {key} key: {entry}");
		}
	}
	Ok(())
}

#[test]
fn client_metadata_is_the_runtimes() -> Result<()> {
	let path = emr_tests::client_metadata_path();
	let committed =
		std::fs::read(&path).map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
	assert!(
		committed == emr_tests::runtime_metadata(),
		"{} is not the runtime's metadata (the client's generated types would be stale): run \
		 scripts/gen-chain-specs.sh and commit the result",
		path.display()
	);
	Ok(())
}

/// Three `scripts/dev-keys.sh` into one empty folder at once, as three test binaries on a fresh
/// machine did: each succeeds and names the folder, the folder holds the committed verifying
/// key and manifest and a proving key, and no temporary file or folder is left. (Without the
/// script's lock and its publication by rename, one run found its `proving.key` gone.)
#[test]
fn concurrent_dev_key_setups_all_succeed_with_the_committed_keys() -> Result<()> {
	use std::process::{Command, Stdio};
	let dir = emr_tests::TempDir::new("dev-keys")?;
	let keys = dir.path().join("keys");
	let runs = (0..3)
		.map(|_| {
			Command::new("bash")
				.arg(repo_root().join("scripts/dev-keys.sh"))
				.arg(&keys)
				.env("EMR_PROVER_BIN", emr_tests::prover_binary())
				.stdin(Stdio::null())
				.stdout(Stdio::piped())
				.stderr(Stdio::piped())
				.spawn()
				.map_err(|e| Error(format!("cannot run scripts/dev-keys.sh: {e}")))
		})
		.collect::<Result<Vec<_>>>()?;
	for run in runs {
		let out = run.wait_with_output().map_err(|e| Error(format!("dev-keys.sh: {e}")))?;
		let stdout = String::from_utf8_lossy(&out.stdout);
		assert!(
			out.status.success(),
			"a concurrent dev-keys.sh failed:\n{stdout}\n{}",
			String::from_utf8_lossy(&out.stderr)
		);
		assert_eq!(stdout.lines().last(), Some(keys.display().to_string().as_str()));
	}
	let read = |path: std::path::PathBuf| {
		std::fs::read(&path).map_err(|e| Error(format!("{}: {e}", path.display())))
	};
	for file in ["verifying.key", "manifest.txt"] {
		assert!(
			read(keys.join(file))? == read(repo_root().join("chain-specs/dev-keys").join(file))?,
			"{file} differs from the committed one"
		);
	}
	assert!(!read(keys.join("proving.key"))?.is_empty(), "the proving key is there");
	let mut left: Vec<String> = std::fs::read_dir(dir.path())
		.and_then(|d| d.map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned())).collect())
		.map_err(|e| Error(format!("{}: {e}", dir.path().display())))?;
	left.sort();
	assert_eq!(left, ["keys", "keys.lock"], "only the keys and their lock file are left");
	let mut inside: Vec<String> = std::fs::read_dir(&keys)
		.and_then(|d| d.map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned())).collect())
		.map_err(|e| Error(format!("{}: {e}", keys.display())))?;
	inside.sort();
	assert_eq!(inside, ["manifest.txt", "proving.key", "verifying.key"]);
	Ok(())
}
