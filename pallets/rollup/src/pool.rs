//! Pool admission of L2 operations: validity in the transaction pool (a dry run of the rules for
//! the actor's next nonce, the signature for one queued behind it), the per-block cap and the
//! registry's one-key-one-id check.

use crate::{
	rule_code, BatchParams, BlockOperations, ChainState, Config, Error, Pallet, Params,
	TOO_MANY_QUEUED,
};
use emr_primitives::{
	ops::{Operation, SignedOp},
	rules::{self, RuleError},
};
use frame_support::{
	dispatch::DispatchResult,
	ensure,
	storage::{with_transaction, TransactionOutcome},
	traits::Get,
};
use pallet_emr_registry::ParticipantRegistry;
use polkadot_sdk::{frame_support, sp_runtime};
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionValidity, ValidTransaction},
	DispatchError,
};

impl<T: Config> Pallet<T> {
	/// Pool validity of an L2 operation. The operation at the actor's next nonce is applied
	/// in a storage layer that is rolled back (every rule checked natively); one queued
	/// behind it has its signature checked ([`rules::authenticate`]). In a block
	/// (`in_block`), only the next nonce is valid.
	pub fn validate_operation(op: &SignedOp, in_block: bool) -> TransactionValidity {
		let params = Params::<T>::get().ok_or(InvalidTransaction::Call)?;
		let next = match T::Registry::participant(op.actor) {
			Some(p) if !matches!(op.op, Operation::Register { .. }) => p.nonce,
			_ => 0,
		};
		if op.nonce < next {
			return Err(InvalidTransaction::Stale.into());
		}
		if op.nonce > next {
			if in_block {
				return Err(InvalidTransaction::Future.into());
			}
			if op.nonce - next > params.max_queued_per_actor {
				return Err(InvalidTransaction::Custom(TOO_MANY_QUEUED).into());
			}
			rules::authenticate(&ChainState::<T>::default(), op)
				.map_err(|e| InvalidTransaction::Custom(rule_code(e)))?;
		} else {
			Self::dry_run(op).map_err(|e| InvalidTransaction::Custom(rule_code(e)))?;
		}
		let valid = ValidTransaction::with_tag_prefix("EmrL2Op")
			.priority(T::OperationPriority::get())
			.longevity(64)
			.propagate(true);
		// A registration names no actor yet: its key is what it provides.
		let mut valid = match &op.op {
			Operation::Register { public_key, .. } => valid.and_provides(public_key),
			_ => valid.and_provides((op.actor, op.nonce)),
		};
		if op.nonce > next {
			valid = valid.and_requires((op.actor, op.nonce - 1));
		}
		valid.build()
	}

	/// Applies `op` at the current block and rolls everything back: what `submit` would say.
	pub fn dry_run(op: &SignedOp) -> Result<(), RuleError> {
		Self::fresh_key(op)?;
		let now = Self::now();
		let outcome: Result<Result<(), RuleError>, DispatchError> = with_transaction(|| {
			let r = rules::apply(&mut ChainState::<T>::default(), op, now).map(|_| ());
			TransactionOutcome::Rollback(Ok(r))
		});
		outcome.unwrap_or(Err(RuleError::CounterOverflow))
	}

	pub(crate) fn block_full() -> bool {
		let (block, count) = BlockOperations::<T>::get();
		let max = Params::<T>::get().map(|p| p.max_ops_per_block).unwrap_or(0);
		block == Self::now() && count >= max
	}

	pub(crate) fn count_operation() -> DispatchResult {
		ensure!(!Self::block_full(), Error::<T>::BlockFull);
		let now = Self::now();
		BlockOperations::<T>::mutate(|(block, count)| {
			if *block != now {
				*block = now;
				*count = 0;
			}
			*count = count.saturating_add(1);
		});
		Ok(())
	}

	/// A registration or admission of a key the registry already holds is refused
	/// ([`RuleError::AlreadyRegistered`]): the rules assign ids in order and cannot see other
	/// participants' keys. (Keys are compared as the canonical compressed bytes the rules
	/// accept.)
	pub fn fresh_key(op: &SignedOp) -> Result<(), RuleError> {
		match &op.op {
			Operation::Register { public_key, .. } | Operation::AdmitMember { public_key, .. }
				if T::Registry::key_id(public_key).is_some() =>
			{
				Err(RuleError::AlreadyRegistered)
			},
			_ => Ok(()),
		}
	}

	pub(crate) fn params_valid(p: &BatchParams) -> bool {
		p.seal_after > 0 && p.max_ops_per_block > 0
	}
}
