//! The store as the circuit's witness builder reads it: [`ProvableState`] over the store's
//! roots and Merkle paths.

use crate::Store;
use emr_circuit::witness::ProvableState;
use emr_primitives::{
	ops::{GrantId, ParticipantId},
	F,
};

impl ProvableState for Store {
	fn participant_root(&self) -> F {
		self.participant_root()
	}
	fn participant_siblings(&self, id: ParticipantId) -> Vec<F> {
		self.participant_path(id).siblings
	}
	fn grant_siblings(&self, patient: ParticipantId, slot: GrantId) -> Vec<F> {
		self.grant_path(patient, slot).siblings
	}
	fn consent_root_of(&self, patient: ParticipantId) -> F {
		self.consent_root(patient)
	}
}
