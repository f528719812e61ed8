//! The inbox: an applied operation is appended to the open batch (its inbox commitment extended
//! with `emr_primitives::inbox`), what the rules' state does not hold is recorded by the pallet
//! that owns it (keys and index heads in the registry, emergency reviews and the access log in
//! consent), and a batch is sealed by size (here) or by age (`on_initialize`).

use crate::{
	BatchInfo, Batches, ChainState, Config, CurrentKey, Deployment, Error, Event, Inbox,
	LastSealed, OpenBatch, OperationRef, Operations, Pallet, RuleFailure, VerifyingKeys,
	MAX_BATCH_SIZE,
};
use emr_primitives::{
	inbox::{self, InboxEntry},
	ops::{BlockNumber, Operation, Origin, SignedOp},
	rules::{self, AccessOutcome, Effects},
	stored::{field_bytes, field_le},
	F,
};
use frame_support::storage::{with_transaction, TransactionOutcome};
use pallet_consent::{ConsentRecords, EmergencyGrant, LogEntry, LogOutcome};
use pallet_emr_registry::ParticipantRegistry;
use polkadot_sdk::{frame_support, sp_runtime::DispatchError};

impl<T: Config> Pallet<T> {
	/// The governance entry of an admission (`op` an [`Operation::AdmitMember`]): it names
	/// no actor (the rules assign the next id), its nonce is 0, its signature the admitted
	/// key's proof of possession (checked by the rules when it is applied).
	pub fn admission(op: Operation, signature: [u8; 64]) -> SignedOp {
		SignedOp { actor: 0, nonce: 0, op, signature }
	}

	/// Applies `op` with the rules, then appends it to the open batch and records what it
	/// did (encryption keys, index head, log entry, events). Nothing changes on a refusal.
	pub fn apply(op: SignedOp, origin: Origin) -> Result<OperationRef, DispatchError> {
		let now = Self::now();
		let mut state = ChainState::<T>::default();
		Self::fresh_key(&op).map_err(|e| Error::<T>::Refused(RuleFailure(e)))?;
		let applied = with_transaction(|| {
			let r = match origin {
				Origin::User => rules::apply(&mut state, &op, now),
				Origin::Governance => rules::apply_governance(&mut state, &op, now),
			};
			match r {
				Ok(fx) => TransactionOutcome::Commit(Ok::<_, DispatchError>(fx)),
				Err(e) => {
					TransactionOutcome::Rollback(Err(Error::<T>::Refused(RuleFailure(e)).into()))
				},
			}
		})?;
		Ok(Self::record(InboxEntry { op, origin, block: now }, applied))
	}

	fn record(entry: InboxEntry, fx: Effects) -> OperationRef {
		let batch = OpenBatch::<T>::get();
		let vk = CurrentKey::<T>::get().unwrap_or(0);
		let mut info = Batches::<T>::get(batch).unwrap_or(BatchInfo {
			len: 0,
			commitment: field_bytes(&inbox::start(&Deployment::<T>::get())),
			vk,
			opened_at: entry.block,
			last_block: entry.block,
			sealed_at: None,
			proven_at: None,
			old_root: None,
			new_root: None,
			prover: None,
		});
		let index = info.len;
		let message = entry.op.message();
		let commitment =
			inbox::chain_hash(field_le(&info.commitment), entry.hash_with_message(message));
		info.commitment = field_bytes(&commitment);
		info.len = info.len.saturating_add(1);
		info.last_block = entry.block;
		let at = OperationRef { batch, index, block: entry.block };
		Self::record_effects(&entry, &fx, batch, message);
		if entry.origin == Origin::User {
			// A registration under the id it was given (with nonce 0).
			Operations::<T>::insert(fx.actor, entry.op.nonce, at);
		}
		let outcome = fx.outcome.map(|o| match o {
			AccessOutcome::Granted => LogOutcome::Granted,
			AccessOutcome::Denied => LogOutcome::Denied,
		});
		Self::deposit_event(Event::OperationApplied {
			batch,
			index,
			actor: fx.actor,
			nonce: entry.op.nonce,
			kind: fx.kind,
			subject: fx.subject,
			outcome,
		});
		Inbox::<T>::insert(batch, index, entry);
		let size = VerifyingKeys::<T>::get(vk).map(|k| k.batch_size).unwrap_or(MAX_BATCH_SIZE);
		if info.len >= size {
			Self::seal(batch, info, at.block);
		} else {
			Batches::<T>::insert(batch, info);
		}
		at
	}

	/// What the rules' state does not hold: raw encryption keys, the index head's CID, the
	/// patient's log entry, emergency reviews.
	fn record_effects(entry: &InboxEntry, fx: &Effects, batch: u64, message: F) {
		let op = &entry.op;
		match &op.op {
			Operation::AdmitMember { role, encryption_key, public_key } => {
				T::Registry::register_key(fx.subject, *public_key, *encryption_key);
				Self::deposit_event(Event::MemberAdmitted { id: fx.subject, role: *role });
			},
			Operation::Register { encryption_key, public_key, .. } => {
				T::Registry::register_key(fx.subject, *public_key, *encryption_key);
			},
			Operation::RemoveMember => {
				Self::deposit_event(Event::MemberRemoved { id: op.actor });
			},
			Operation::AppendRecord { index_head, .. } => {
				T::Registry::set_index_head(fx.subject, index_head.clone(), op.actor, entry.block);
			},
			Operation::EmergencyAccess { reason, .. } => {
				if let (Some(grant), Some(d)) = (fx.grant, T::Registry::participant(op.actor)) {
					T::Consent::open_emergency(
						fx.subject,
						grant,
						EmergencyGrant {
							doctor: op.actor,
							hospital: d.affiliation,
							reason: *reason,
							opened_at: entry.block,
						},
					);
					Self::deposit_event(Event::EmergencyAccessOpened {
						patient: fx.subject,
						doctor: op.actor,
						grant,
						reason: *reason,
					});
				}
			},
			_ => {},
		}
		if rules::is_logged(fx.kind) {
			let (outcome, purpose) = match (&op.op, fx.outcome) {
				(Operation::AccessRecord { purpose, .. }, Some(AccessOutcome::Granted)) => {
					(LogOutcome::Granted, *purpose)
				},
				(Operation::AccessRecord { purpose, .. }, _) => (LogOutcome::Denied, *purpose),
				_ => (LogOutcome::Recorded, 0),
			};
			T::Consent::append_log(
				fx.subject,
				LogEntry {
					actor: op.actor,
					kind: fx.kind,
					grant: fx.grant,
					purpose,
					outcome,
					block: entry.block,
					batch,
					message: field_bytes(&message),
				},
			);
		}
	}

	pub(crate) fn seal(batch: u64, mut info: BatchInfo<T::AccountId>, now: BlockNumber) {
		info.sealed_at = Some(now);
		let (entries, commitment) = (info.len, info.commitment);
		Batches::<T>::insert(batch, info);
		LastSealed::<T>::put(batch);
		OpenBatch::<T>::put(batch.saturating_add(1));
		Self::deposit_event(Event::BatchSealed { batch, entries, commitment });
	}
}
