//! Witness building: from the prover's state and a batch of inbox entries to a
//! [`BatchWitness`] and the batch's [`PublicInputs`].
//!
//! For every entry the builder reads, in the order the circuit consumes them, leaf 1 (the other
//! party) with its path, then — with leaf 1's nonce already advanced when it is the actor —
//! leaf 2 (the subject) with its path and the grant slot with its path in leaf 2's consent
//! subtree. It then applies the entry with [`emr_primitives::rules::apply_entry`] to move the
//! state forward. Padding slots read the (never used) participant slot 0.

use crate::circuit::{BatchWitness, GrantWitness, LeafWitness, SlotStart, SlotWitness};
use ark_ec::AffineRepr;
use ark_ed_on_bls12_381_bandersnatch::EdwardsAffine;
use emr_primitives::{
	inbox::{self, InboxEntry, PublicInputs},
	ops::{kind, GrantId, Operation, Origin, ParticipantId},
	rules::{self, AccessOutcome, Effects, RuleError},
	schnorr::{PublicKey, Signature},
	state::{Header, RollupState},
	F,
};

/// A state the prover can open: the rules' view plus Merkle paths.
pub trait ProvableState: RollupState {
	/// The root of the participant tree.
	fn participant_root(&self) -> F;
	/// The state root: the participant root under the header
	/// ([`emr_primitives::state::Header::state_root`]).
	fn state_root(&self) -> F {
		self.header().state_root(self.participant_root())
	}
	/// Siblings of participant slot `id`, leaf level first.
	fn participant_siblings(&self, id: ParticipantId) -> Vec<F>;
	/// Siblings of grant slot `slot` of `patient`, leaf level first.
	fn grant_siblings(&self, patient: ParticipantId, slot: GrantId) -> Vec<F>;
	/// Root of `patient`'s consent subtree.
	fn consent_root_of(&self, patient: ParticipantId) -> F;
}

/// Why a batch could not be turned into a witness.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WitnessError {
	/// An entry breaks the rules (the runtime should never have accepted it).
	#[error("inbox entry {index} breaks the rules: {error:?}")]
	Rejected {
		/// Position in the batch.
		index: usize,
		/// The rule it breaks.
		error: RuleError,
	},
	/// More entries than the circuit has slots.
	#[error("the batch has {entries} entries but the circuit only {slots} slots")]
	TooManyEntries {
		/// Entries in the batch.
		entries: usize,
		/// Slots of the circuit.
		slots: usize,
	},
}

fn leaf_witness<S: ProvableState>(state: &S, id: ParticipantId) -> LeafWitness {
	let path = state.participant_siblings(id);
	match state.participant(id) {
		None => LeafWitness::empty(path),
		Some(p) => LeafWitness {
			role: p.role.code(),
			active: p.active,
			nonce: p.nonce,
			version: p.index_version,
			affiliation: p.affiliation,
			affiliation_org: p.affiliation_org,
			org: p.org,
			key: p.key.0,
			enc: p.encryption_key,
			emergency: p.emergency_field(),
			head: p.index_head,
			consent: state.consent_root_of(id),
			log: p.log,
			path,
		},
	}
}

fn grant_witness<S: ProvableState>(
	state: &S,
	patient: ParticipantId,
	slot: GrantId,
) -> GrantWitness {
	let path = state.grant_siblings(patient, slot);
	match state.grant(patient, slot) {
		None => GrantWitness { path, ..Default::default() },
		Some(g) => GrantWitness {
			grantee: g.grantee,
			permissions: g.permissions,
			purposes: g.purposes,
			scope: g.scope,
			expires_at: g.expires_at,
			flags: 1 + 2 * g.emergency as u8,
			claim_status: g.claim_status.code(),
			claim_record: g.claim_record,
			claim_amount: g.claim_amount,
			settled: g.settled,
			path,
		},
	}
}

/// True when the subject (leaf 2) of this kind is the operation's target.
fn subject_is_target(k: u8) -> bool {
	matches!(
		k,
		kind::CREDENTIAL_DOCTOR
			| kind::REVOKE_CREDENTIAL
			| kind::APPEND_RECORD
			| kind::ACCESS_RECORD
			| kind::EMERGENCY_ACCESS
			| kind::SUBMIT_CLAIM
			| kind::DECIDE_CLAIM
	)
}

/// True when the actor is leaf 1 (its nonce advances there).
fn actor_is_leaf1(k: u8) -> bool {
	subject_is_target(k) || k == kind::REVOKE_CONSENT
}

/// The witness of one entry against the current state (the state is left unchanged). The
/// access outcome is taken from `granted`. An entry whose encoding is not well formed
/// ([`rules::well_formed`]: an id or grant slot out of range, a non-canonical encoding) has no
/// witness: its error is returned.
pub fn slot_witness<S: ProvableState>(
	state: &mut S,
	entry: &InboxEntry,
	granted: bool,
) -> Result<SlotWitness, RuleError> {
	let op = &entry.op;
	let fields = rules::well_formed(op)?;
	let k = op.op.kind();
	let packed = op.op.packed();
	let user = entry.origin == Origin::User;
	let actor = op.actor;
	let target = packed.target;
	let i1 = if k == kind::GRANT_CONSENT { target } else { actor };
	let creating = matches!(k, kind::REGISTER | kind::ADMIT_MEMBER);
	// A registration or admission creates the next id (the rules refuse it beyond the tree).
	let i2 = if creating {
		state.header().participants.saturating_add(1)
	} else if subject_is_target(k) {
		target
	} else {
		actor
	};
	if (i2 as u64) >= 1u64 << emr_primitives::ops::PARTICIPANT_DEPTH {
		return Err(RuleError::IdOutOfRange);
	}
	let bump = user && actor_is_leaf1(k);

	let leaf1 = leaf_witness(state, i1);
	let saved = state.participant(i1);
	if bump {
		if let Some(mut p) = saved.clone() {
			p.nonce = p.nonce.wrapping_add(1);
			state.set_participant(i1, p);
		}
	}
	let mut leaf2 = leaf_witness(state, i2);
	// A creating operation's new key goes into the free fields of the empty leaf (the circuit
	// shares the key's hash prefix between the old and new leaf).
	if leaf2.role == 0 {
		let key = match &op.op {
			Operation::AdmitMember { public_key, .. } | Operation::Register { public_key, .. } => {
				PublicKey::from_bytes(public_key).ok()
			},
			_ => None,
		};
		if let Some(key) = key {
			leaf2.key = key.0;
		}
	}
	// The slot is below 2^GRANT_DEPTH: `well_formed` checked it above.
	let grant = grant_witness(state, i2, packed.grant);
	if bump {
		if let Some(p) = saved {
			state.set_participant(i1, p);
		}
	}

	let actor_leaf = if k == kind::GRANT_CONSENT { i2 } else { i1 };
	let joint_key = state
		.participant(actor_leaf)
		.and_then(|p| p.emergency_key)
		.map(|k| k.0)
		.unwrap_or_else(EdwardsAffine::generator);
	let (r, s) = match (entry.is_signed(), Signature::from_bytes(&op.signature)) {
		(true, Ok(sig)) => (sig.r, inbox::scalar_to_field(&sig.s)),
		_ => (EdwardsAffine::generator(), F::from(0u64)),
	};
	Ok(SlotWitness {
		fields,
		r,
		s,
		block_field: entry.block_field(),
		leaf1,
		grant,
		leaf2,
		joint_key,
		granted,
	})
}

/// A padding slot against the current state.
pub fn padding_witness<S: ProvableState>(state: &S) -> SlotWitness {
	let mut w = SlotWitness::padding_on_empty_state();
	w.leaf1 = leaf_witness(state, 0);
	w.leaf2 = w.leaf1.clone();
	w.grant = grant_witness(state, 0, 0);
	w
}

/// What a batch's witness needs of the state it starts from, besides the slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchStart {
	/// The participant tree root.
	pub participant_root: F,
	/// The header.
	pub header: Header,
	/// The deployment id's field element.
	pub deployment: F,
}

impl BatchStart {
	/// Where `state` stands now.
	pub fn of<S: ProvableState>(state: &S) -> Self {
		BatchStart {
			participant_root: state.participant_root(),
			header: state.header(),
			deployment: state.deployment().field(),
		}
	}

	/// The state root.
	pub fn root(&self) -> F {
		self.header.state_root(self.participant_root)
	}

	/// A batch witness of `slots` from here, without recorded starts (synthesized serially).
	pub fn witness(&self, batch: u64, slots: Vec<SlotWitness>) -> BatchWitness {
		BatchWitness {
			batch,
			old_root: self.root(),
			participant_root: self.participant_root,
			header: self.header,
			deployment: self.deployment,
			slots,
			starts: vec![],
		}
	}
}

fn start<S: ProvableState>(state: &S, chain: F, previous: u32) -> SlotStart {
	SlotStart {
		root: state.participant_root(),
		chain,
		block: F::from(previous),
		header: state.header(),
	}
}

/// Builds the witness of a whole batch and applies it to `state`.
pub fn build<S: ProvableState>(
	state: &mut S,
	batch: u64,
	entries: &[InboxEntry],
	batch_size: usize,
) -> Result<(BatchWitness, PublicInputs, Vec<Effects>), WitnessError> {
	if entries.len() > batch_size {
		return Err(WitnessError::TooManyEntries { entries: entries.len(), slots: batch_size });
	}
	let old_root = state.state_root();
	let participant_root = state.participant_root();
	let header = state.header();
	let deployment = state.deployment();
	let mut slots = Vec::with_capacity(batch_size);
	let mut starts = Vec::with_capacity(batch_size);
	let mut effects = Vec::with_capacity(entries.len());
	let mut previous = 0;
	let mut chain = inbox::start(&deployment);
	for (index, entry) in entries.iter().enumerate() {
		let rejected = |error| WitnessError::Rejected { index, error };
		rules::in_block_order(previous, entry.block).map_err(rejected)?;
		starts.push(start(state, chain, previous));
		previous = entry.block;
		chain = inbox::chain(chain, entry);
		let mut slot = slot_witness(state, entry, false).map_err(rejected)?;
		let fx = rules::apply_entry(state, entry).map_err(rejected)?;
		slot.granted = fx.outcome == Some(AccessOutcome::Granted);
		slots.push(slot);
		effects.push(fx);
	}
	while slots.len() < batch_size {
		starts.push(start(state, chain, previous));
		slots.push(padding_witness(state));
	}
	starts.push(start(state, chain, previous));
	let public = PublicInputs {
		old_root,
		new_root: state.state_root(),
		inbox_commitment: inbox::commitment(&deployment, entries),
		batch,
	};
	let witness = BatchWitness {
		batch,
		old_root,
		participant_root,
		header,
		deployment: deployment.field(),
		slots,
		starts,
	};
	Ok((witness, public, effects))
}
