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
// A mock runtime for this crate's tests and, with `test-utils`, for tests elsewhere that drive
// the pallet with real proofs (construct_runtime's items carry no docs).
#[cfg(any(test, feature = "test-utils"))]
#[allow(missing_docs)]
pub mod mock;
#[cfg(test)]
mod tests;

pub mod extension;
#[cfg(any(test, feature = "runtime-benchmarks", feature = "test-utils"))]
pub mod fixture;
mod inbox;
mod pool;
mod proofs;
pub mod runtime_api;
mod state_adapter;
pub mod weights;

pub use extension::CheckProofSubmission;
pub use proofs::{empty_state_root, EMPTY_STATE_ROOT};
pub use state_adapter::ChainState;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use emr_primitives::{
	groth16::{BatchVerifier, VerifierError},
	inbox::{InboxEntry, PublicInputs},
	ops::{BlockNumber, DeploymentId, GrantId, Operation, Origin, ParticipantId, Role, SignedOp},
	rules::RuleError,
	state::Header,
	stored::{field_from_bytes, field_le},
};
use pallet_consent::{ConsentRecords, LogOutcome};
use pallet_emr_registry::ParticipantRegistry;
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use scale_info::TypeInfo;

// The types, constants and pool codes (see the file for why it is included, not a module).
include!("types.rs");

// The pallet macros expand to fully qualified paths (and want the supertrait spelled through
// the umbrella crate), which the workspace's `unused_qualifications` lint would flag.
// `ValidateUnsigned` is deprecated in favour of `#[pallet::authorize]` (to be removed after April
// 2027); the L2 entry point keeps it for now: it is what the pool, subxt and light clients of
// this SDK version speak for unsigned operations (see the README's design notes).
#[allow(unused_qualifications, deprecated, clippy::let_unit_value)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{dispatch::DispatchResult, pallet_prelude::*};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::SaturatedConversion,
		transaction_validity::{
			InvalidTransaction, TransactionPriority, TransactionSource, TransactionValidity,
			TransactionValidityError,
		},
	};

	/// The pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration.
	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The participant registry: the rules' participants, keys and index heads
		/// (`pallet_emr_registry` in the runtime), written only through its own functions.
		type Registry: ParticipantRegistry;
		/// The consent records: grant slots, emergency reviews and access logs
		/// (`pallet_consent` in the runtime), written only through its own functions.
		type Consent: ConsentRecords;
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

		/// Invariants:
		/// * the last proven batch is at most the last sealed one, and every batch up to the
		///   last sealed one is sealed, every one up to the last proven one proven;
		/// * each batch's commitment equals the one recomputed from its inbox entries, which
		///   are dense (`0..len`), and entry block numbers never decrease within a batch;
		/// * the open batch is the one after the last sealed batch, and not sealed;
		/// * the proven root is the new root of the last proven batch;
		/// * each verifying key's prepared form is the one its key prepares to;
		/// * the registry's and consent pallet's own invariants hold (checked by their owners,
		///   through [`Config::Registry`] and [`Config::Consent`]).
		#[cfg(any(feature = "try-runtime", feature = "test-utils", test))]
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
				let mut c = emr_primitives::inbox::start(&Deployment::<T>::get());
				let mut last = 0;
				for i in 0..info.len {
					let e = Inbox::<T>::get(batch, i).ok_or("a hole in a batch's inbox")?;
					ensure!(e.block >= last, "inbox block numbers decrease within a batch");
					last = e.block;
					c = emr_primitives::inbox::chain(c, &e);
				}
				ensure!(
					emr_primitives::stored::field_bytes(&c) == info.commitment,
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
			T::Registry::do_try_state()?;
			T::Consent::do_try_state()
		}
	}
}
