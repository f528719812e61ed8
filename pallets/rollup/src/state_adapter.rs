//! [`ChainState`]: the rules' [`RollupState`] on the chain's storage, the one place the rollup
//! reads and writes participants and grant slots (through [`Config::Registry`] and
//! [`Config::Consent`]).

use crate::{Config, Deployment, StateHeader};
use core::marker::PhantomData;
use emr_primitives::{
	ops::{DeploymentId, GrantId, ParticipantId},
	state::{Grant, Header, Participant, RollupState},
	stored::{StoredGrant, StoredParticipant},
};
use pallet_consent::ConsentRecords;
use pallet_emr_registry::ParticipantRegistry;

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
		T::Registry::participant(id).map(|p| Participant::from(&p))
	}

	fn set_participant(&mut self, id: ParticipantId, participant: Participant) {
		T::Registry::set_participant(id, StoredParticipant::from(&participant));
	}

	fn grant(&self, patient: ParticipantId, grant: GrantId) -> Option<Grant> {
		T::Consent::grant(patient, grant).map(|g| Grant::from(&g))
	}

	fn set_grant(&mut self, patient: ParticipantId, grant: GrantId, value: Option<Grant>) {
		T::Consent::set_grant(patient, grant, value.as_ref().map(StoredGrant::from));
	}
}
