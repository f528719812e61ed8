//! # Rollup pallet
//!
//! ## Overview
//!
//! The one door of every EMR operation, and the proof that the consortium followed the rules.
//!
//! ```text
//!  submit (unsigned, rollup signature) ─┐
//!  submit_sponsored (a funded account) ─┼─▶ rules::apply over ChainState ─▶ registry + consent
//!  admit_member / remove_member (council)┘            │
//!                                                     ▼
//!                         InboxEntry appended to the open batch, Poseidon commitment extended
//!                                                     │ sealed by size or after SealAfter blocks
//!                                                     ▼
//!                 submit_proof (prover set): Groth16 over (old root, new root, commitment, batch)
//! ```
//!
//! Every L2 operation is checked and applied at once with `emr_primitives::rules::apply` over
//! [`ChainState`], an adapter on the registry's and consent pallet's storage: no rule is written
//! a second time here. An applied operation becomes an [`InboxEntry`](emr_primitives::inbox::InboxEntry)
//! of the open batch; the batch's inbox commitment is extended with `emr_primitives::inbox::chain`,
//! the function the circuit uses. Access attempts are applied whatever their outcome and logged
//! GRANTED or DENIED.
//!
//! A batch is sealed when it holds as many entries as the current verifying key's circuit has
//! slots, or [`BatchParams::seal_after`] blocks after its first entry, whichever comes first. A
//! member of the prover set proves sealed batches in order with [`Call::submit_proof`]; the proof
//! is verified on chain with the runtime's [`Config::Verifier`] (Groth16 over BLS12-381 through
//! the node's host functions) against the public inputs (last proven root, new root, inbox
//! commitment, batch number), and the new root is recorded.
//!
//! ## Dispatchables
//!
//! * [`Call::submit`]: an L2 operation as an unsigned extrinsic; origin none. The transaction pool
//!   checks it natively first ([`ValidateUnsigned`]): the whole operation when its nonce is the
//!   actor's next, the signature alone for an operation queued behind others of the same actor
//!   (`provides`/`requires` on (actor, nonce), at most [`BatchParams::max_queued_per_actor`]
//!   ahead), and at most [`BatchParams::max_ops_per_block`] L2 operations per block.
//!   ## Complexity: O(1) (two participants, one grant slot, one log entry, one inbox entry).
//! * [`Call::submit_sponsored`]: the same, paid for by any signed account. ## Complexity: O(1).
//! * [`Call::admit_member`], [`Call::remove_member`]: organisations admitted or removed by
//!   [`Config::GovernanceOrigin`]; they enter the inbox with the governance origin, an admission
//!   with the admitted key's signature of it (proof of possession).
//!   ## Complexity: O(1).
//! * [`Call::submit_proof`]: a batch proof from a member of the prover set. A proof of a batch
//!   that is not the next one to prove is refused in the pool by [`CheckProofSubmission`], before
//!   it costs a block. ## Complexity: O(1) (one Groth16 verification of four public inputs).
//! * [`Call::set_verifying_key`], [`Call::set_batch_params`], [`Call::add_prover`],
//!   [`Call::remove_prover`]: governance. ## Complexity: O(1).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub mod extension;
#[cfg(any(test, feature = "runtime-benchmarks"))]
pub mod fixture;
pub mod runtime_api;
pub mod weights;

pub use extension::CheckProofSubmission;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use emr_primitives::{
	groth16::{BatchVerifier, VerifierError},
	inbox::{self, InboxEntry, PublicInputs},
	ops::{BlockNumber, DeploymentId, GrantId, Operation, Origin, ParticipantId, Role, SignedOp},
	rules::{self, AccessOutcome, Effects, RuleError},
	state::{Grant, Header, Participant, RollupState},
	stored::{field_bytes, field_from_bytes, field_le, StoredGrant, StoredParticipant},
	F,
};
use pallet_consent::{EmergencyGrant, LogEntry, LogOutcome};
use pallet_emr_registry::IndexHead;
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use scale_info::TypeInfo;

/// Batch sealing and rate limits (governance parameters).
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchParams {
	/// A batch with entries is sealed this many blocks after its first entry at the latest.
	pub seal_after: BlockNumber,
	/// L2 operations (unsigned and sponsored) included per block at most.
	pub max_ops_per_block: u32,
	/// How far ahead of its next nonce one actor may queue operations in the pool.
	pub max_queued_per_actor: u32,
}

/// A registered verifying key.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct VerifyingKeyInfo {
	/// The key (arkworks compressed canonical encoding).
	pub key: frame_support::BoundedVec<u8, frame_support::traits::ConstU32<MAX_VK_LEN>>,
	/// The key uncompressed, as checked at registration (`BatchVerifier::prepare_vk`): what
	/// `submit_proof` verifies with, without decompressing or checking the key's points again.
	pub prepared:
		frame_support::BoundedVec<u8, frame_support::traits::ConstU32<MAX_PREPARED_VK_LEN>>,
	/// Blake2b-256 of the key (the prover's fingerprint).
	pub hash: [u8; 32],
	/// Slots of the circuit: a batch is sealed when it holds this many entries.
	pub batch_size: u32,
	/// The block in which it was registered.
	pub registered_at: BlockNumber,
}

/// The longest verifying key accepted (bytes).
pub const MAX_VK_LEN: u32 = 4096;
/// The longest prepared (uncompressed) verifying key kept.
pub const MAX_PREPARED_VK_LEN: u32 = 2 * MAX_VK_LEN;
/// The longest proof accepted (bytes; a compressed BLS12-381 Groth16 proof is 192).
pub const MAX_PROOF_LEN: u32 = 512;
/// The largest batch size (circuit slots) a verifying key may declare.
pub const MAX_BATCH_SIZE: u32 = 4096;

/// A batch of the inbox.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct BatchInfo<AccountId> {
	/// Entries so far.
	pub len: u32,
	/// Inbox commitment over the entries (field bytes).
	pub commitment: [u8; 32],
	/// The verifying key (id) that proves it: the current one when the batch opened.
	pub vk: u32,
	/// Block of the first entry.
	pub opened_at: BlockNumber,
	/// Block of the last entry.
	pub last_block: BlockNumber,
	/// Block in which it was sealed.
	pub sealed_at: Option<BlockNumber>,
	/// Block in which its proof was accepted.
	pub proven_at: Option<BlockNumber>,
	/// State root before the batch (once proven).
	pub old_root: Option<[u8; 32]>,
	/// State root after the batch (once proven).
	pub new_root: Option<[u8; 32]>,
	/// Who proved it.
	pub prover: Option<AccountId>,
}

/// Where an operation landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct OperationRef {
	/// Batch.
	pub batch: u64,
	/// Index in the batch.
	pub index: u32,
	/// The block that applied it.
	pub block: BlockNumber,
}

/// A rule refusal as a pallet error (one byte: the [`RuleError`] variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct RuleFailure(pub RuleError);

impl frame_support::traits::PalletError for RuleFailure {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// A verifying-key refusal as a pallet error (one byte: the [`VerifierError`] variant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct KeyFailure(pub VerifierError);

impl frame_support::traits::PalletError for KeyFailure {
	const MAX_ENCODED_SIZE: usize = 1;
}

/// The transaction pool's custom refusal code for an actor that queued too many operations.
pub const TOO_MANY_QUEUED: u8 = 250;

/// The pool's custom code of a rule refusal: the [`RuleError`] variant's index.
pub fn rule_code(e: RuleError) -> u8 {
	e.encode()[0]
}

/// The rules' state on the pallets' storage: participants in the registry, grant slots in the
/// consent pallet.
pub struct ChainState<T>(PhantomData<T>);

impl<T> Default for ChainState<T> {
	fn default() -> Self {
		ChainState(PhantomData)
	}
}

impl<T: Config> RollupState for ChainState<T> {
	fn deployment(&self) -> DeploymentId {
		Deployment::<T>::get()
	}

	fn header(&self) -> Header {
		StateHeader::<T>::get()
	}

	fn set_header(&mut self, header: Header) {
		StateHeader::<T>::put(header);
	}

	fn participant(&self, id: ParticipantId) -> Option<Participant> {
		pallet_emr_registry::Participants::<T>::get(id).map(|p| Participant::from(&p))
	}

	fn set_participant(&mut self, id: ParticipantId, participant: Participant) {
		pallet_emr_registry::Pallet::<T>::set_participant(
			id,
			StoredParticipant::from(&participant),
		);
	}

	fn grant(&self, patient: ParticipantId, grant: GrantId) -> Option<Grant> {
		pallet_consent::Grants::<T>::get(patient, grant).map(|g| Grant::from(&g))
	}

	fn set_grant(&mut self, patient: ParticipantId, grant: GrantId, value: Option<Grant>) {
		pallet_consent::Pallet::<T>::set_grant(
			patient,
			grant,
			value.as_ref().map(StoredGrant::from),
		);
	}
}

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

// The pallet macros expand to fully qualified paths (and want the supertrait spelled through
// the umbrella crate), which the workspace's `unused_qualifications` lint would flag.
// `ValidateUnsigned` is deprecated in favour of `#[pallet::authorize]` (to be removed after April
// 2027); the L2 entry point keeps it for now: it is what the pool, subxt and light clients of
// this SDK version speak for unsigned operations (see the README's design notes).
#[allow(unused_qualifications, deprecated, clippy::let_unit_value)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		dispatch::DispatchResult,
		pallet_prelude::*,
		storage::{with_transaction, TransactionOutcome},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::SaturatedConversion,
		transaction_validity::{
			InvalidTransaction, TransactionPriority, TransactionSource, TransactionValidity,
			TransactionValidityError, ValidTransaction,
		},
	};

	/// The pallet.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration.
	#[pallet::config]
	pub trait Config:
		polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_emr_registry::Config
		+ pallet_consent::Config
	{
		/// Who admits and removes members, sets keys, parameters and provers (the council).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Groth16 verification of batch proofs (host-call accelerated in the runtime).
		type Verifier: BatchVerifier;
		/// The most accounts in the prover set.
		#[pallet::constant]
		type MaxProvers: Get<u32>;
		/// Priority of an L2 operation in the transaction pool.
		#[pallet::constant]
		type OperationPriority: Get<TransactionPriority>;
		/// Weights of the calls.
		type WeightInfo: WeightInfo;
	}

	/// Sealing and rate-limit parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, BatchParams, OptionQuery>;

	/// This deployment's id (set at genesis, never changed): every operation's signature covers
	/// it and every batch's inbox commitment starts from it, so operations and proofs of one
	/// deployment are refused by every other.
	#[pallet::storage]
	pub type Deployment<T: Config> = StorageValue<_, DeploymentId, ValueQuery>;

	/// The rollup state's header: the active organisations (hospitals) and the next
	/// organisation index. A doctor's credential holds while its hospital's bit is set.
	#[pallet::storage]
	pub type StateHeader<T: Config> = StorageValue<_, Header, ValueQuery>;

	/// Registered verifying keys by id (kept: a batch is proven with the key it opened under).
	#[pallet::storage]
	pub type VerifyingKeys<T: Config> =
		StorageMap<_, Twox64Concat, u32, VerifyingKeyInfo, OptionQuery>;

	/// The id of the current verifying key (absent before the first registration).
	#[pallet::storage]
	pub type CurrentKey<T: Config> = StorageValue<_, u32, OptionQuery>;

	/// The prover set.
	#[pallet::storage]
	pub type Provers<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxProvers>, ValueQuery>;

	/// The open batch (its number; its info exists once it has an entry).
	#[pallet::storage]
	pub type OpenBatch<T: Config> = StorageValue<_, u64, ValueQuery>;

	/// Batches by number.
	#[pallet::storage]
	pub type Batches<T: Config> =
		StorageMap<_, Twox64Concat, u64, BatchInfo<T::AccountId>, OptionQuery>;

	/// Inbox entries by (batch, index).
	#[pallet::storage]
	pub type Inbox<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u64, Twox64Concat, u32, InboxEntry, OptionQuery>;

	/// Accepted proofs by batch.
	#[pallet::storage]
	pub type Proofs<T: Config> =
		StorageMap<_, Twox64Concat, u64, BoundedVec<u8, ConstU32<MAX_PROOF_LEN>>, OptionQuery>;

	/// The last sealed batch.
	#[pallet::storage]
	pub type LastSealed<T: Config> = StorageValue<_, u64, OptionQuery>;

	/// The last proven batch.
	#[pallet::storage]
	pub type LastProven<T: Config> = StorageValue<_, u64, OptionQuery>;

	/// The state root after the last proven batch (the empty state's root before any).
	#[pallet::storage]
	pub type ProvenRoot<T: Config> = StorageValue<_, [u8; 32], ValueQuery, EmptyRoot>;

	/// Default of [`ProvenRoot`].
	#[pallet::type_value]
	pub fn EmptyRoot() -> [u8; 32] {
		EMPTY_STATE_ROOT
	}

	/// Where each user operation landed, by (actor, nonce): a registration under the id it was
	/// given, with nonce 0.
	#[pallet::storage]
	pub type Operations<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ParticipantId,
		Twox64Concat,
		u32,
		OperationRef,
		OptionQuery,
	>;

	/// L2 operations applied in the current block: (block, count).
	#[pallet::storage]
	pub type BlockOperations<T: Config> = StorageValue<_, (BlockNumber, u32), ValueQuery>;

	/// Genesis: parameters, the verifying key, provers and founding members.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The deployment id (32 bytes; `DeploymentId::named` of the preset for the development
		/// chains). Every chain specification sets its own: the all-zero default is accepted only
		/// by the inert default genesis (no parameters, verifying key or members); with any of
		/// them the genesis build refuses it.
		pub deployment: [u8; 32],
		/// Sealing and rate-limit parameters.
		pub params: Option<BatchParams>,
		/// A verifying key (bytes) and its batch size.
		pub verifying_key: Option<(Vec<u8>, u32)>,
		/// The prover set.
		pub provers: Vec<T::AccountId>,
		/// Founding members admitted at genesis (role code, rollup key, X25519 key, the rollup
		/// key's 64-byte signature of its own admission on this deployment: its proof of
		/// possession), entering batch 0 as governance entries.
		pub members: Vec<GenesisMember>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The all-zero id is left to the inert default genesis (no parameters, key or
			// members): a chain that can take operations has an id of its own.
			assert!(
				self.deployment != [0; 32]
					|| (self.params.is_none()
						&& self.verifying_key.is_none()
						&& self.members.is_empty()),
				"a genesis with batch parameters, a verifying key or members needs a deployment \
				 id: the all-zero id is only the inert default genesis's"
			);
			Deployment::<T>::put(DeploymentId(self.deployment));
			if let Some(p) = self.params {
				assert!(Pallet::<T>::params_valid(&p), "genesis batch parameters out of range");
				Params::<T>::put(p);
			}
			if let Some((key, batch_size)) = &self.verifying_key {
				Pallet::<T>::register_key(key.clone(), *batch_size)
					.expect("genesis verifying key is valid");
			}
			let provers: BoundedVec<_, _> =
				self.provers.clone().try_into().expect("genesis provers fit MaxProvers");
			Provers::<T>::put(provers);
			for (role, key, enc, signature) in &self.members {
				let role = Role::from_code(*role).expect("genesis member role code is 1..=6");
				let signature: [u8; 64] = signature
					.as_slice()
					.try_into()
					.expect("a genesis member's proof of possession is 64 bytes");
				let op = Pallet::<T>::admission(
					Operation::AdmitMember { role, public_key: *key, encryption_key: *enc },
					signature,
				);
				Pallet::<T>::apply(op, Origin::Governance).expect("genesis member is admitted");
			}
		}
	}

	/// Events.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An L2 operation was applied and entered the inbox.
		OperationApplied {
			/// Its batch.
			batch: u64,
			/// Its index in the batch.
			index: u32,
			/// The actor (for a registration or an admission: the id it was given).
			actor: ParticipantId,
			/// The actor's nonce.
			nonce: u32,
			/// The operation kind.
			kind: u8,
			/// The participant whose data changed.
			subject: ParticipantId,
			/// For access attempts: GRANTED or DENIED.
			outcome: Option<LogOutcome>,
		},
		/// Governance admitted an organisation.
		MemberAdmitted {
			/// Its participant id.
			id: ParticipantId,
			/// Its role.
			role: Role,
		},
		/// Governance removed a participant.
		MemberRemoved {
			/// The participant.
			id: ParticipantId,
		},
		/// A doctor and its hospital opened emergency access (the patient is notified by this
		/// event; the grant is flagged for review).
		EmergencyAccessOpened {
			/// The patient.
			patient: ParticipantId,
			/// The doctor.
			doctor: ParticipantId,
			/// The grant slot.
			grant: GrantId,
			/// The reason code.
			reason: u16,
		},
		/// A batch was sealed.
		BatchSealed {
			/// The batch.
			batch: u64,
			/// Its entries.
			entries: u32,
			/// Its inbox commitment.
			commitment: [u8; 32],
		},
		/// A batch's proof verified and its root was recorded.
		BatchProven {
			/// The batch.
			batch: u64,
			/// The new state root.
			new_root: [u8; 32],
			/// Who proved it.
			prover: T::AccountId,
		},
		/// A verifying key was registered and became current.
		VerifyingKeySet {
			/// Its id.
			id: u32,
			/// Its Blake2b-256.
			hash: [u8; 32],
			/// Its batch size.
			batch_size: u32,
		},
		/// Batch parameters changed.
		BatchParamsSet {
			/// The new parameters.
			params: BatchParams,
		},
		/// An account joined the prover set.
		ProverAdded {
			/// The account.
			who: T::AccountId,
		},
		/// An account left the prover set.
		ProverRemoved {
			/// The account.
			who: T::AccountId,
		},
	}

	/// Errors.
	#[pallet::error]
	pub enum Error<T> {
		/// The rules refused the operation (which rule: the inner [`RuleError`]).
		Refused(RuleFailure),
		/// The block already holds the most L2 operations allowed.
		BlockFull,
		/// No verifying key is registered yet.
		NoVerifyingKey,
		/// The verifying key was refused (why: the inner [`VerifierError`]).
		InvalidVerifyingKey(KeyFailure),
		/// The verifying key is longer than [`MAX_VK_LEN`].
		VerifyingKeyTooLong,
		/// The batch size is zero or above [`MAX_BATCH_SIZE`].
		InvalidBatchSize,
		/// Batch parameters are zero where they must not be.
		InvalidBatchParams,
		/// The sender is not in the prover set.
		NotAProver,
		/// The account is already in the prover set.
		AlreadyAProver,
		/// The prover set is full.
		TooManyProvers,
		/// No such batch.
		UnknownBatch,
		/// The batch is still open.
		BatchNotSealed,
		/// The batch is already proven.
		BatchAlreadyProven,
		/// Batches are proven in order: this is not the next one.
		BatchOutOfOrder,
		/// The proof bytes do not decode (a point off the curve or outside its subgroup).
		ProofMalformed,
		/// The proof does not verify for these public inputs.
		ProofRejected,
		/// The new root is not a canonical field element.
		RootNotCanonical,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			let now: BlockNumber = n.saturated_into();
			let open = OpenBatch::<T>::get();
			let mut weight = T::DbWeight::get().reads(3);
			if let (Some(info), Some(p)) = (Batches::<T>::get(open), Params::<T>::get()) {
				if info.len > 0 && now >= info.opened_at.saturating_add(p.seal_after) {
					Self::seal(open, info, now);
					weight.saturating_accrue(T::DbWeight::get().writes(3));
				}
			}
			weight
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Applies an L2 operation signed with its actor's rollup key (no account, no fee).
		#[pallet::call_index(0)]
		#[pallet::weight(Pallet::<T>::submit_weight())]
		pub fn submit(origin: OriginFor<T>, op: SignedOp) -> DispatchResult {
			ensure_none(origin)?;
			Self::count_operation()?;
			Self::apply(op, Origin::User).map(|_| ())
		}

		/// Applies an L2 operation on behalf of its actor; the signed sender pays the fee.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::submit_weight())]
		pub fn submit_sponsored(origin: OriginFor<T>, op: SignedOp) -> DispatchResult {
			ensure_signed(origin)?;
			Self::count_operation()?;
			Self::apply(op, Origin::User).map(|_| ())
		}

		/// Admits an organisation (hospital, insurer, researcher or auditor).
		/// `proof_of_possession` is the organisation's signature, with the admitted key, of its
		/// own admission on this deployment (actor 0, nonce 0; the organisation makes
		/// it with `emr_primitives::testing::admission` or its client before the motion).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::admit_member())]
		pub fn admit_member(
			origin: OriginFor<T>,
			role: Role,
			public_key: [u8; 32],
			encryption_key: [u8; 32],
			proof_of_possession: [u8; 64],
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let op = Self::admission(
				Operation::AdmitMember { role, public_key, encryption_key },
				proof_of_possession,
			);
			Self::apply(op, Origin::Governance).map(|_| ())
		}

		/// Removes a participant (it can no longer act).
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove_member())]
		pub fn remove_member(origin: OriginFor<T>, participant: ParticipantId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let op = SignedOp {
				actor: participant,
				nonce: 0,
				op: Operation::RemoveMember,
				signature: [0; 64],
			};
			Self::apply(op, Origin::Governance).map(|_| ())
		}

		/// Verifies the proof of the next sealed batch and records its new state root.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::submit_proof())]
		pub fn submit_proof(
			origin: OriginFor<T>,
			batch: u64,
			new_root: [u8; 32],
			proof: BoundedVec<u8, ConstU32<MAX_PROOF_LEN>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(Provers::<T>::get().contains(&who), Error::<T>::NotAProver);
			let mut info = Self::provable(batch)?;
			let new = field_from_bytes(&new_root).ok_or(Error::<T>::RootNotCanonical)?;
			let vk = VerifyingKeys::<T>::get(info.vk).ok_or(Error::<T>::NoVerifyingKey)?;
			let old_root = ProvenRoot::<T>::get();
			let public = PublicInputs {
				old_root: field_from_bytes(&old_root).ok_or(Error::<T>::RootNotCanonical)?,
				new_root: new,
				inbox_commitment: field_le(&info.commitment),
				batch,
			};
			let ok = T::Verifier::verify_prepared(&vk.prepared, &public, &proof)
				.map_err(|_| Error::<T>::ProofMalformed)?;
			ensure!(ok, Error::<T>::ProofRejected);
			info.proven_at = Some(Self::now());
			info.old_root = Some(old_root);
			info.new_root = Some(new_root);
			info.prover = Some(who.clone());
			Batches::<T>::insert(batch, info);
			Proofs::<T>::insert(batch, proof);
			ProvenRoot::<T>::put(new_root);
			LastProven::<T>::put(batch);
			Self::deposit_event(Event::BatchProven { batch, new_root, prover: who });
			Ok(())
		}

		/// Registers a verifying key for circuits of `batch_size` slots; it becomes current and
		/// the open batch, if it has entries, is sealed (it was opened under the previous key).
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_verifying_key())]
		pub fn set_verifying_key(
			origin: OriginFor<T>,
			key: Vec<u8>,
			batch_size: u32,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let open = OpenBatch::<T>::get();
			if let Some(info) = Batches::<T>::get(open) {
				if info.len > 0 {
					Self::seal(open, info, Self::now());
				}
			}
			Self::register_key(key, batch_size)
		}

		/// Sets sealing and rate-limit parameters.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_batch_params())]
		pub fn set_batch_params(origin: OriginFor<T>, params: BatchParams) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(Self::params_valid(&params), Error::<T>::InvalidBatchParams);
			Params::<T>::put(params);
			Self::deposit_event(Event::BatchParamsSet { params });
			Ok(())
		}

		/// Adds an account to the prover set.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::add_prover())]
		pub fn add_prover(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Provers::<T>::try_mutate(|set| {
				ensure!(!set.contains(&who), Error::<T>::AlreadyAProver);
				set.try_push(who.clone()).map_err(|_| Error::<T>::TooManyProvers)
			})?;
			Self::deposit_event(Event::ProverAdded { who });
			Ok(())
		}

		/// Removes an account from the prover set.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::remove_prover())]
		pub fn remove_prover(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Provers::<T>::try_mutate(|set| {
				let i = set.iter().position(|a| a == &who).ok_or(Error::<T>::NotAProver)?;
				set.remove(i);
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ProverRemoved { who });
			Ok(())
		}
	}

	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		fn validate_unsigned(_source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			match call {
				Call::submit { op } => Self::validate_operation(op, false),
				_ => InvalidTransaction::Call.into(),
			}
		}

		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			match call {
				Call::submit { op } => {
					if Self::block_full() {
						return Err(InvalidTransaction::ExhaustsResources.into());
					}
					Self::validate_operation(op, true).map(|_| ())
				},
				_ => Err(InvalidTransaction::Call.into()),
			}
		}
	}

	impl<T: Config> Pallet<T> {
		/// The weight charged for one L2 operation: the larger of the two measured worst cases
		/// (co-signed emergency access, and an ordinary grant into an expired emergency grant's
		/// slot), component by component.
		pub fn submit_weight() -> Weight {
			T::WeightInfo::submit().max(T::WeightInfo::submit_grant_over_emergency())
		}

		/// The current block number.
		pub fn now() -> BlockNumber {
			frame_system::Pallet::<T>::block_number().saturated_into()
		}

		/// Pool validity of an L2 operation. The operation at the actor's next nonce is applied
		/// in a storage layer that is rolled back (every rule checked natively); one queued
		/// behind it has its signature checked ([`rules::authenticate`]). In a block
		/// (`in_block`), only the next nonce is valid.
		pub fn validate_operation(op: &SignedOp, in_block: bool) -> TransactionValidity {
			let params = Params::<T>::get().ok_or(InvalidTransaction::Call)?;
			let next = match pallet_emr_registry::Participants::<T>::get(op.actor) {
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

		fn block_full() -> bool {
			let (block, count) = BlockOperations::<T>::get();
			let max = Params::<T>::get().map(|p| p.max_ops_per_block).unwrap_or(0);
			block == Self::now() && count >= max
		}

		fn count_operation() -> DispatchResult {
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

		/// The governance entry of an admission (`op` an [`Operation::AdmitMember`]): it names
		/// no actor (the rules assign the next id), its nonce is 0, its signature the admitted
		/// key's proof of possession (checked by the rules when it is applied).
		pub fn admission(op: Operation, signature: [u8; 64]) -> SignedOp {
			SignedOp { actor: 0, nonce: 0, op, signature }
		}

		/// A registration or admission of a key the registry already holds is refused
		/// ([`RuleError::AlreadyRegistered`]): the rules assign ids in order and cannot see other
		/// participants' keys. (Keys are compared as the canonical compressed bytes the rules
		/// accept.)
		pub fn fresh_key(op: &SignedOp) -> Result<(), RuleError> {
			match &op.op {
				Operation::Register { public_key, .. }
				| Operation::AdmitMember { public_key, .. }
					if pallet_emr_registry::KeyIds::<T>::contains_key(public_key) =>
				{
					Err(RuleError::AlreadyRegistered)
				},
				_ => Ok(()),
			}
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
					Err(e) => TransactionOutcome::Rollback(Err(Error::<T>::Refused(RuleFailure(
						e,
					))
					.into())),
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
					pallet_emr_registry::EncryptionKeys::<T>::insert(fx.subject, encryption_key);
					pallet_emr_registry::KeyIds::<T>::insert(public_key, fx.subject);
					Self::deposit_event(Event::MemberAdmitted { id: fx.subject, role: *role });
				},
				Operation::Register { encryption_key, public_key, .. } => {
					pallet_emr_registry::EncryptionKeys::<T>::insert(fx.subject, encryption_key);
					pallet_emr_registry::KeyIds::<T>::insert(public_key, fx.subject);
				},
				Operation::RemoveMember => {
					Self::deposit_event(Event::MemberRemoved { id: op.actor });
				},
				Operation::AppendRecord { index_head, .. } => {
					if let Some(p) = pallet_emr_registry::Participants::<T>::get(fx.subject) {
						pallet_emr_registry::IndexHeads::<T>::insert(
							fx.subject,
							IndexHead {
								cid: index_head.clone(),
								version: p.index_version,
								author: op.actor,
								block: entry.block,
							},
						);
					}
				},
				Operation::EmergencyAccess { reason, .. } => {
					if let (Some(grant), Some(d)) =
						(fx.grant, pallet_emr_registry::Participants::<T>::get(op.actor))
					{
						pallet_consent::EmergencyGrants::<T>::insert(
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
				pallet_consent::Pallet::<T>::append_log(
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

		fn seal(batch: u64, mut info: BatchInfo<T::AccountId>, now: BlockNumber) {
			info.sealed_at = Some(now);
			let (entries, commitment) = (info.len, info.commitment);
			Batches::<T>::insert(batch, info);
			LastSealed::<T>::put(batch);
			OpenBatch::<T>::put(batch.saturating_add(1));
			Self::deposit_event(Event::BatchSealed { batch, entries, commitment });
		}

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

		pub(crate) fn params_valid(p: &BatchParams) -> bool {
			p.seal_after > 0 && p.max_ops_per_block > 0
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

		/// Invariants:
		/// * the last proven batch is at most the last sealed one, and every batch up to the
		///   last sealed one is sealed, every one up to the last proven one proven;
		/// * each batch's commitment equals the one recomputed from its inbox entries, which
		///   are dense (`0..len`), and entry block numbers never decrease within a batch;
		/// * the open batch is the one after the last sealed batch, and not sealed;
		/// * the proven root is the new root of the last proven batch;
		/// * each verifying key's prepared form is the one its key prepares to;
		/// * the registry's and consent pallet's own invariants hold.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let sealed = LastSealed::<T>::get();
			let proven = LastProven::<T>::get();
			if let Some(p) = proven {
				ensure!(sealed.is_some_and(|s| p <= s), "a batch is proven before it is sealed");
				let info = Batches::<T>::get(p).ok_or("the last proven batch is missing")?;
				ensure!(
					info.new_root == Some(ProvenRoot::<T>::get()),
					"the proven root is not the last proven batch's new root"
				);
			}
			let open = OpenBatch::<T>::get();
			ensure!(
				open == sealed.map(|s| s + 1).unwrap_or(0),
				"the open batch does not follow the last sealed one"
			);
			for (batch, info) in Batches::<T>::iter() {
				ensure!(
					(batch < open) == info.sealed_at.is_some(),
					"a batch before the open one is not sealed, or the open one is"
				);
				ensure!(
					proven.is_some_and(|p| batch <= p) == info.proven_at.is_some(),
					"proven flags disagree with the last proven batch"
				);
				let mut c = inbox::start(&Deployment::<T>::get());
				let mut last = 0;
				for i in 0..info.len {
					let e = Inbox::<T>::get(batch, i).ok_or("a hole in a batch's inbox")?;
					ensure!(e.block >= last, "inbox block numbers decrease within a batch");
					last = e.block;
					c = inbox::chain(c, &e);
				}
				ensure!(
					field_bytes(&c) == info.commitment,
					"a batch commitment differs from its entries'"
				);
				ensure!(
					Inbox::<T>::iter_prefix(batch).count() as u32 == info.len,
					"inbox entries beyond the batch's length"
				);
			}
			for (_, vk) in VerifyingKeys::<T>::iter() {
				ensure!(
					T::Verifier::prepare_vk(&vk.key).ok().as_deref() == Some(&vk.prepared[..]),
					"a prepared verifying key differs from its key's"
				);
			}
			pallet_emr_registry::Pallet::<T>::do_try_state()?;
			pallet_consent::Pallet::<T>::do_try_state()
		}
	}
}

/// A founding member in the genesis config: (role code, rollup key, X25519 key, the rollup key's
/// 64-byte signature of its own admission on the deployment: its proof of possession).
pub type GenesisMember = (u8, [u8; 32], [u8; 32], Vec<u8>);
