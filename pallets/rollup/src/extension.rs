//! [`CheckProofSubmission`]: refuses, in the transaction pool, a batch proof that cannot be
//! accepted, before it costs a block.

use crate::{Call, Config, Error, Pallet, Provers};
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{Get, IsSubType},
	DefaultNoBound,
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{DispatchInfoOf, TransactionExtension, ValidateResult},
	transaction_validity::{InvalidTransaction, ValidTransaction},
	DispatchError, Weight,
};

pub use crate::{NOT_A_PROVER, PROOF_NOT_NEXT};

/// A transaction extension that checks `submit_proof` calls against the rollup's state: the
/// sender is a prover and the batch is the next sealed one to prove. A proof of a batch already
/// proven is `Stale`; two proofs of one batch share the tag `("EmrProof", batch)`, so the pool
/// keeps one. Other calls pass untouched.
#[derive(Encode, Decode, DecodeWithMemTracking, DefaultNoBound, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckProofSubmission<T>(PhantomData<T>);

impl<T> core::fmt::Debug for CheckProofSubmission<T> {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		f.write_str("CheckProofSubmission")
	}
}

impl<T> CheckProofSubmission<T> {
	/// The extension.
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

impl<T: Config + Send + Sync> TransactionExtension<<T as frame_system::Config>::RuntimeCall>
	for CheckProofSubmission<T>
where
	<T as frame_system::Config>::RuntimeCall: IsSubType<Call<T>>,
{
	const IDENTIFIER: &'static str = "CheckProofSubmission";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, call: &<T as frame_system::Config>::RuntimeCall) -> Weight {
		match call.is_sub_type() {
			Some(Call::submit_proof { .. }) => T::DbWeight::get().reads(3),
			_ => Weight::zero(),
		}
	}

	fn validate(
		&self,
		origin: <T as frame_system::Config>::RuntimeOrigin,
		call: &<T as frame_system::Config>::RuntimeCall,
		_info: &DispatchInfoOf<<T as frame_system::Config>::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, <T as frame_system::Config>::RuntimeCall> {
		let Some(Call::submit_proof { batch, .. }) = call.is_sub_type() else {
			return Ok((ValidTransaction::default(), (), origin));
		};
		let who = frame_system::ensure_signed(origin.clone())
			.map_err(|_| InvalidTransaction::BadSigner)?;
		if !Provers::<T>::get().contains(&who) {
			return Err(InvalidTransaction::Custom(NOT_A_PROVER).into());
		}
		match Pallet::<T>::provable(*batch) {
			Ok(_) => {},
			Err(e) if e == DispatchError::from(Error::<T>::BatchAlreadyProven) => {
				return Err(InvalidTransaction::Stale.into())
			},
			Err(_) => return Err(InvalidTransaction::Custom(PROOF_NOT_NEXT).into()),
		}
		let valid = ValidTransaction::with_tag_prefix("EmrProof").and_provides(*batch).build()?;
		Ok((valid, (), origin))
	}

	impl_tx_ext_default!(<T as frame_system::Config>::RuntimeCall; prepare);
}
