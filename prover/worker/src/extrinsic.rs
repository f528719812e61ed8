//! The `rollup.submit_proof` transaction, signed by the prover account.
//!
//! Built with the runtime's own types ([`emr_runtime::TxExtension`], [`emr_runtime::SignedPayload`]),
//! so it cannot drift from what the runtime checks; the spec and transaction versions of the
//! running chain must be the ones this binary was built with ([`check_versions`]).

use emr_runtime::{
	AccountId, Address, Runtime, RuntimeCall, Signature, SignedPayload, TxExtension,
	UncheckedExtrinsic, VERSION,
};
use pallet_rollup::extension::{NOT_A_PROVER, PROOF_NOT_NEXT};
use polkadot_sdk::{
	frame_system, pallet_transaction_payment,
	sp_core::H256,
	sp_runtime::{
		generic::Era,
		traits::Hash as _,
		transaction_validity::{InvalidTransaction, TransactionValidityError},
	},
};

/// Blocks a proof transaction stays valid from the block it was built on (a power of two).
pub const MORTALITY: u32 = 32;

/// What a transaction commits to about its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainInfo {
	/// The genesis hash.
	pub genesis: H256,
	/// The runtime's spec version.
	pub spec_version: u32,
	/// The runtime's transaction version.
	pub transaction_version: u32,
}

/// Refuses a chain whose runtime is not the one this binary was built with: the transaction
/// would not decode or would sign the wrong payload.
pub fn check_versions(spec_version: u32, transaction_version: u32) -> Result<(), String> {
	if spec_version != VERSION.spec_version || transaction_version != VERSION.transaction_version {
		return Err(format!(
			"the chain runs runtime spec_version {spec_version} (transaction_version \
			 {transaction_version}); this binary was built for {} ({}): use a prover built from \
			 the same release as the chain's runtime",
			VERSION.spec_version, VERSION.transaction_version
		));
	}
	Ok(())
}

/// The `submit_proof` call; `None` when the proof is longer than the pallet accepts.
pub fn submit_proof_call(batch: u64, new_root: [u8; 32], proof: &[u8]) -> Option<RuntimeCall> {
	Some(RuntimeCall::Rollup(pallet_rollup::Call::submit_proof {
		batch,
		new_root,
		proof: proof.to_vec().try_into().ok()?,
	}))
}

/// `call` signed by `account` with nonce `nonce`, mortal from block `birth` (number and hash);
/// `sign` signs the payload bytes (it returns `None` when the key is unavailable). Returns the
/// extrinsic and the last block that can include it.
pub fn signed(
	call: RuntimeCall,
	info: &ChainInfo,
	birth: (u32, H256),
	nonce: u32,
	account: AccountId,
	sign: impl FnOnce(&[u8]) -> Option<Signature>,
) -> Result<(UncheckedExtrinsic, u32), String> {
	let era = Era::mortal(MORTALITY.into(), birth.0.into());
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		pallet_rollup::CheckProofSubmission::<Runtime>::new(),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	let implicit = (
		(),
		info.spec_version,
		info.transaction_version,
		info.genesis,
		birth.1,
		(),
		(),
		(),
		(),
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = codec::Encode::using_encoded(&payload, sign)
		.ok_or("the prover key is not available for signing")?;
	let last = u32::try_from(era.death(birth.0.into()).saturating_sub(1)).unwrap_or(u32::MAX);
	Ok((UncheckedExtrinsic::new_signed(call, Address::Id(account), signature, extension), last))
}

/// The Blake2-256 hash of an encoded extrinsic (its transaction hash).
pub fn tx_hash(encoded: &[u8]) -> [u8; 32] {
	polkadot_sdk::sp_runtime::traits::BlakeTwo256::hash(encoded).0
}

/// What a pool refusal means to the worker.
pub fn classify(e: &TransactionValidityError, account: &AccountId) -> crate::SubmitError {
	use crate::SubmitError;
	match e {
		TransactionValidityError::Invalid(InvalidTransaction::Custom(c))
			if *c == PROOF_NOT_NEXT =>
		{
			SubmitError::NotNext
		},
		TransactionValidityError::Invalid(InvalidTransaction::Custom(c)) if *c == NOT_A_PROVER => {
			SubmitError::NotAProver(account.to_string())
		},
		other => SubmitError::Refused(format!("{other:?}")),
	}
}
