//! Builds the runtime to wasm with `substrate-wasm-builder`.
//!
//! The wasm blob ends up in every chain spec, and a test compares the committed chain specs with
//! what the binary generates. For that comparison to hold in any checkout, the blob must not depend
//! on where the source tree lives: panic locations embed source paths, so the workspace root is
//! remapped to a fixed prefix.

fn main() {
	#[cfg(feature = "std")]
	{
		let manifest_dir = std::path::PathBuf::from(
			std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
		);
		let workspace_root = manifest_dir.parent().unwrap_or(&manifest_dir).to_path_buf();
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.append_to_rust_flags(format!(
				"--remap-path-prefix={}=/emr-chain",
				workspace_root.display()
			))
			.build();
	}
}
