//! Operations signed with a key set's rollup key (`emr_primitives::ops::SignedOp::sign`, for a
//! chain's deployment id), and the doctor + hospital co-signature of emergency access
//! (`emr_primitives::schnorr::cosign`, two rounds run in one process that holds both key sets).

use emr_primitives::{
	ops::{DeploymentId, Operation, ParticipantId, Role, SignedOp},
	schnorr::{cosign, SignatureError},
};
use rand::{rngs::OsRng, RngCore};

use crate::keys::KeySet;

/// `op` signed by `keys` as participant `actor` with its nonce `nonce`.
pub fn sign(
	keys: &KeySet,
	actor: ParticipantId,
	nonce: u32,
	op: Operation,
	deployment: &DeploymentId,
) -> SignedOp {
	SignedOp { actor, nonce, op, signature: [0; 64] }.sign(&keys.rollup_secret(), deployment)
}

/// The registration of `keys` as `role` (a person: patient or doctor); the chain assigns the
/// participant id, so the operation names none (actor 0, nonce 0).
pub fn register(keys: &KeySet, role: Role, deployment: &DeploymentId) -> SignedOp {
	let op = Operation::Register {
		role,
		public_key: keys.public.rollup.to_bytes(),
		encryption_key: keys.public.encryption,
	};
	sign(keys, 0, 0, op, deployment)
}

/// `op` signed jointly by `doctor` (participant `actor`, nonce `nonce`) and its hospital's key
/// set: both commit to fresh nonces, then answer the session; the signature verifies under the
/// joint key the chain keeps for the credentialed doctor.
pub fn cosign(
	doctor: &KeySet,
	hospital: &KeySet,
	actor: ParticipantId,
	nonce: u32,
	op: Operation,
	deployment: &DeploymentId,
) -> Result<SignedOp, SignatureError> {
	let mut signed = SignedOp { actor, nonce, op, signature: [0; 64] };
	let msg = signed.signed_message(deployment);
	let (doctor_key, hospital_key) = (doctor.rollup_secret(), hospital.rollup_secret());
	let joint = doctor_key.public().joint(&hospital_key.public());
	let fresh = || {
		let mut r = [0u8; 32];
		OsRng.fill_bytes(&mut r);
		r
	};
	let (n1, p1) = cosign::commit(&doctor_key, &fresh(), msg);
	let (n2, p2) = cosign::commit(&hospital_key, &fresh(), msg);
	let session = cosign::Session::new(&joint, &[p1, p2], msg)?;
	let shares =
		[cosign::respond(&doctor_key, n1, &session), cosign::respond(&hospital_key, n2, &session)];
	signed.signature = cosign::combine(&session, &shares).to_bytes();
	Ok(signed)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_cosigned_operation_verifies_under_the_joint_key() {
		let doctor = KeySet::from_seeds("dr", [1; 32], [2; 32], [3; 32]);
		let hospital = KeySet::from_seeds("h", [4; 32], [5; 32], [6; 32]);
		let deployment = DeploymentId([9; 32]);
		let op = Operation::EmergencyAccess { patient: 3, reason: 7, slot: 0 };
		let signed = cosign(&doctor, &hospital, 5, 1, op, &deployment).unwrap();
		let joint = doctor.public.rollup.joint(&hospital.public.rollup);
		let sig = emr_primitives::schnorr::Signature::from_bytes(&signed.signature).unwrap();
		assert!(joint.verify(signed.signed_message(&deployment), &sig).is_ok());
		let alone = sign(&doctor, 5, 1, signed.op.clone(), &deployment);
		assert_ne!(alone.signature, signed.signature);
	}
}
