//! Settlement on Ethereum: the contracts' encodings and a blocking client for the relayer.
//!
//! Three contracts (`contracts/src`, compiled into `contracts/out` by `contracts/build.sh`)
//! settle the chain on Ethereum:
//!
//! ```text
//!  BEEFY justification ──▶ BeefyClient.submitCommitment ── remembers signed MMR roots
//!                                                   │ isKnownRoot
//!  proven batch + MMR leaf ──▶ EmrRollup.submitBatch ┘── digest in leaf, leaf in root,
//!                                                       Groth16 (EIP-2537), old root ──▶ BatchSettled
//!  EmrL1Baseline: one transaction per EMR operation (the "Layer-1 only" comparison)
//! ```
//!
//! This module converts what the chain stores into what the contracts take:
//! [`proof_to_eip2537`] and [`vk_to_eip2537`] turn `ark_groth16`'s compressed encodings into
//! EIP-2537 point encodings (the key's β, γ, δ negated, so the contract needs no field
//! arithmetic), [`le_to_u256`] reads a little-endian field element as the `uint256` the
//! contract sees. [`L1`] deploys the contracts, reads their state and sends transactions with
//! its own single-threaded tokio runtime, so that the relayer's loop can stay blocking.
//!
//! Errors say who refused: [`L1Error::Refused`] carries the contract's decoded custom error
//! (do not retry the same transaction), [`L1Error::Unreachable`] means the node could not be
//! reached or did not answer in time (retry); [`L1Error::is_retryable`] tells them apart.

use crate::beefy::{self, Commitment, LeafProof, MmrLeaf};
use alloy::{
	dyn_abi::{DynSolValue, JsonAbiExt},
	json_abi::JsonAbi,
	network::EthereumWallet,
	primitives::{Bytes, FixedBytes, B256, U256},
	providers::{DynProvider, Provider, ProviderBuilder},
	rpc::types::TransactionReceipt,
	signers::local::PrivateKeySigner,
	sol,
	transports::{RpcError, TransportError},
};
use ark_bls12_381::{Bls12_381, Fq, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use emr_primitives::{
	groth16::{decode_proof, decode_vk, VerifierError},
	inbox::PublicInputs,
};
use std::{
	future::IntoFuture,
	path::Path,
	sync::OnceLock,
	time::{Duration, Instant},
};

pub use alloy::primitives::Address;

sol!(
	#[sol(rpc)]
	#[allow(missing_docs, clippy::too_many_arguments)]
	BeefyClient,
	"../../contracts/out/BeefyClient.json"
);
sol!(
	#[sol(rpc)]
	#[allow(missing_docs, clippy::too_many_arguments)]
	EmrRollup,
	"../../contracts/out/EmrRollup.json"
);
sol!(
	#[sol(rpc)]
	#[allow(missing_docs, clippy::too_many_arguments)]
	EmrL1Baseline,
	"../../contracts/out/EmrL1Baseline.json"
);

/// The ABIs of the contracts, for decoding their custom errors.
const ARTIFACTS: [&str; 3] = [
	include_str!("../../../contracts/out/BeefyClient.json"),
	include_str!("../../../contracts/out/EmrRollup.json"),
	include_str!("../../../contracts/out/EmrL1Baseline.json"),
];

/// Bytes of an EIP-2537 G1 point (x ‖ y, each a 64-byte padded Fp).
pub const G1_LEN: usize = 128;
/// Bytes of an EIP-2537 G2 point (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1).
pub const G2_LEN: usize = 256;
/// Bytes of a proof as `EmrRollup` takes it: A ‖ B ‖ C.
pub const PROOF_LEN: usize = 2 * G1_LEN + G2_LEN;

/// How long a transaction may take to be mined before [`L1Error::Unreachable`].
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// How often receipts and the head are polled.
const POLL: Duration = Duration::from_millis(100);

/// Where `scripts/l1.sh install` puts the anvil binary of the pinned npm package
/// `@foundry-rs/anvil` (`$EMR_NPM_DIR`, default `~/.cache/emr-chain/npm-l1`), or `$EMR_ANVIL`.
pub fn anvil_binary() -> std::path::PathBuf {
	use std::path::PathBuf;
	if let Some(path) = std::env::var_os("EMR_ANVIL") {
		return path.into();
	}
	let npm = std::env::var_os("EMR_NPM_DIR").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/emr-chain/npm-l1")
	});
	let arch = if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" };
	npm.join(format!("node_modules/@foundry-rs/anvil-{}-{arch}/bin/anvil", std::env::consts::OS))
}

/// Why an L1 operation failed.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
	/// The contract refused the call (it would revert): do not retry it unchanged.
	#[error("the contract refused: {name}{detail}")]
	Refused {
		/// The custom error's name (`UnexpectedBatch`, ...), `Error` for a string reason,
		/// `Panic`, or `unknown` when the revert data matches no ABI.
		name: String,
		/// Its arguments, `(a, b)`, or the reason.
		detail: String,
		/// The raw revert data.
		data: Bytes,
	},
	/// The transaction was mined but reverted (the state changed between estimate and
	/// inclusion).
	#[error("transaction {tx} reverted in block {block}")]
	Reverted {
		/// Its hash.
		tx: B256,
		/// The block it is in.
		block: u64,
	},
	/// The node could not be reached, or the transaction was not mined or confirmed in time,
	/// or it left the chain (a reorganisation): retry.
	#[error("the L1 node is unreachable or too slow: {0}")]
	Unreachable(String),
	/// The node answered with an error that is not a revert (nonce, funds, ...).
	#[error("the L1 node refused the request: {0}")]
	Node(String),
	/// The local input is unusable (key file, proof or key encoding, ...).
	#[error("invalid input: {0}")]
	Invalid(String),
}

impl L1Error {
	/// Whether trying again later may succeed (the node was unreachable or slow).
	pub fn is_retryable(&self) -> bool {
		matches!(self, L1Error::Unreachable(_))
	}

	/// The name of the contract's custom error, if the contract refused.
	pub fn refusal(&self) -> Option<&str> {
		match self {
			L1Error::Refused { name, .. } => Some(name),
			_ => None,
		}
	}
}

/// Result alias.
pub type Result<T, E = L1Error> = std::result::Result<T, E>;

/// A field element stored little-endian (as the chain stores roots and commitments) as the
/// `uint256` the contracts see.
pub fn le_to_u256(le: &[u8; 32]) -> U256 {
	U256::from_le_bytes(*le)
}

/// The inverse of [`le_to_u256`].
pub fn u256_to_le(value: U256) -> [u8; 32] {
	value.to_le_bytes()
}

fn fp(out: &mut [u8], value: &Fq) {
	// 16 zero bytes, then the 48-byte big-endian value.
	let be = value.into_bigint().to_bytes_be();
	out[..16].fill(0);
	out[16..64].copy_from_slice(&be);
}

/// A G1 point in EIP-2537 encoding (the identity is all zeros).
pub fn g1_to_eip2537(point: &G1Affine) -> [u8; G1_LEN] {
	let mut out = [0u8; G1_LEN];
	if let Some((x, y)) = point.xy() {
		fp(&mut out[..64], &x);
		fp(&mut out[64..], &y);
	}
	out
}

/// A G2 point in EIP-2537 encoding: x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1 (the identity is all zeros).
pub fn g2_to_eip2537(point: &G2Affine) -> [u8; G2_LEN] {
	let mut out = [0u8; G2_LEN];
	if let Some((x, y)) = point.xy() {
		fp(&mut out[..64], &x.c0);
		fp(&mut out[64..128], &x.c1);
		fp(&mut out[128..192], &y.c0);
		fp(&mut out[192..], &y.c1);
	}
	out
}

/// A proof as the chain stores it (`ark_groth16` compressed; every point checked) as
/// `EmrRollup` takes it: A ‖ B ‖ C in EIP-2537 encoding.
pub fn proof_to_eip2537(compressed: &[u8]) -> Result<[u8; PROOF_LEN]> {
	let proof = decode_proof::<Bls12_381>(compressed).map_err(verifier_error)?;
	let mut out = [0u8; PROOF_LEN];
	out[..G1_LEN].copy_from_slice(&g1_to_eip2537(&proof.a));
	out[G1_LEN..G1_LEN + G2_LEN].copy_from_slice(&g2_to_eip2537(&proof.b));
	out[G1_LEN + G2_LEN..].copy_from_slice(&g1_to_eip2537(&proof.c));
	Ok(out)
}

/// A verifying key in the form `EmrRollup` stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eip2537Vk {
	/// α.
	pub alpha: [u8; G1_LEN],
	/// −β.
	pub beta_neg: [u8; G2_LEN],
	/// −γ.
	pub gamma_neg: [u8; G2_LEN],
	/// −δ.
	pub delta_neg: [u8; G2_LEN],
	/// IC0 (constant) and one point per public input.
	pub ic: [[u8; G1_LEN]; PublicInputs::LEN + 1],
}

/// A verifying key as the chain stores it (`ark_groth16` compressed, checked by
/// [`decode_vk`]) in `EmrRollup`'s form, with β, γ, δ negated.
pub fn vk_to_eip2537(compressed: &[u8]) -> Result<Eip2537Vk> {
	let vk = decode_vk::<Bls12_381>(compressed).map_err(verifier_error)?;
	let mut ic = [[0u8; G1_LEN]; PublicInputs::LEN + 1];
	for (out, point) in ic.iter_mut().zip(&vk.gamma_abc_g1) {
		*out = g1_to_eip2537(point);
	}
	Ok(Eip2537Vk {
		alpha: g1_to_eip2537(&vk.alpha_g1),
		beta_neg: g2_to_eip2537(&-vk.beta_g2),
		gamma_neg: g2_to_eip2537(&-vk.gamma_g2),
		delta_neg: g2_to_eip2537(&-vk.delta_g2),
		ic,
	})
}

fn verifier_error(e: VerifierError) -> L1Error {
	L1Error::Invalid(format!("{e:?}"))
}

impl From<&Eip2537Vk> for EmrRollup::VerifyingKey {
	fn from(vk: &Eip2537Vk) -> Self {
		EmrRollup::VerifyingKey {
			alpha: Bytes::copy_from_slice(&vk.alpha),
			betaNeg: Bytes::copy_from_slice(&vk.beta_neg),
			gammaNeg: Bytes::copy_from_slice(&vk.gamma_neg),
			deltaNeg: Bytes::copy_from_slice(&vk.delta_neg),
			ic: vk.ic.map(|p| Bytes::copy_from_slice(&p)),
		}
	}
}

/// A BEEFY validator set as the light client holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
	/// The set id.
	pub id: u64,
	/// Number of validators.
	pub len: u32,
	/// [`beefy::set_root`] of their addresses.
	pub root: [u8; 32],
}

impl ValidatorSet {
	/// The set `id` of `validators` (in order).
	pub fn of(id: u64, validators: &[beefy::Address]) -> Self {
		ValidatorSet {
			id,
			len: u32::try_from(validators.len()).expect("a validator set fits in u32"),
			root: beefy::set_root(validators),
		}
	}
}

impl From<ValidatorSet> for BeefyClient::ValidatorSet {
	fn from(s: ValidatorSet) -> Self {
		BeefyClient::ValidatorSet { id: s.id, len: s.len, root: s.root.into() }
	}
}

impl From<BeefyClient::ValidatorSet> for ValidatorSet {
	fn from(s: BeefyClient::ValidatorSet) -> Self {
		ValidatorSet { id: s.id, len: s.len, root: s.root.0 }
	}
}

/// The public inputs of a batch as the chain stores them (little-endian 32-byte values); raw
/// bytes, so that a value outside the field can be sent (the contract must refuse it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchInputs {
	/// The batch number.
	pub batch: u64,
	/// State root before the batch.
	pub old_root: [u8; 32],
	/// State root after it.
	pub new_root: [u8; 32],
	/// The inbox commitment.
	pub inbox_commitment: [u8; 32],
}

impl From<&PublicInputs> for BatchInputs {
	fn from(p: &PublicInputs) -> Self {
		let [old_root, new_root, inbox_commitment, _] = p.to_bytes();
		BatchInputs { batch: p.batch, old_root, new_root, inbox_commitment }
	}
}

/// A mined transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxOutcome {
	/// The block it is in.
	pub block: u64,
	/// Its hash.
	pub tx_hash: B256,
	/// Gas it used.
	pub gas_used: u64,
}

/// A deployed contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployed {
	/// Its address.
	pub address: Address,
	/// The deployment transaction.
	pub tx: TxOutcome,
}

/// A `BatchSettled` event found on L1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
	/// The batch.
	pub batch: u64,
	/// The block holding the event.
	pub block: u64,
	/// The transaction that settled it.
	pub tx_hash: B256,
	/// The old root (little-endian).
	pub old_root: [u8; 32],
	/// The new root (little-endian).
	pub new_root: [u8; 32],
	/// The inbox commitment (little-endian).
	pub inbox_commitment: [u8; 32],
}

/// What [`L1::deploy_rollup`] needs.
#[derive(Clone, Debug)]
pub struct RollupConfig {
	/// The `BeefyClient` whose accepted MMR roots the rollup trusts.
	pub light_client: Address,
	/// The verifying key as the chain stores it (`ark_groth16` compressed).
	pub vk: Vec<u8>,
	/// Who may replace the key and hand over.
	pub governor: Address,
	/// The first batch to settle.
	pub first_batch: u64,
	/// The state root before it (little-endian).
	pub initial_root: [u8; 32],
}

/// A blocking client of an Ethereum node: one signer, its own tokio runtime.
pub struct L1 {
	runtime: tokio::runtime::Runtime,
	provider: DynProvider,
	sender: Address,
}

impl std::fmt::Debug for L1 {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("L1").field("sender", &self.sender).finish_non_exhaustive()
	}
}

/// Reads a private key file: 32 bytes as hex, `0x` optional, surrounding whitespace ignored.
pub fn read_key_file(path: &Path) -> Result<[u8; 32]> {
	let text = std::fs::read_to_string(path)
		.map_err(|e| L1Error::Invalid(format!("key file {}: {e}", path.display())))?;
	parse_key(&text).map_err(|e| L1Error::Invalid(format!("key file {}: {e}", path.display())))
}

fn parse_key(text: &str) -> Result<[u8; 32], String> {
	let hex_text = text.trim();
	let hex_text = hex_text.strip_prefix("0x").unwrap_or(hex_text);
	let bytes = hex::decode(hex_text).map_err(|e| format!("not hex: {e}"))?;
	<[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("{} bytes, not 32", bytes.len()))
}

impl L1 {
	/// A client of the node at `rpc_url` (`http://…`) signing with the key in `key_file`
	/// ([`read_key_file`]).
	pub fn connect(rpc_url: &str, key_file: &Path) -> Result<Self> {
		Self::with_key(rpc_url, &read_key_file(key_file)?)
	}

	/// A client of the node at `rpc_url` signing with `key` (a secp256k1 secret key).
	pub fn with_key(rpc_url: &str, key: &[u8; 32]) -> Result<Self> {
		let signer = PrivateKeySigner::from_bytes(&B256::from(*key))
			.map_err(|e| L1Error::Invalid(format!("not a secp256k1 secret key: {e}")))?;
		let sender = signer.address();
		let url =
			rpc_url.parse().map_err(|e| L1Error::Invalid(format!("RPC URL {rpc_url}: {e}")))?;
		let runtime = tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.map_err(|e| L1Error::Invalid(format!("tokio runtime: {e}")))?;
		// The nonce is read from the node for every transaction: a cached nonce would be consumed
		// by a call that the contract refuses at gas estimation, and the next transaction would
		// then wait forever behind the gap.
		let provider = ProviderBuilder::new()
			.disable_recommended_fillers()
			.with_gas_estimation()
			.with_simple_nonce_management()
			.fetch_chain_id()
			.wallet(EthereumWallet::from(signer))
			.connect_http(url)
			.erased();
		Ok(L1 { runtime, provider, sender })
	}

	/// The address that signs and pays.
	pub fn sender(&self) -> Address {
		self.sender
	}

	/// The node's chain id.
	pub fn chain_id(&self) -> Result<u64> {
		self.runtime.block_on(self.provider.get_chain_id()).map_err(transport_error)
	}

	/// The latest block number.
	pub fn block_number(&self) -> Result<u64> {
		self.runtime.block_on(self.provider.get_block_number()).map_err(transport_error)
	}

	/// Deploys a `BeefyClient` trusting `current` now and `next` after it.
	pub fn deploy_beefy_client(
		&self,
		current: ValidatorSet,
		next: ValidatorSet,
	) -> Result<Deployed> {
		let call = BeefyClient::deploy_builder(&self.provider, current.into(), next.into());
		self.runtime.block_on(async { self.deploy(call).await })
	}

	/// Deploys an `EmrRollup` ([`RollupConfig`]).
	pub fn deploy_rollup(&self, config: &RollupConfig) -> Result<Deployed> {
		let vk = vk_to_eip2537(&config.vk)?;
		let call = EmrRollup::deploy_builder(
			&self.provider,
			config.light_client,
			(&vk).into(),
			config.governor,
			config.first_batch,
			le_to_u256(&config.initial_root),
		);
		self.runtime.block_on(async { self.deploy(call).await })
	}

	/// Deploys an `EmrL1Baseline`.
	pub fn deploy_baseline(&self) -> Result<Deployed> {
		let call = EmrL1Baseline::deploy_builder(&self.provider);
		self.runtime.block_on(async { self.deploy(call).await })
	}

	/// The `BeefyClient` at `address`.
	pub fn light_client(&self, address: Address) -> LightClient<'_> {
		LightClient { l1: self, contract: BeefyClient::new(address, self.provider.clone()) }
	}

	/// The `EmrRollup` at `address`.
	pub fn rollup(&self, address: Address) -> Rollup<'_> {
		Rollup { l1: self, contract: EmrRollup::new(address, self.provider.clone()) }
	}

	/// The `EmrL1Baseline` at `address`.
	pub fn baseline(&self, address: Address) -> Baseline<'_> {
		Baseline { l1: self, contract: EmrL1Baseline::new(address, self.provider.clone()) }
	}

	/// Waits until `tx` has `confirmations` confirmations (1: it is in the head block) and is
	/// still in the chain where it was; [`L1Error::Unreachable`] after `timeout` or if it left
	/// the chain (send it again).
	pub fn wait_confirmations(
		&self,
		tx: &TxOutcome,
		confirmations: u64,
		timeout: Duration,
	) -> Result<TxOutcome> {
		let start = Instant::now();
		self.runtime.block_on(async {
			loop {
				let head = self.provider.get_block_number().await.map_err(transport_error)?;
				if head + 1 >= tx.block + confirmations {
					let receipt = self
						.provider
						.get_transaction_receipt(tx.tx_hash)
						.await
						.map_err(transport_error)?
						.ok_or_else(|| {
							L1Error::Unreachable(format!(
								"transaction {} left the chain",
								tx.tx_hash
							))
						})?;
					let now = outcome(&receipt)?;
					if now.block + confirmations <= head + 1 {
						return Ok(now);
					}
				}
				if start.elapsed() > timeout {
					return Err(L1Error::Unreachable(format!(
						"{confirmations} confirmations of {} not reached in {timeout:?}",
						tx.tx_hash
					)));
				}
				tokio::time::sleep(POLL).await;
			}
		})
	}

	/// Runs `f` to completion on the client's runtime.
	fn block<F: IntoFuture>(&self, f: F) -> F::Output {
		self.runtime.block_on(f.into_future())
	}

	async fn deploy<C>(&self, call: alloy::contract::RawCallBuilder<C>) -> Result<Deployed>
	where
		C: Provider + Clone,
	{
		let pending = call.send().await.map_err(contract_error)?;
		let receipt = self.receipt(*pending.tx_hash()).await?;
		let tx = outcome(&receipt)?;
		let address = receipt.contract_address.ok_or_else(|| {
			L1Error::Node("the deployment receipt has no contract address".into())
		})?;
		Ok(Deployed { address, tx })
	}

	async fn send<C, D>(&self, call: alloy::contract::CallBuilder<C, D>) -> Result<TxOutcome>
	where
		C: Provider + Clone,
		D: alloy::contract::CallDecoder,
	{
		let pending = call.send().await.map_err(contract_error)?;
		let receipt = self.receipt(*pending.tx_hash()).await?;
		outcome(&receipt)
	}

	async fn receipt(&self, hash: B256) -> Result<TransactionReceipt> {
		let start = Instant::now();
		loop {
			if let Some(receipt) =
				self.provider.get_transaction_receipt(hash).await.map_err(transport_error)?
			{
				return Ok(receipt);
			}
			if start.elapsed() > RECEIPT_TIMEOUT {
				return Err(L1Error::Unreachable(format!(
					"transaction {hash} not mined in {RECEIPT_TIMEOUT:?}"
				)));
			}
			tokio::time::sleep(POLL).await;
		}
	}
}

fn outcome(receipt: &TransactionReceipt) -> Result<TxOutcome> {
	let block = receipt
		.block_number
		.ok_or_else(|| L1Error::Node("a receipt without a block number".into()))?;
	if !receipt.status() {
		return Err(L1Error::Reverted { tx: receipt.transaction_hash, block });
	}
	Ok(TxOutcome { block, tx_hash: receipt.transaction_hash, gas_used: receipt.gas_used })
}

/// A handle on a deployed `BeefyClient`.
#[derive(Debug)]
pub struct LightClient<'a> {
	l1: &'a L1,
	contract: BeefyClient::BeefyClientInstance<DynProvider>,
}

fn commitment_of(commitment: &Commitment) -> Result<BeefyClient::Commitment> {
	// The contract rebuilds the SCALE bytes of a payload with exactly one entry, the MMR root.
	let root = match commitment.payload.len() {
		1 => commitment.mmr_root(),
		_ => None,
	}
	.ok_or_else(|| L1Error::Invalid("the commitment's payload is not one MMR root".into()))?;
	Ok(BeefyClient::Commitment {
		mmrRoot: root.into(),
		blockNumber: commitment.block_number,
		validatorSetId: commitment.validator_set_id,
	})
}

macro_rules! leaf_of {
	($module:ident, $leaf:expr) => {{
		let leaf: &MmrLeaf = $leaf;
		$module::MmrLeaf {
			version: leaf.version,
			parentNumber: leaf.parent_number,
			parentHash: leaf.parent_hash.into(),
			nextSetId: leaf.next_set_id,
			nextSetLen: leaf.next_set_len,
			nextSetRoot: leaf.next_set_root.into(),
			extra: leaf.extra.into(),
		}
	}};
}

macro_rules! leaf_proof_of {
	($module:ident, $proof:expr) => {{
		let proof: &LeafProof = $proof;
		match proof.leaf_indices[..] {
			[index] => Ok($module::LeafProof {
				leafIndex: index,
				leafCount: proof.leaf_count,
				items: proof.items.iter().map(|i| FixedBytes::from(*i)).collect(),
			}),
			_ => Err(L1Error::Invalid("the MMR proof is not one of exactly one leaf".into())),
		}
	}};
}

impl LightClient<'_> {
	/// The contract's address.
	pub fn address(&self) -> Address {
		*self.contract.address()
	}

	/// The set that signs now.
	pub fn current_set(&self) -> Result<ValidatorSet> {
		self.l1.block(self.contract.currentSet().call()).map(Into::into).map_err(contract_error)
	}

	/// The set announced to follow it.
	pub fn next_set(&self) -> Result<ValidatorSet> {
		self.l1.block(self.contract.nextSet().call()).map(Into::into).map_err(contract_error)
	}

	/// The block of the latest accepted commitment (0 before the first).
	pub fn latest_block(&self) -> Result<u32> {
		self.l1.block(self.contract.latestBlock().call()).map_err(contract_error)
	}

	/// The MMR root of the latest accepted commitment.
	pub fn latest_mmr_root(&self) -> Result<[u8; 32]> {
		self.l1.block(self.contract.latestMmrRoot().call()).map(|r| r.0).map_err(contract_error)
	}

	/// Whether the client accepted a commitment to `mmr_root`.
	pub fn is_known_root(&self, mmr_root: &[u8; 32]) -> Result<bool> {
		self.l1.block(self.contract.isKnownRoot((*mmr_root).into()).call()).map_err(contract_error)
	}

	/// The message the contract expects signed for `commitment` (equal to
	/// [`Commitment::hash`]).
	pub fn commitment_hash(&self, commitment: &Commitment) -> Result<[u8; 32]> {
		let c = commitment_of(commitment)?;
		self.l1.block(self.contract.commitmentHash(c).call()).map(|h| h.0).map_err(contract_error)
	}

	/// The contract's hash of `leaf` (equal to [`MmrLeaf::hash`]).
	pub fn leaf_hash(&self, leaf: &MmrLeaf) -> Result<[u8; 32]> {
		let l = leaf_of!(BeefyClient, leaf);
		self.l1.block(self.contract.leafHash(l).call()).map(|h| h.0).map_err(contract_error)
	}

	/// The contract's keyset root of `validators` (equal to [`beefy::set_root`]).
	pub fn set_root(&self, validators: &[beefy::Address]) -> Result<[u8; 32]> {
		let v = validators.iter().map(|a| Address::from(*a)).collect();
		self.l1.block(self.contract.setRoot(v).call()).map(|h| h.0).map_err(contract_error)
	}

	/// Submits `commitment` with one signature slot per validator of its set (`validators`, in
	/// order). A commitment by the next set needs `handoff`: the MMR leaf (in the commitment's
	/// root) that announces the set after it, and its proof.
	pub fn submit_commitment(
		&self,
		commitment: &Commitment,
		signatures: &[Option<[u8; 65]>],
		validators: &[beefy::Address],
		handoff: Option<(&MmrLeaf, &LeafProof)>,
	) -> Result<TxOutcome> {
		let c = commitment_of(commitment)?;
		let sigs = signatures
			.iter()
			.map(|s| s.map(|s| Bytes::copy_from_slice(&s)).unwrap_or_default())
			.collect();
		let v = validators.iter().map(|a| Address::from(*a)).collect();
		let (leaf, proof) = match handoff {
			Some((leaf, proof)) => {
				(leaf_of!(BeefyClient, leaf), leaf_proof_of!(BeefyClient, proof)?)
			},
			None => (
				leaf_of!(BeefyClient, &empty_leaf()),
				BeefyClient::LeafProof { leafIndex: 0, leafCount: 0, items: Vec::new() },
			),
		};
		let call = self.contract.submitCommitment(c, sigs, v, leaf, proof);
		self.l1.runtime.block_on(self.l1.send(call))
	}
}

fn empty_leaf() -> MmrLeaf {
	MmrLeaf {
		version: 0,
		parent_number: 0,
		parent_hash: [0; 32],
		next_set_id: 0,
		next_set_len: 0,
		next_set_root: [0; 32],
		extra: [0; 32],
	}
}

/// A handle on a deployed `EmrRollup`.
#[derive(Debug)]
pub struct Rollup<'a> {
	l1: &'a L1,
	contract: EmrRollup::EmrRollupInstance<DynProvider>,
}

impl Rollup<'_> {
	/// The contract's address.
	pub fn address(&self) -> Address {
		*self.contract.address()
	}

	/// The number of the next batch to settle.
	pub fn next_batch(&self) -> Result<u64> {
		self.l1.block(self.contract.nextBatch().call()).map_err(contract_error)
	}

	/// The latest settled state root (little-endian, as the chain stores it).
	pub fn latest_root(&self) -> Result<[u8; 32]> {
		self.l1.block(self.contract.latestRoot().call()).map(u256_to_le).map_err(contract_error)
	}

	/// Who may replace the key and hand over.
	pub fn governor(&self) -> Result<Address> {
		self.l1.block(self.contract.governor().call()).map_err(contract_error)
	}

	/// The stored key: α ‖ −β ‖ −γ ‖ −δ ‖ IC0..IC4 in EIP-2537 encoding.
	pub fn verifying_key(&self) -> Result<Vec<u8>> {
		self.l1
			.block(self.contract.verifyingKey().call())
			.map(|b| b.to_vec())
			.map_err(contract_error)
	}

	/// Settles a batch: `proof` as the chain stores it (`ark_groth16` compressed, checked and
	/// converted with [`proof_to_eip2537`]), `leaf` the MMR leaf carrying the batch's digest,
	/// in the MMR with root `mmr_root` (which the light client must have accepted) by
	/// `leaf_proof`.
	pub fn submit_batch(
		&self,
		inputs: &BatchInputs,
		proof: &[u8],
		leaf: &MmrLeaf,
		leaf_proof: &LeafProof,
		mmr_root: &[u8; 32],
	) -> Result<TxOutcome> {
		let proof = proof_to_eip2537(proof)?;
		self.submit_batch_eip2537(inputs, &proof, leaf, leaf_proof, mmr_root)
	}

	/// [`Rollup::submit_batch`] with a proof already in the contract's encoding (sent as it is,
	/// unchecked).
	pub fn submit_batch_eip2537(
		&self,
		inputs: &BatchInputs,
		proof: &[u8],
		leaf: &MmrLeaf,
		leaf_proof: &LeafProof,
		mmr_root: &[u8; 32],
	) -> Result<TxOutcome> {
		let call = self.contract.submitBatch(
			inputs.batch,
			le_to_u256(&inputs.old_root),
			le_to_u256(&inputs.new_root),
			le_to_u256(&inputs.inbox_commitment),
			Bytes::copy_from_slice(proof),
			leaf_of!(EmrRollup, leaf),
			leaf_proof_of!(EmrRollup, leaf_proof)?,
			(*mmr_root).into(),
		);
		self.l1.runtime.block_on(self.l1.send(call))
	}

	/// Replaces the verifying key (`ark_groth16` compressed); governor only.
	pub fn set_verifying_key(&self, vk: &[u8]) -> Result<TxOutcome> {
		let vk = vk_to_eip2537(vk)?;
		let call = self.contract.setVerifyingKey((&vk).into());
		self.l1.runtime.block_on(self.l1.send(call))
	}

	/// Hands the governor role to `governor`; governor only.
	pub fn set_governor(&self, governor: Address) -> Result<TxOutcome> {
		let call = self.contract.setGovernor(governor);
		self.l1.runtime.block_on(self.l1.send(call))
	}

	/// The `BatchSettled` event of `batch` at or after block `from_block`, if any: a relayer
	/// that restarts looks here before it pays for a batch again.
	pub fn find_settled(&self, batch: u64, from_block: u64) -> Result<Option<Settled>> {
		let filter =
			self.contract.BatchSettled_filter().topic1(U256::from(batch)).from_block(from_block);
		let logs = self.l1.runtime.block_on(filter.query()).map_err(contract_error)?;
		let Some((event, log)) = logs.into_iter().find(|(e, _)| e.batch == batch) else {
			return Ok(None);
		};
		Ok(Some(Settled {
			batch,
			block: log.block_number.ok_or_else(|| L1Error::Node("a log without a block".into()))?,
			tx_hash: log
				.transaction_hash
				.ok_or_else(|| L1Error::Node("a log without a transaction".into()))?,
			old_root: u256_to_le(event.oldRoot),
			new_root: u256_to_le(event.newRoot),
			inbox_commitment: u256_to_le(event.commitment),
		}))
	}
}

/// A handle on a deployed `EmrL1Baseline`.
#[derive(Debug)]
pub struct Baseline<'a> {
	l1: &'a L1,
	contract: EmrL1Baseline::EmrL1BaselineInstance<DynProvider>,
}

impl Baseline<'_> {
	/// Appends version `version` (the head's plus one) with CID `cid` to `patient`'s index.
	pub fn append_record(
		&self,
		patient: Address,
		cid: [u8; 32],
		version: u64,
	) -> Result<TxOutcome> {
		let call = self.contract.appendRecord(patient, cid.into(), version);
		self.l1.runtime.block_on(self.l1.send(call))
	}

	/// The sender (as patient) grants slot `slot` to `grantee`.
	pub fn grant(&self, slot: u16, grantee: Address, scope: u64, expiry: u64) -> Result<TxOutcome> {
		let call = self.contract.grant(slot, grantee, scope, expiry);
		self.l1.runtime.block_on(self.l1.send(call))
	}

	/// The sender logs an access to `patient`'s records.
	pub fn log_access(&self, patient: Address, purpose: u16, outcome: u8) -> Result<TxOutcome> {
		let call = self.contract.logAccess(patient, purpose, outcome);
		self.l1.runtime.block_on(self.l1.send(call))
	}
}

fn contract_error(e: alloy::contract::Error) -> L1Error {
	if let Some(data) = e.as_revert_data() {
		return refused(data);
	}
	match e {
		alloy::contract::Error::TransportError(e) => transport_error(e),
		alloy::contract::Error::PendingTransactionError(e) => L1Error::Unreachable(e.to_string()),
		other => L1Error::Node(other.to_string()),
	}
}

fn transport_error(e: TransportError) -> L1Error {
	match &e {
		RpcError::ErrorResp(payload) => match payload.as_revert_data() {
			Some(data) => refused(data),
			None => L1Error::Node(payload.to_string()),
		},
		RpcError::Transport(_) | RpcError::NullResp => L1Error::Unreachable(e.to_string()),
		_ => L1Error::Node(e.to_string()),
	}
}

/// The contracts' custom errors.
fn abi_errors() -> &'static [alloy::json_abi::Error] {
	static ERRORS: OnceLock<Vec<alloy::json_abi::Error>> = OnceLock::new();
	ERRORS.get_or_init(|| {
		ARTIFACTS
			.iter()
			.flat_map(|artifact| {
				let value: serde_json::Value =
					serde_json::from_str(artifact).expect("a committed artifact is JSON");
				let abi: JsonAbi = serde_json::from_value(value["abi"].clone())
					.expect("a committed artifact has an ABI");
				abi.errors().cloned().collect::<Vec<_>>()
			})
			.collect()
	})
}

/// The refusal that revert data `data` encodes.
fn refused(data: Bytes) -> L1Error {
	let (name, detail) = decode_revert(&data);
	L1Error::Refused { name, detail, data }
}

fn decode_revert(data: &[u8]) -> (String, String) {
	if data.len() >= 4 {
		for error in abi_errors() {
			if error.selector()[..] == data[..4] {
				if let Ok(values) = error.abi_decode_input(&data[4..]) {
					let args: Vec<String> = values.iter().map(show).collect();
					return (error.name.clone(), format!("({})", args.join(", ")));
				}
			}
		}
	}
	use alloy::sol_types::{Panic, Revert, SolError};
	if let Ok(revert) = Revert::abi_decode(data) {
		return ("Error".into(), format!(": {}", revert.reason));
	}
	if let Ok(panic) = Panic::abi_decode(data) {
		return ("Panic".into(), format!("({})", panic.code));
	}
	("unknown".into(), format!(" (revert data 0x{})", hex::encode(data)))
}

fn show(value: &DynSolValue) -> String {
	match value {
		DynSolValue::Uint(v, _) => v.to_string(),
		DynSolValue::Int(v, _) => v.to_string(),
		DynSolValue::Bool(b) => b.to_string(),
		DynSolValue::Address(a) => a.to_string(),
		DynSolValue::FixedBytes(w, size) => format!("0x{}", hex::encode(&w[..*size])),
		DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
		DynSolValue::String(s) => format!("{s:?}"),
		other => format!("{other:?}"),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloy::sol_types::SolError;
	use ark_ec::{AffineRepr, CurveGroup};
	use ark_ff::UniformRand;
	use rand_core::SeedableRng;

	#[test]
	fn field_bytes_are_read_little_endian() {
		let mut le = [0u8; 32];
		le[0] = 1;
		le[31] = 2;
		assert_eq!(le_to_u256(&le), U256::from(1u8) + (U256::from(2u8) << 248));
		assert_eq!(u256_to_le(le_to_u256(&le)), le);
	}

	#[test]
	fn key_files_take_hex_with_or_without_prefix() {
		let key = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
		let want = hex::decode(key).expect("hex");
		assert_eq!(parse_key(&format!("0x{key}\n")).expect("prefixed").to_vec(), want);
		assert_eq!(parse_key(key).expect("bare").to_vec(), want);
		assert!(parse_key(&key[2..]).is_err(), "31 bytes are refused");
		assert!(parse_key("0xzz").is_err());
	}

	#[test]
	fn eip2537_points_are_padded_big_endian_coordinates() {
		let g = G1Affine::generator();
		let out = g1_to_eip2537(&g);
		assert!(out[..16].iter().all(|&b| b == 0) && out[64..80].iter().all(|&b| b == 0));
		// The generator's x begins 0x17f1d3a7 (the standard BLS12-381 G1 generator).
		assert_eq!(out[16..20], [0x17, 0xf1, 0xd3, 0xa7]);
		assert_eq!(g1_to_eip2537(&G1Affine::zero()), [0u8; G1_LEN]);
		let h = G2Affine::generator();
		let out = g2_to_eip2537(&h);
		// x.c0 of the G2 generator begins 0x024aa2b2, x.c1 begins 0x13e02b60.
		assert_eq!(out[16..20], [0x02, 0x4a, 0xa2, 0xb2]);
		assert_eq!(out[80..84], [0x13, 0xe0, 0x2b, 0x60]);
		// −P has the same x and the other y.
		let neg = g2_to_eip2537(&-h);
		assert_eq!(neg[..128], out[..128]);
		assert_ne!(neg[128..], out[128..]);
	}

	#[test]
	fn proofs_convert_and_bad_encodings_are_refused() {
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
		let a = (G1Affine::generator() * ark_bls12_381::Fr::rand(&mut rng)).into_affine();
		let b = (G2Affine::generator() * ark_bls12_381::Fr::rand(&mut rng)).into_affine();
		let c = (G1Affine::generator() * ark_bls12_381::Fr::rand(&mut rng)).into_affine();
		let proof = emr_primitives::groth16::Proof::<Bls12_381> { a, b, c };
		let bytes = emr_circuit::groth16::to_bytes(&proof);
		let out = proof_to_eip2537(&bytes).expect("a valid proof");
		assert_eq!(out[..128], g1_to_eip2537(&a));
		assert_eq!(out[128..384], g2_to_eip2537(&b));
		assert_eq!(out[384..], g1_to_eip2537(&c));
		assert!(matches!(proof_to_eip2537(&bytes[..100]), Err(L1Error::Invalid(_))));
		let mut flipped = bytes.clone();
		flipped[5] ^= 1;
		assert!(proof_to_eip2537(&flipped).is_err(), "an x with no point (or another) is refused");
	}

	/// The byte layouts `BeefyMmr.sol` rebuilds: a one-entry commitment is 48 bytes, a leaf 113.
	#[test]
	fn scale_layouts_are_the_ones_the_contract_rebuilds() {
		let root = [0xaa; 32];
		let c = Commitment {
			payload: vec![(beefy::MMR_ROOT_ID, root.to_vec())],
			block_number: 0x0102_0304,
			validator_set_id: 0x0506_0708_090a_0b0c,
		};
		let mut want = vec![0x04, b'm', b'h', 0x80];
		want.extend_from_slice(&root);
		want.extend_from_slice(&[4, 3, 2, 1]);
		want.extend_from_slice(&[0x0c, 0x0b, 0x0a, 9, 8, 7, 6, 5]);
		assert_eq!(codec::Encode::encode(&c), want);
		assert_eq!(c.hash(), emr_primitives::settlement::keccak256(&want));
		let leaf = MmrLeaf {
			version: 1,
			parent_number: 0x0102_0304,
			parent_hash: [2; 32],
			next_set_id: 0x0506_0708_090a_0b0c,
			next_set_len: 0x0d0e_0f10,
			next_set_root: [3; 32],
			extra: [4; 32],
		};
		let mut want = vec![1, 4, 3, 2, 1];
		want.extend_from_slice(&[2; 32]);
		want.extend_from_slice(&[0x0c, 0x0b, 0x0a, 9, 8, 7, 6, 5, 0x10, 0x0f, 0x0e, 0x0d]);
		want.extend_from_slice(&[3; 32]);
		want.extend_from_slice(&[4; 32]);
		assert_eq!(want.len(), 113);
		assert_eq!(codec::Encode::encode(&leaf), want);
		// Only a one-entry payload can be sent.
		let two = Commitment { payload: vec![c.payload[0].clone(), (*b"xx", vec![])], ..c };
		assert!(matches!(commitment_of(&two), Err(L1Error::Invalid(_))));
	}

	#[test]
	fn reverts_decode_to_the_custom_error() {
		let data = EmrRollup::UnexpectedBatch { batch: 3, expected: 2 }.abi_encode();
		let err = refused(data.into());
		assert_eq!(err.refusal(), Some("UnexpectedBatch"));
		assert!(!err.is_retryable());
		assert_eq!(err.to_string(), "the contract refused: UnexpectedBatch(3, 2)");
		let unknown = refused(vec![1, 2, 3, 4, 5].into());
		assert_eq!(unknown.refusal(), Some("unknown"));
		let reason = refused(alloy::sol_types::Revert::from("no").abi_encode().into());
		assert_eq!(reason.to_string(), "the contract refused: Error: no");
		assert!(L1Error::Unreachable("down".into()).is_retryable());
	}
}

#[cfg(test)]
mod artifacts {
	use sha2::{Digest, Sha256};
	use std::path::Path;

	/// `contracts/out` is compiled from `contracts/src` as it is: editing a contract without
	/// running `contracts/build.sh` fails here, with no solc needed.
	#[test]
	fn compiled_contracts_match_their_sources() {
		let contracts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts");
		let sums = std::fs::read_to_string(contracts.join("out/sources.sha256"))
			.expect("contracts/out/sources.sha256 (run contracts/build.sh)");
		let mut listed = Vec::new();
		for line in sums.lines() {
			let (hash, file) = line.split_once("  ").expect("`<sha256>  <path>` lines");
			let source = std::fs::read(contracts.join(file)).expect("a listed source exists");
			assert_eq!(
				hex::encode(Sha256::digest(&source)),
				hash,
				"{file} changed since contracts/out was built: run contracts/build.sh"
			);
			listed.push(file.to_string());
		}
		let mut present: Vec<String> = std::fs::read_dir(contracts.join("src"))
			.expect("contracts/src")
			.map(|e| format!("src/{}", e.expect("a directory entry").file_name().to_string_lossy()))
			.filter(|f| f.ends_with(".sol"))
			.collect();
		present.sort();
		listed.sort();
		assert_eq!(
			present, listed,
			"contracts/src and out/sources.sha256 list other files: run contracts/build.sh"
		);
	}
}
