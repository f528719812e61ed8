//! Builds the runtime to wasm with `substrate-wasm-builder`, reproducibly.
//!
//! The wasm blob ends up in every chain spec, and a test compares the committed chain specs with
//! what the binary generates, so the blob must not depend on where the checkout lives. Two
//! things would make it depend on that:
//!
//! * panic locations embed source paths, and
//! * cargo derives symbol hashes (and with them code layout) of a path dependency from its
//!   absolute path; the wasm build sees the runtime as a path dependency.
//!
//! So the wasm build reaches the workspace through a symlink at a fixed path,
//! [`STABLE_SOURCE_LINK`], and that path (and the cargo home) is remapped to a fixed prefix.
//! Should the link not be creatable, the build goes on from the real path and says so.

#[cfg(feature = "std")]
const STABLE_SOURCE_LINK: &str = "/tmp/emr-chain-wasm-src";

#[cfg(feature = "std")]
fn point_link(link: &std::path::Path, target: &std::path::Path) -> std::io::Result<()> {
	if std::fs::read_link(link).is_ok_and(|current| current == target) {
		return Ok(());
	}
	match std::fs::remove_file(link) {
		Ok(()) => {},
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => {},
		Err(e) => return Err(e),
	}
	std::os::unix::fs::symlink(target, link)
}

fn main() {
	#[cfg(feature = "std")]
	{
		use std::{env, path::PathBuf};
		use substrate_wasm_builder::WasmBuilder;

		let manifest_dir =
			PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
		let workspace_root = manifest_dir.parent().unwrap_or(&manifest_dir).to_path_buf();
		let link = PathBuf::from(STABLE_SOURCE_LINK);
		let linked_manifest = link.join("runtime").join("Cargo.toml");

		let (builder, source_root) = match point_link(&link, &workspace_root)
			.map_err(|e| e.to_string())
			.and_then(|()| WasmBuilder::new().with_project(&linked_manifest).map_err(String::from))
		{
			Ok(builder) => (builder, link),
			Err(e) => {
				println!(
					"cargo:warning=cannot link {} -> {} ({e}); the wasm runtime is built from \
					 the real path and will differ from the committed chain specs",
					link.display(),
					workspace_root.display()
				);
				(WasmBuilder::new().with_current_project(), workspace_root.clone())
			},
		};

		// Changes in the real checkout must trigger a rebuild even though the wasm build only
		// sees the linked paths.
		println!("cargo:rerun-if-changed={}", workspace_root.join("runtime").display());
		println!("cargo:rerun-if-changed={}", workspace_root.join("Cargo.lock").display());
		// The dev verifying key is embedded in the genesis presets (`include_bytes!`).
		println!(
			"cargo:rerun-if-changed={}",
			workspace_root.join("chain-specs/dev-keys/verifying.key").display()
		);

		let cargo_home = env::var("CARGO_HOME")
			.map(PathBuf::from)
			.or_else(|_| env::var("HOME").map(|home| PathBuf::from(home).join(".cargo")))
			.unwrap_or_default();

		builder
			.import_memory()
			.export_heap_base()
			.append_to_rust_flags(format!(
				"--remap-path-prefix={}=/emr-chain",
				source_root.display()
			))
			.append_to_rust_flags(format!("--remap-path-prefix={}=/cargo", cargo_home.display()))
			.build();
	}
}
