//! The standalone worker's [`Chain`]: the node's JSON-RPC over HTTP (the port that also serves
//! WebSocket). Reads go through `state_call` of the `EmrApi` runtime API at an explicit block
//! (the finalized or the best head), so the worker sees one consistent state per round;
//! proofs go out through `author_submitExtrinsic`, signed with the prover account's key.

use crate::extrinsic::{self, ChainInfo};
use crate::{
	http::{self, HttpError},
	Chain, ChainBatch, ChainError, DeploymentError, Submission, SubmitError, View,
};
use codec::{Decode, Encode};
use emr_primitives::ops::DeploymentId;
use emr_runtime::AccountId;
use pallet_rollup::runtime_api::{BatchView, RollupStatus};
use polkadot_sdk::sp_core::{crypto::Ss58Codec, sr25519, Pair, H256};
use serde_json::{json, Value};

/// A node reached over JSON-RPC, with the prover account's key.
pub struct RpcChain {
	url: String,
	addr: String,
	pair: sr25519::Pair,
	account: AccountId,
}

fn chain_err(e: HttpError) -> ChainError {
	ChainError(e.to_string())
}

fn hash_of(value: &Value, what: &str) -> Result<[u8; 32], ChainError> {
	let s = value.as_str().ok_or_else(|| ChainError(format!("{what}: not a hash: {value}")))?;
	let mut out = [0u8; 32];
	hex::decode_to_slice(s.trim_start_matches("0x"), &mut out)
		.map_err(|e| ChainError(format!("{what}: {e}: {s}")))?;
	Ok(out)
}

fn number_of(value: &Value, what: &str) -> Result<u32, ChainError> {
	let s = value.as_str().ok_or_else(|| ChainError(format!("{what}: not a number: {value}")))?;
	u32::from_str_radix(s.trim_start_matches("0x"), 16)
		.map_err(|e| ChainError(format!("{what}: {e}: {s}")))
}

/// Decodes the SCALE bytes of a `state_call` answer.
fn decode_answer<T: Decode>(api: &str, result: &Value) -> Result<T, ChainError> {
	let s = result.as_str().ok_or_else(|| ChainError(format!("{api}: not bytes: {result}")))?;
	let bytes =
		hex::decode(s.trim_start_matches("0x")).map_err(|e| ChainError(format!("{api}: {e}")))?;
	T::decode(&mut &bytes[..]).map_err(|e| {
		ChainError(format!(
			"{api}: the answer does not decode ({e}); is this emr-prover built for the chain's runtime?"
		))
	})
}

impl RpcChain {
	/// A chain at `url` (`ws://host:port` or `http://host:port`), signing with the secret URI
	/// `suri` (a mnemonic, a `0x` seed, or `//Name` for development accounts).
	pub fn new(url: &str, suri: &str) -> Result<Self, String> {
		let addr = http::authority(url)?;
		let pair = sr25519::Pair::from_string(suri.trim(), None)
			.map_err(|e| format!("the prover key is not a valid secret URI: {e:?}"))?;
		let account = AccountId::from(pair.public());
		Ok(RpcChain { url: url.to_string(), addr, pair, account })
	}

	/// The prover account.
	pub fn account(&self) -> &AccountId {
		&self.account
	}

	fn call(&self, method: &str, params: Value) -> Result<Value, ChainError> {
		http::rpc_call(&self.addr, method, params).map_err(chain_err)
	}

	fn runtime_call<T: Decode>(
		&self,
		api: &str,
		args: &[u8],
		at: &[u8; 32],
	) -> Result<T, ChainError> {
		let result = self.call(
			"state_call",
			json!([api, format!("0x{}", hex::encode(args)), format!("0x{}", hex::encode(at))]),
		)?;
		decode_answer(api, &result)
	}

	fn view_at(&self, hash: [u8; 32]) -> Result<View, ChainError> {
		let header = self.call("chain_getHeader", json!([format!("0x{}", hex::encode(hash))]))?;
		let number = number_of(&header["number"], "chain_getHeader")?;
		let s: RollupStatus = self.runtime_call("EmrApi_rollup_status", &[], &hash)?;
		Ok(crate::runtime::view_of(number, hash, s))
	}

	fn chain_info(&self) -> Result<ChainInfo, SubmitError> {
		let unavailable = SubmitError::Unavailable;
		let genesis = H256(self.genesis_hash().map_err(unavailable)?);
		let v = self.call("state_getRuntimeVersion", json!([])).map_err(unavailable)?;
		let (spec, tx) = (
			v["specVersion"].as_u64().unwrap_or_default() as u32,
			v["transactionVersion"].as_u64().unwrap_or_default() as u32,
		);
		extrinsic::check_versions(spec, tx).map_err(SubmitError::Refused)?;
		Ok(ChainInfo { genesis, spec_version: spec, transaction_version: tx })
	}

	fn genesis_hash(&self) -> Result<[u8; 32], ChainError> {
		hash_of(&self.call("chain_getBlockHash", json!([0]))?, "chain_getBlockHash(0)")
	}
}

impl Chain for RpcChain {
	fn describe(&self) -> String {
		format!("node at {}", self.url)
	}

	fn genesis(&mut self) -> Result<[u8; 32], ChainError> {
		self.genesis_hash()
	}

	fn deployment(&mut self) -> Result<DeploymentId, DeploymentError> {
		let unreachable = DeploymentError::Unreachable;
		let head = self.call("chain_getFinalizedHead", json!([])).map_err(unreachable)?;
		let hash = hash_of(&head, "finalized head").map_err(unreachable)?;
		let api = "EmrApi_deployment";
		// The node answered with an error: its runtime has no such call, or the call fails.
		let missing = |e: String| DeploymentError::Missing(format!("{} {e}", self.describe()));
		match http::rpc_call(
			&self.addr,
			"state_call",
			json!([api, "0x", format!("0x{}", hex::encode(hash))]),
		) {
			Ok(result) => decode_answer(api, &result).map_err(|e| missing(e.0)),
			Err(e @ HttpError::Rpc { .. }) => Err(missing(e.to_string())),
			Err(e) => Err(unreachable(chain_err(e))),
		}
	}

	fn finalized(&mut self) -> Result<View, ChainError> {
		let hash = hash_of(&self.call("chain_getFinalizedHead", json!([]))?, "finalized head")?;
		self.view_at(hash)
	}

	fn best(&mut self) -> Result<View, ChainError> {
		let hash = hash_of(&self.call("chain_getBlockHash", json!([]))?, "best block")?;
		self.view_at(hash)
	}

	fn batch(&mut self, at: &View, batch: u64) -> Result<Option<ChainBatch>, ChainError> {
		let view: Option<BatchView<AccountId>> =
			self.runtime_call("EmrApi_rollup_batch", &batch.encode(), &at.hash)?;
		Ok(view.map(|v| crate::runtime::batch_of(v, &self.account)))
	}

	fn submit_proof(
		&mut self,
		batch: u64,
		new_root: [u8; 32],
		proof: &[u8],
	) -> Result<Submission, SubmitError> {
		let call = extrinsic::submit_proof_call(batch, new_root, proof).ok_or_else(|| {
			SubmitError::Refused("the proof is longer than the chain accepts".into())
		})?;
		self.submit_call(call)
	}
}

impl RpcChain {
	/// Signs `call` with the account's key and next nonce and hands it to the node's pool.
	pub fn submit_call(&self, call: emr_runtime::RuntimeCall) -> Result<Submission, SubmitError> {
		let info = self.chain_info()?;
		let hash = hash_of(
			&self.call("chain_getBlockHash", json!([])).map_err(SubmitError::Unavailable)?,
			"best block",
		)
		.map_err(SubmitError::Unavailable)?;
		let header = self
			.call("chain_getHeader", json!([format!("0x{}", hex::encode(hash))]))
			.map_err(SubmitError::Unavailable)?;
		let number =
			number_of(&header["number"], "chain_getHeader").map_err(SubmitError::Unavailable)?;
		let nonce = self
			.call("system_accountNextIndex", json!([self.account.to_ss58check()]))
			.map_err(SubmitError::Unavailable)?
			.as_u64()
			.ok_or_else(|| SubmitError::Refused("system_accountNextIndex: not a number".into()))?;
		let (xt, valid_until) = extrinsic::signed(
			call,
			&info,
			(number, H256(hash)),
			nonce as u32,
			self.account.clone(),
			|payload| Some(self.pair.sign(payload).into()),
		)
		.map_err(SubmitError::Refused)?;
		let encoded = xt.encode();
		match http::rpc_call(
			&self.addr,
			"author_submitExtrinsic",
			json!([format!("0x{}", hex::encode(&encoded))]),
		) {
			Ok(_) => Ok(Submission { tx_hash: extrinsic::tx_hash(&encoded), valid_until }),
			Err(HttpError::Rpc { message, data, .. }) => {
				let reason = format!(
					"{message}{}",
					data.map(|d| format!(": {}", d.as_str().map_or(d.to_string(), String::from)))
						.unwrap_or_default()
				);
				Err(classify_rpc(&reason, &self.account))
			},
			Err(e) => Err(SubmitError::Unavailable(chain_err(e))),
		}
	}

	/// JSON-RPC calls to the node, errors in words ([`http::caller`]).
	pub fn rpc_fn(&self) -> impl Fn(&str, Value) -> Result<Value, String> {
		http::caller(self.addr.clone())
	}
}

/// A refusal as the node's RPC words it (`Invalid Transaction: Custom error: 251`).
fn classify_rpc(reason: &str, account: &AccountId) -> SubmitError {
	use pallet_rollup::extension::{NOT_A_PROVER, PROOF_NOT_NEXT};
	if reason.contains(&format!("Custom error: {PROOF_NOT_NEXT}")) {
		SubmitError::NotNext
	} else if reason.contains(&format!("Custom error: {NOT_A_PROVER}")) {
		SubmitError::NotAProver(account.to_ss58check())
	} else {
		SubmitError::Refused(reason.to_string())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn pool_refusals_are_classified_by_the_pallets_codes() {
		let alice =
			AccountId::from(sr25519::Pair::from_string("//Alice", None).expect("dev").public());
		assert_eq!(
			classify_rpc("Invalid Transaction: Custom error: 251", &alice),
			SubmitError::NotNext
		);
		assert!(matches!(
			classify_rpc("Invalid Transaction: Custom error: 252", &alice),
			SubmitError::NotAProver(_)
		));
		assert!(matches!(
			classify_rpc("Invalid Transaction: Transaction is outdated", &alice),
			SubmitError::Refused(_)
		));
	}
}
