//! Chain specifications: the built-in `dev` and `consortium-local` networks, or a JSON file.
//!
//! The committed files under `chain-specs/` are generated from these by
//! `scripts/gen-chain-specs.sh`; a test fails when they drift apart.

use crate::service::ExtraHostFunctions;
use emr_runtime::{
	genesis_config_presets::{CONSORTIUM_LOCAL, DEVELOPMENT},
	WASM_BINARY,
};
use polkadot_sdk::{sc_service::ChainType, *};
use serde_json::json;
use std::path::PathBuf;

/// The chain specification type of emr-chain: no client extensions; genesis is built with the
/// same extra host functions (BLS12-381, Bandersnatch) as the node's executor, so a runtime
/// that imports them can still produce its genesis state.
pub type ChainSpec = sc_service::GenericChainSpec<sc_service::NoExtension, ExtraHostFunctions>;

/// Token symbol, decimals and SS58 format shown by wallets and explorers.
fn properties() -> sc_service::Properties {
	let value = json!({ "tokenSymbol": "EMR", "tokenDecimals": 12, "ss58Format": 42 });
	match value {
		serde_json::Value::Object(map) => map,
		_ => unreachable!("a json object literal is an object"),
	}
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"this emr-node was built without its wasm runtime (SKIP_WASM_BUILD was set); \
		 rebuild it without SKIP_WASM_BUILD"
			.to_string()
	})
}

/// The single-validator development chain (`--dev`, `--chain dev`).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, Default::default())
		.with_name("emr-chain development")
		.with_id("emr_dev")
		.with_protocol_id("emr-dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(DEVELOPMENT)
		.with_properties(properties())
		.build())
}

/// The local four-hospital consortium (`--chain consortium-local`).
pub fn consortium_local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, Default::default())
		.with_name("emr-chain consortium (local)")
		.with_id("emr_consortium_local")
		.with_protocol_id("emr-consortium-local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(CONSORTIUM_LOCAL)
		.with_properties(properties())
		.build())
}

/// Resolves `--chain ID`: a built-in name, or the path of a chain-spec JSON file.
///
/// An unknown name that is not an existing file gets an error that lists the choices, instead
/// of the bare "No such file or directory" that a plain file open would give.
pub fn load_spec(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" | "" => Box::new(development_chain_spec()?),
		"consortium-local" | "consortium_local" | "local" => {
			Box::new(consortium_local_chain_spec()?)
		},
		path => {
			let path = PathBuf::from(path);
			if !path.is_file() {
				return Err(format!(
					"chain spec '{}' is neither a built-in chain (dev, consortium-local) nor a \
					 readable file",
					path.display()
				));
			}
			Box::new(ChainSpec::from_json_file(path.clone()).map_err(|e| {
				format!("chain spec file '{}' could not be loaded: {e}", path.display())
			})?)
		},
	})
}
