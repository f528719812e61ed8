//! The runtime API behind the node's `emr_*` and `rollup_*` JSON-RPC methods, and the views it
//! returns.

use crate::{
	BatchInfo, BatchParams, Batches, Config, CurrentKey, Inbox, LastProven, LastSealed, OpenBatch,
	OperationRef, Operations, Pallet, Params, Proofs, ProvenRoot, StateHeader, VerifyingKeys,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use emr_primitives::{
	inbox::InboxEntry,
	ops::{DeploymentId, GrantId, ParticipantId, SignedOp},
	rules::RuleError,
	state::Participant,
	stored::{StoredGrant, StoredParticipant},
};
use pallet_consent::{ConsentRecords, EmergencyGrant, LogEntry};
use pallet_emr_registry::{IndexHead, ParticipantRegistry};
use scale_info::TypeInfo;

/// A participant with its raw encryption key and compressed rollup key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ParticipantView {
	/// The stored entry.
	pub participant: StoredParticipant,
	/// The rollup key, compressed.
	pub public_key: [u8; 32],
	/// The X25519 encryption key.
	pub encryption_key: Option<[u8; 32]>,
	/// For a doctor: the hospital whose credential it holds while that hospital is a member
	/// (0 = none; a removed hospital's credentials have lapsed).
	pub live_affiliation: ParticipantId,
}

/// One grant slot of a patient.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct GrantView {
	/// The slot.
	pub slot: GrantId,
	/// The grant.
	pub grant: StoredGrant,
	/// Emergency review data, for grants opened by emergency access.
	pub emergency: Option<EmergencyGrant>,
}

/// The rollup's progress.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct RollupStatus {
	/// The open batch.
	pub open_batch: u64,
	/// Entries in the open batch.
	pub open_entries: u32,
	/// The last sealed batch.
	pub last_sealed: Option<u64>,
	/// The last proven batch.
	pub last_proven: Option<u64>,
	/// The state root after the last proven batch.
	pub proven_root: [u8; 32],
	/// The current verifying key: id, Blake2b-256 and batch size.
	pub verifying_key: Option<(u32, [u8; 32], u32)>,
	/// Sealing and rate-limit parameters.
	pub params: Option<BatchParams>,
}

/// A batch with its entries and proof.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct BatchView<AccountId> {
	/// The batch number.
	pub batch: u64,
	/// Its stages and roots.
	pub info: BatchInfo<AccountId>,
	/// Its entries in inbox order.
	pub entries: Vec<InboxEntry>,
	/// The accepted proof.
	pub proof: Option<Vec<u8>>,
}

impl<T: Config> Pallet<T> {
	/// A participant's view.
	pub fn participant_view(id: ParticipantId) -> Option<ParticipantView> {
		let participant = T::Registry::participant(id)?;
		let live_affiliation =
			StateHeader::<T>::get().live_affiliation(&Participant::from(&participant));
		Some(ParticipantView {
			live_affiliation,
			public_key: participant.compressed_key(),
			encryption_key: T::Registry::encryption_key(id),
			participant,
		})
	}

	/// A patient's grants (the non-empty slots below `SlotsUsed`).
	pub fn grants_of(patient: ParticipantId) -> Vec<GrantView> {
		(0..T::Consent::slots_used(patient))
			.filter_map(|slot| {
				T::Consent::grant(patient, slot).map(|grant| GrantView {
					slot,
					grant,
					emergency: T::Consent::emergency(patient, slot),
				})
			})
			.collect()
	}

	/// The rollup's status.
	pub fn status() -> RollupStatus {
		let open_batch = OpenBatch::<T>::get();
		RollupStatus {
			open_batch,
			open_entries: Batches::<T>::get(open_batch).map(|b| b.len).unwrap_or(0),
			last_sealed: LastSealed::<T>::get(),
			last_proven: LastProven::<T>::get(),
			proven_root: ProvenRoot::<T>::get(),
			verifying_key: CurrentKey::<T>::get()
				.and_then(|id| VerifyingKeys::<T>::get(id).map(|k| (id, k.hash, k.batch_size))),
			params: Params::<T>::get(),
		}
	}

	/// A batch with its entries and proof.
	pub fn batch_view(batch: u64) -> Option<BatchView<T::AccountId>> {
		let info = Batches::<T>::get(batch)?;
		let entries = (0..info.len).filter_map(|i| Inbox::<T>::get(batch, i)).collect();
		Some(BatchView {
			batch,
			info,
			entries,
			proof: Proofs::<T>::get(batch).map(|p| p.into_inner()),
		})
	}

	/// Where the operation (actor, nonce) landed.
	pub fn operation(actor: ParticipantId, nonce: u32) -> Option<OperationRef> {
		Operations::<T>::get(actor, nonce)
	}
}

polkadot_sdk::sp_api::decl_runtime_apis! {
	/// Queries of the EMR state and the rollup (the node's `emr_*` and `rollup_*` RPC).
	pub trait EmrApi<AccountId> where AccountId: codec::Codec {
		/// A participant.
		fn participant(id: ParticipantId) -> Option<ParticipantView>;
		/// The id of a registered rollup key (compressed).
		fn participant_id(public_key: [u8; 32]) -> Option<ParticipantId>;
		/// A patient's record-index head.
		fn index_head(patient: ParticipantId) -> Option<IndexHead>;
		/// A patient's grants (claims included).
		fn grants(patient: ParticipantId) -> Vec<GrantView>;
		/// A page of a patient's access log and the log's length.
		fn access_log(patient: ParticipantId, from: u32, count: u32) -> (u32, Vec<LogEntry>);
		/// The rollup's status.
		fn rollup_status() -> RollupStatus;
		/// This deployment's id (what signatures cover and inbox commitments start from).
		fn deployment() -> DeploymentId;
		/// A batch.
		fn rollup_batch(batch: u64) -> Option<BatchView<AccountId>>;
		/// Where an operation landed.
		fn operation(actor: ParticipantId, nonce: u32) -> Option<OperationRef>;
		/// What `submit` would say about an operation now (every rule, nothing written).
		fn check_operation(op: SignedOp) -> Result<(), RuleError>;
	}
}
