//! Writes the runtime's metadata (SCALE-encoded `RuntimeMetadataPrefixed`, version
//! [`emr_tests::CLIENT_METADATA_VERSION`]) to the file the client's generated types come from,
//! `client/metadata/emr.scale`, or to the path given.
//!
//! `scripts/gen-chain-specs.sh` runs it with the chain specs; the test `chain_specs.rs` fails when
//! the committed file is not what the runtime says.

fn main() {
	let path = std::env::args_os()
		.nth(1)
		.map(std::path::PathBuf::from)
		.unwrap_or_else(emr_tests::client_metadata_path);
	let bytes = emr_tests::runtime_metadata();
	if let Err(e) = std::fs::write(&path, &bytes) {
		eprintln!("cannot write {}: {e}", path.display());
		std::process::exit(1);
	}
	println!("wrote {} ({} bytes)", path.display(), bytes.len());
}
