//! Proof acceptance: which batch is provable next, the verifying-key registry, the empty state's
//! root (the first old root) and the settlement digest the MMR leaves carry.

use crate::{
	BatchInfo, Batches, Config, CurrentKey, Error, Event, KeyFailure, LastProven, Pallet,
	ProvenRoot, VerifyingKeyInfo, VerifyingKeys, MAX_BATCH_SIZE, MAX_VK_LEN,
};
use alloc::vec::Vec;
use emr_primitives::{groth16::BatchVerifier, stored::field_bytes};
use frame_support::{dispatch::DispatchResult, ensure, pallet_prelude::ConstU32, BoundedVec};
use polkadot_sdk::{frame_support, sp_runtime::DispatchError};

/// The root of the empty rollup state (no participant, no organisation).
pub fn empty_state_root() -> [u8; 32] {
	field_bytes(&emr_primitives::state::empty_state_root())
}

/// [`empty_state_root`], written out: the default of [`ProvenRoot`], which the runtime's
/// metadata carries. Computing it would call the Poseidon host function while the metadata is
/// built, which a light client (smoldot) cannot run, so it could not read the metadata. The test
/// `the_empty_root_constant_is_the_computed_one` keeps the two equal.
pub const EMPTY_STATE_ROOT: [u8; 32] = [
	0x7d, 0x61, 0xf6, 0x0a, 0x20, 0x19, 0x7e, 0xc4, 0xba, 0x24, 0x67, 0x40, 0x74, 0xce, 0xae, 0x49,
	0x05, 0x83, 0xa7, 0x61, 0x5d, 0x3f, 0xb2, 0xb3, 0x94, 0x5b, 0x08, 0x80, 0x7c, 0x3d, 0x7f, 0x3c,
];

impl<T: Config> Pallet<T> {
	/// The rollup digest of the last proven batch (`emr_primitives::settlement::digest`),
	/// or `settlement::NOTHING_PROVEN` before the first proof: the extra data of every MMR
	/// leaf, so that a BEEFY-signed MMR root commits to what the chain proved.
	pub fn settlement_digest() -> [u8; 32] {
		let Some(batch) = LastProven::<T>::get() else {
			return emr_primitives::settlement::NOTHING_PROVEN;
		};
		let info = Batches::<T>::get(batch);
		let commitment = info.as_ref().map(|i| i.commitment).unwrap_or_default();
		emr_primitives::settlement::digest(batch, &ProvenRoot::<T>::get(), &commitment)
	}

	/// The batch `batch` if it is the next to prove and sealed.
	pub fn provable(batch: u64) -> Result<BatchInfo<T::AccountId>, DispatchError> {
		let next = LastProven::<T>::get().map(|b| b.saturating_add(1)).unwrap_or(0);
		ensure!(batch >= next, Error::<T>::BatchAlreadyProven);
		ensure!(batch == next, Error::<T>::BatchOutOfOrder);
		let info = Batches::<T>::get(batch).ok_or(Error::<T>::UnknownBatch)?;
		ensure!(info.sealed_at.is_some(), Error::<T>::BatchNotSealed);
		Ok(info)
	}

	pub(crate) fn register_key(key: Vec<u8>, batch_size: u32) -> DispatchResult {
		ensure!(batch_size > 0 && batch_size <= MAX_BATCH_SIZE, Error::<T>::InvalidBatchSize);
		let key: BoundedVec<u8, ConstU32<MAX_VK_LEN>> =
			key.try_into().map_err(|_| Error::<T>::VerifyingKeyTooLong)?;
		let prepared = T::Verifier::prepare_vk(&key)
			.map_err(|e| Error::<T>::InvalidVerifyingKey(KeyFailure(e)))?
			.try_into()
			.map_err(|_| Error::<T>::VerifyingKeyTooLong)?;
		let hash = emr_primitives::groth16::vk_hash(&key);
		let id = CurrentKey::<T>::get().map(|i| i.saturating_add(1)).unwrap_or(0);
		VerifyingKeys::<T>::insert(
			id,
			VerifyingKeyInfo { key, prepared, hash, batch_size, registered_at: Self::now() },
		);
		CurrentKey::<T>::put(id);
		Self::deposit_event(Event::VerifyingKeySet { id, hash, batch_size });
		Ok(())
	}
}
