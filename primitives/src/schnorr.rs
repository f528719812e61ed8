//! Rollup signatures: Schnorr on Bandersnatch (twisted Edwards form) with a Poseidon challenge.
//!
//! * Keys: a secret scalar `a` of Bandersnatch's prime-order subgroup (order `r`, 253 bits) and
//!   the public point `A = a·G` with arkworks' generator `G`. [`SecretKey::from_seed`] derives `a`
//!   from 32 seed bytes as `Blake2b-512("emr-chain/rollup-key/v1" ‖ seed) mod r`.
//! * Signing a [`Message`]: a body `m ∈ F` (an operation's Poseidon hash) within a context
//!   `d ∈ F` (the deployment id, [`crate::ops::DeploymentId::field`]): deterministic nonce
//!   `k = Blake2b-512("emr-chain/rollup-nonce/v2" ‖ a ‖ m ‖ d) mod r`, `R = k·G`,
//!   `c = Poseidon(Challenge, [R.x, R.y, A.x, A.y, m, d])`, `s = k + c·a mod r`; the signature
//!   is `(R, s)`. A signature in one context verifies in no other, so an operation signed for
//!   one deployment is refused by every other. (Six inputs cost the same three permutations as
//!   five: the sponge absorbs two per permutation.)
//! * Verification: `s·G = R + c·A`, where `c` (an element of the BLS12-381 scalar field, 255
//!   bits) multiplies `A` as the integer it represents. `A` lies in the prime-order subgroup, so
//!   this equals multiplication by `c mod r`; the circuit uses the same 255 bits.
//! * Encodings (32 + 64 bytes): points in arkworks' compressed form (the y coordinate and the sign
//!   of x); `s` little-endian. Decoding refuses points off the curve, public keys outside the
//!   prime-order subgroup or equal to the identity, and a non-canonical `s ≥ r` — each with its
//!   own [`SignatureError`].
//! * Co-signatures ([`cosign`]): two parties with keys `a₁`, `a₂` produce one signature under the
//!   joint key `A₁ + A₂` in two rounds with MuSig2-style nonces (exchange two nonce points each,
//!   then `sᵢ = k₁ᵢ + b·k₂ᵢ + c·aᵢ`, `s = s₁ + s₂`), so concurrent sessions cannot be combined
//!   into a forgery. The rules use it for emergency access (doctor + hospital). Rogue keys are
//!   excluded because the hospital pins the joint key when it credentials the doctor.

use crate::{
	poseidon::{self, Domain},
	F,
};
use ark_ec::{twisted_edwards::TECurveConfig, AffineRepr, CurveGroup};
use ark_ed_on_bls12_381_bandersnatch::{BandersnatchConfig, EdwardsAffine, EdwardsProjective, Fr};
use ark_ff::{BigInteger, PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use blake2::{Blake2b512, Digest};

/// What a signature covers: the message `body` within a `context` (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
	/// The message itself (for operations: [`crate::ops::SignedOp::message`]).
	pub body: F,
	/// The context (for operations: the deployment id's field element).
	pub context: F,
}

impl Message {
	/// `body` within `context`.
	pub fn new(context: F, body: F) -> Self {
		Self { body, context }
	}

	fn bytes(&self) -> [u8; 64] {
		let mut out = [0u8; 64];
		out[..32].copy_from_slice(&self.body.into_bigint().to_bytes_le());
		out[32..].copy_from_slice(&self.context.into_bigint().to_bytes_le());
		out
	}
}

/// Why a key or signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
	/// The bytes are not the compressed encoding of a point on Bandersnatch.
	PointNotOnCurve,
	/// The public key is not in the prime-order subgroup (or is the identity).
	KeyNotInSubgroup,
	/// The scalar `s` is not reduced modulo the subgroup order.
	NonCanonicalScalar,
	/// The signature does not verify for this key and message.
	Invalid,
}

/// A rollup secret key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub(crate) Fr);

/// A rollup public key: a point of the prime-order subgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(pub EdwardsAffine);

/// A Schnorr signature `(R, s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
	/// The commitment point.
	pub r: EdwardsAffine,
	/// The response scalar.
	pub s: Fr,
}

fn wide_scalar(parts: &[&[u8]]) -> Fr {
	let mut h = Blake2b512::new();
	for p in parts {
		h.update(p);
	}
	Fr::from_le_bytes_mod_order(&h.finalize())
}

fn scalar_bytes(s: &Fr) -> [u8; 32] {
	let mut out = [0u8; 32];
	out.copy_from_slice(&s.into_bigint().to_bytes_le()[..32]);
	out
}

fn point_bytes(p: &EdwardsAffine) -> [u8; 32] {
	let mut out = [0u8; 32];
	p.serialize_compressed(&mut out[..]).expect("a point encodes in 32 bytes");
	out
}

/// The challenge `c` as a field element (what the circuit decomposes into bits).
pub fn challenge(r: &EdwardsAffine, a: &EdwardsAffine, msg: &Message) -> F {
	poseidon::hash(Domain::Challenge, &[r.x, r.y, a.x, a.y, msg.body, msg.context])
}

/// Interprets a base-field element as a scalar (the integer it represents, reduced mod `r`).
pub fn field_to_scalar(c: F) -> Fr {
	Fr::from_le_bytes_mod_order(&c.into_bigint().to_bytes_le())
}

impl SecretKey {
	/// Derives a key from 32 seed bytes.
	pub fn from_seed(seed: &[u8; 32]) -> Self {
		let a = wide_scalar(&[b"emr-chain/rollup-key/v1", seed]);
		// A zero scalar has probability 2^-253; map it to one rather than fail.
		Self(if a.is_zero() { Fr::from(1u64) } else { a })
	}

	/// The public key `a·G`.
	pub fn public(&self) -> PublicKey {
		PublicKey((EdwardsAffine::generator() * self.0).into_affine())
	}

	/// The secret scalar (for co-signing and tests).
	pub fn scalar(&self) -> Fr {
		self.0
	}

	/// Signs `msg` (deterministic nonce).
	pub fn sign(&self, msg: Message) -> Signature {
		let k = self.nonce(&msg);
		let r = (EdwardsAffine::generator() * k).into_affine();
		let c = field_to_scalar(challenge(&r, &self.public().0, &msg));
		Signature { r, s: k + c * self.0 }
	}

	fn nonce(&self, msg: &Message) -> Fr {
		let k = wide_scalar(&[b"emr-chain/rollup-nonce/v2", &scalar_bytes(&self.0), &msg.bytes()]);
		if k.is_zero() {
			Fr::from(1u64)
		} else {
			k
		}
	}
}

impl core::fmt::Debug for SecretKey {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str("SecretKey(..)")
	}
}

impl PublicKey {
	/// The 32-byte compressed encoding.
	pub fn to_bytes(&self) -> [u8; 32] {
		point_bytes(&self.0)
	}

	/// Decodes and validates a public key (on the curve, in the subgroup, not the identity).
	pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, SignatureError> {
		let p = EdwardsAffine::deserialize_with_mode(&bytes[..], Compress::Yes, Validate::No)
			.map_err(|_| SignatureError::PointNotOnCurve)?;
		if !p.is_on_curve() {
			return Err(SignatureError::PointNotOnCurve);
		}
		if p.is_zero() || !curve::in_subgroup(&p) {
			return Err(SignatureError::KeyNotInSubgroup);
		}
		Ok(Self(p))
	}

	/// Verifies `sig` on `msg`: `s·G − c·A = R`, the two multiplications as one multi-scalar
	/// multiplication (through the node's Bandersnatch host calls with the `host-calls` feature).
	pub fn verify(&self, msg: Message, sig: &Signature) -> Result<(), SignatureError> {
		let c = field_to_scalar(challenge(&sig.r, &self.0, &msg));
		if curve::combination(&self.0, sig.s, c) == sig.r {
			Ok(())
		} else {
			Err(SignatureError::Invalid)
		}
	}

	/// [`Self::verify`] computed by arkworks in the caller's own code, never through host calls:
	/// the reference the host-call path is compared with (tests, benchmarks).
	pub fn verify_arkworks(&self, msg: Message, sig: &Signature) -> Result<(), SignatureError> {
		let c = field_to_scalar(challenge(&sig.r, &self.0, &msg));
		if curve::arkworks::combination(&self.0, sig.s, c) == sig.r {
			Ok(())
		} else {
			Err(SignatureError::Invalid)
		}
	}

	/// The joint key of a co-signature.
	pub fn joint(&self, other: &PublicKey) -> PublicKey {
		PublicKey((self.0 + other.0).into_affine())
	}

	/// `Poseidon(KeyHash, [x, y])`: how a key is pinned inside a state leaf.
	pub fn hash(&self) -> F {
		poseidon::hash(Domain::KeyHash, &[self.0.x, self.0.y])
	}

	/// A point `B` with `4·B = A` (exists for every key in the prime-order subgroup); the circuit
	/// uses it to show a registered key lies in that subgroup.
	pub fn quarter(&self) -> EdwardsAffine {
		let inv4 = <BandersnatchConfig as ark_ec::CurveConfig>::COFACTOR_INV;
		(self.0 * inv4).into_affine()
	}
}

/// Bandersnatch's `a` coefficient (re-exported for the circuit).
pub const COEFF_A: F = <BandersnatchConfig as TECurveConfig>::COEFF_A;

impl Signature {
	/// The 64-byte encoding `R ‖ s`.
	pub fn to_bytes(&self) -> [u8; 64] {
		let mut out = [0u8; 64];
		out[..32].copy_from_slice(&point_bytes(&self.r));
		out[32..].copy_from_slice(&scalar_bytes(&self.s));
		out
	}

	/// Decodes a signature: `R` must be on the curve, `s` canonical.
	pub fn from_bytes(bytes: &[u8; 64]) -> Result<Self, SignatureError> {
		let r = EdwardsAffine::deserialize_with_mode(&bytes[..32], Compress::Yes, Validate::No)
			.map_err(|_| SignatureError::PointNotOnCurve)?;
		if !r.is_on_curve() {
			return Err(SignatureError::PointNotOnCurve);
		}
		let s = Fr::deserialize_with_mode(&bytes[32..], Compress::Yes, Validate::Yes)
			.map_err(|_| SignatureError::NonCanonicalScalar)?;
		Ok(Self { r, s })
	}
}

/// The curve arithmetic of verification: `s·G − c·A` and the subgroup check of a key.
///
/// Without the `host-calls` feature both run in arkworks in the caller's code. With it (the
/// runtime enables it) they go through the Bandersnatch host calls of `sp-crypto-ec-utils`,
/// which the node registers: the same arithmetic, run natively instead of in wasm. Both paths
/// are always compiled for the reference one ([`arkworks`]), so tests and benchmarks compare
/// them.
mod curve {
	use super::*;

	pub mod arkworks {
		use super::*;

		/// `s·G − c·A` in affine form.
		pub fn combination(a: &EdwardsAffine, s: Fr, c: Fr) -> EdwardsAffine {
			let p: EdwardsProjective = EdwardsAffine::generator() * s - *a * c;
			p.into_affine()
		}

		/// Whether an on-curve point lies in the prime-order subgroup.
		// With `host-calls`, only the tests compare against this reference.
		#[cfg_attr(all(feature = "host-calls", not(test)), allow(dead_code))]
		pub fn in_subgroup(p: &EdwardsAffine) -> bool {
			p.is_in_correct_subgroup_assuming_on_curve()
		}
	}

	#[cfg(not(feature = "host-calls"))]
	pub use arkworks::{combination, in_subgroup};

	#[cfg(feature = "host-calls")]
	mod host {
		use super::*;
		use sp_crypto_ec_utils::ed_on_bls12_381_bandersnatch as ext;

		fn point(p: &EdwardsAffine) -> ext::EdwardsAffine {
			ext::EdwardsAffine::new_unchecked(p.x, p.y)
		}

		/// `s·G − c·A` with one host multi-scalar multiplication.
		pub fn combination(a: &EdwardsAffine, s: Fr, c: Fr) -> EdwardsAffine {
			let bases = [point(&EdwardsAffine::generator()), point(a)];
			match <ext::EdwardsConfig as TECurveConfig>::msm(&bases, &[s, -c]) {
				Ok(p) => {
					let p = p.into_affine();
					EdwardsAffine::new_unchecked(p.x, p.y)
				},
				// Two bases and two scalars: the lengths always match.
				Err(_) => EdwardsAffine::zero(),
			}
		}

		/// The subgroup check with the multiplication by the group order on the host.
		pub fn in_subgroup(p: &EdwardsAffine) -> bool {
			point(p).is_in_correct_subgroup_assuming_on_curve()
		}
	}

	#[cfg(feature = "host-calls")]
	pub use host::{combination, in_subgroup};
}

/// Two-round co-signing under the joint key `A₁ + A₂`, with MuSig2-style nonces.
///
/// Each signer commits to *two* nonce points per session. The session's nonce is
/// `R = R₁ + b·R₂` with `R₁ = Σ R₁ᵢ`, `R₂ = Σ R₂ᵢ` and the binding factor
/// `b = Blake2b("emr-chain/cosign-binding/v3" ‖ joint key ‖ R₁ ‖ R₂ ‖ m ‖ d) mod r`; each signer
/// answers with `sᵢ = k₁ᵢ + b·k₂ᵢ + c·aᵢ` where `c` is the ordinary challenge of `(R, joint key,
/// m)`. Because `R` depends through `b` on every commitment and on the message, a co-signer who
/// runs many sessions at once cannot be steered into signing a combination of them (the ROS /
/// Wagner attack on two-round Schnorr with one nonce per signer: Drijvers et al., 2019; the fix
/// is MuSig2's, Nick, Ruffing and Seurin, 2021). The result is a plain Schnorr signature under
/// the joint key: the chain, the rules and the circuit verify it like any other.
///
/// Rogue keys are excluded elsewhere: the joint key is pinned in the doctor's leaf when its
/// hospital credentials it. Secret nonces are consumed by [`respond`] and are neither `Clone`
/// nor `Copy`, so a session's nonces cannot be answered twice:
///
/// ```compile_fail
/// use emr_primitives::{schnorr::{cosign, Message, SecretKey}, F};
/// let key = SecretKey::from_seed(&[1; 32]);
/// let msg = Message::new(F::from(7u64), F::from(1u64));
/// let (secret, public) = cosign::commit(&key, &[9; 32], msg);
/// let session = cosign::Session::new(&key.public(), &[public], msg).unwrap();
/// let _ = cosign::respond(&key, secret, &session);
/// let _ = cosign::respond(&key, secret, &session); // use of a moved value
/// ```
pub mod cosign {
	use super::*;

	/// A signer's secret nonces for one session; [`respond`] consumes them.
	pub struct SecretNonces {
		k1: Fr,
		k2: Fr,
	}

	impl core::fmt::Debug for SecretNonces {
		fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
			f.write_str("SecretNonces(..)")
		}
	}

	/// What a signer sends in round 1: its two nonce points.
	#[derive(Clone, Copy, Debug, PartialEq, Eq)]
	pub struct PublicNonces {
		/// `k₁·G`.
		pub r1: EdwardsAffine,
		/// `k₂·G`.
		pub r2: EdwardsAffine,
	}

	impl PublicNonces {
		/// 64 bytes: both points compressed.
		pub fn to_bytes(&self) -> [u8; 64] {
			let mut out = [0u8; 64];
			out[..32].copy_from_slice(&point_bytes(&self.r1));
			out[32..].copy_from_slice(&point_bytes(&self.r2));
			out
		}

		/// Decodes another signer's nonces: both points on the curve and in the prime-order
		/// subgroup.
		pub fn from_bytes(bytes: &[u8; 64]) -> Result<Self, SignatureError> {
			let point = |b: &[u8]| -> Result<EdwardsAffine, SignatureError> {
				let p = EdwardsAffine::deserialize_with_mode(b, Compress::Yes, Validate::No)
					.map_err(|_| SignatureError::PointNotOnCurve)?;
				if !p.is_on_curve() {
					return Err(SignatureError::PointNotOnCurve);
				}
				if !curve::in_subgroup(&p) {
					return Err(SignatureError::KeyNotInSubgroup);
				}
				Ok(p)
			};
			Ok(Self { r1: point(&bytes[..32])?, r2: point(&bytes[32..])? })
		}
	}

	fn nonzero(k: Fr) -> Fr {
		if k.is_zero() {
			Fr::from(1u64)
		} else {
			k
		}
	}

	/// Round 1: this signer's nonces for signing `msg`, derived from 32 bytes of fresh
	/// randomness (from the caller's CSPRNG; never reuse them), the secret key and the message.
	pub fn commit(
		key: &SecretKey,
		random: &[u8; 32],
		msg: Message,
	) -> (SecretNonces, PublicNonces) {
		let (sk, m) = (scalar_bytes(&key.0), msg.bytes());
		let k1 = nonzero(wide_scalar(&[b"emr-chain/cosign-nonce/v3", &[1], random, &sk, &m]));
		let k2 = nonzero(wide_scalar(&[b"emr-chain/cosign-nonce/v3", &[2], random, &sk, &m]));
		let g = EdwardsAffine::generator();
		let public = PublicNonces { r1: (g * k1).into_affine(), r2: (g * k2).into_affine() };
		(SecretNonces { k1, k2 }, public)
	}

	/// One co-signing session: what every signer computes from the joint key, all signers'
	/// [`PublicNonces`] and the message before answering.
	#[derive(Clone, Copy, Debug, PartialEq, Eq)]
	pub struct Session {
		r: EdwardsAffine,
		b: Fr,
		c: Fr,
	}

	impl Session {
		/// Aggregates the signers' nonces (in any order); refuses an empty set and an
		/// aggregate nonce at the identity.
		pub fn new(
			joint_key: &PublicKey,
			nonces: &[PublicNonces],
			msg: Message,
		) -> Result<Self, SignatureError> {
			if nonces.is_empty() {
				return Err(SignatureError::Invalid);
			}
			let r1: EdwardsProjective = nonces.iter().map(|n| n.r1.into_group()).sum();
			let r2: EdwardsProjective = nonces.iter().map(|n| n.r2.into_group()).sum();
			let (r1, r2) = (r1.into_affine(), r2.into_affine());
			let b = wide_scalar(&[
				b"emr-chain/cosign-binding/v3",
				&point_bytes(&joint_key.0),
				&point_bytes(&r1),
				&point_bytes(&r2),
				&msg.bytes(),
			]);
			let r = (r1.into_group() + r2 * b).into_affine();
			if r.is_zero() {
				return Err(SignatureError::Invalid);
			}
			let c = field_to_scalar(challenge(&r, &joint_key.0, &msg));
			Ok(Self { r, b, c })
		}

		/// The signature's nonce point `R = R₁ + b·R₂`.
		pub fn nonce_point(&self) -> EdwardsAffine {
			self.r
		}

		/// The binding factor `b`.
		pub fn binding(&self) -> Fr {
			self.b
		}
	}

	/// Round 2: this signer's share `sᵢ = k₁ᵢ + b·k₂ᵢ + c·aᵢ`; consumes its nonces.
	pub fn respond(key: &SecretKey, nonces: SecretNonces, session: &Session) -> Fr {
		nonces.k1 + session.b * nonces.k2 + session.c * key.0
	}

	/// The signature `(R, Σ sᵢ)` under the joint key.
	pub fn combine(session: &Session, shares: &[Fr]) -> Signature {
		Signature { r: session.r, s: shares.iter().sum() }
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn key(n: u8) -> SecretKey {
		SecretKey::from_seed(&[n; 32])
	}

	#[test]
	fn sign_verify_and_negative_twins() {
		let (sk, other) = (key(1), key(2));
		let msg = Message::new(F::from(1u64), F::from(42u64));
		let sig = sk.sign(msg);
		assert_eq!(sk.public().verify(msg, &sig), Ok(()));
		assert_eq!(other.public().verify(msg, &sig), Err(SignatureError::Invalid));
		assert_eq!(
			sk.public().verify(Message::new(F::from(1u64), F::from(43u64)), &sig),
			Err(SignatureError::Invalid)
		);
		// The same body in another context (another deployment) does not verify.
		assert_eq!(
			sk.public().verify(Message::new(F::from(2u64), F::from(42u64)), &sig),
			Err(SignatureError::Invalid)
		);
		let mut bad = sig;
		bad.s += Fr::from(1u64);
		assert_eq!(sk.public().verify(msg, &bad), Err(SignatureError::Invalid));
	}

	#[test]
	fn encodings_round_trip_and_refuse_bad_bytes() {
		let sk = key(3);
		let pk = sk.public();
		assert_eq!(PublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
		let sig = sk.sign(Message::new(F::from(1u64), F::from(5u64)));
		assert_eq!(Signature::from_bytes(&sig.to_bytes()), Ok(sig));
		// s + r (same value mod r) is refused as non-canonical.
		let mut bytes = sig.to_bytes();
		let mut big = sig.s.into_bigint();
		big.add_with_carry(&Fr::MODULUS);
		bytes[32..].copy_from_slice(&big.to_bytes_le()[..32]);
		assert_eq!(Signature::from_bytes(&bytes), Err(SignatureError::NonCanonicalScalar));
		// The identity and a point of order 2, (0, -1), are refused as keys.
		let identity = EdwardsAffine::zero();
		assert_eq!(
			PublicKey::from_bytes(&point_bytes(&identity)),
			Err(SignatureError::KeyNotInSubgroup)
		);
		let order2 = EdwardsAffine::new_unchecked(F::zero(), -F::from(1u64));
		assert_eq!(
			PublicKey::from_bytes(&point_bytes(&order2)),
			Err(SignatureError::KeyNotInSubgroup)
		);
		// Some y has no x on the curve.
		let off = (0u8..=255)
			.map(|b| [b; 32])
			.find(|b| {
				EdwardsAffine::deserialize_with_mode(&b[..], Compress::Yes, Validate::No).is_err()
			})
			.expect("some bytes are not a point");
		assert_eq!(PublicKey::from_bytes(&off), Err(SignatureError::PointNotOnCurve));
		let q = pk.quarter();
		assert_eq!((q + q + q + q).into_affine(), pk.0);
	}

	/// A key has one encoding: the registry indexes keys by their 32 bytes (one registration per
	/// key), so `from_bytes` must refuse the other way to write the same point, `y + p` with the
	/// same sign flag (possible when `y + p` still fits the 255 bits below the flag).
	#[test]
	fn a_key_has_one_encoding() {
		use ark_ff::{BigInteger, PrimeField};
		let (pk, mut bytes) = (1..=200u8)
			.map(|i| key(i).public())
			.find_map(|pk| {
				let mut y = pk.0.y.into_bigint();
				let carry = y.add_with_carry(&F::MODULUS);
				let mut bytes = [0u8; 32];
				bytes.copy_from_slice(&y.to_bytes_le());
				(!carry && bytes[31] & 0x80 == 0).then_some((pk, bytes))
			})
			.expect("some key's y + p fits 255 bits");
		bytes[31] |= pk.to_bytes()[31] & 0x80;
		assert_ne!(bytes, pk.to_bytes());
		assert!(PublicKey::from_bytes(&bytes).is_err(), "a non-canonical y is refused");
		assert_eq!(PublicKey::from_bytes(&pk.to_bytes()), Ok(pk));
	}

	/// With the `host-calls` feature (on in workspace builds: the runtime enables it) the checks
	/// run through the Bandersnatch host calls; they must decide exactly as arkworks does.
	#[test]
	fn verification_agrees_with_the_arkworks_reference() {
		for i in 1..=12u8 {
			let (sk, other) = (key(i), key(i + 100));
			let msg = Message::new(F::from(u64::from(i)), F::from(u64::from(i) * 1_000_003));
			let sig = sk.sign(msg);
			let mut bad = sig;
			bad.s += Fr::from(1u64);
			for (pk, sig, ok) in
				[(sk.public(), sig, true), (other.public(), sig, false), (sk.public(), bad, false)]
			{
				let expected = if ok { Ok(()) } else { Err(SignatureError::Invalid) };
				assert_eq!(pk.verify(msg, &sig), expected);
				assert_eq!(pk.verify_arkworks(msg, &sig), expected);
			}
			// The subgroup check: a key, and the key plus a point of order 2 (outside it).
			let key_point = sk.public().0;
			let order_two = EdwardsAffine::new_unchecked(F::from(0u64), -F::from(1u64));
			let outside = (key_point + order_two).into_affine();
			assert!(outside.is_on_curve());
			assert!(curve::in_subgroup(&key_point) && curve::arkworks::in_subgroup(&key_point));
			assert!(!curve::in_subgroup(&outside) && !curve::arkworks::in_subgroup(&outside));
		}
	}

	#[test]
	fn cosignature_verifies_under_joint_key_only() {
		let (doctor, hospital) = (key(7), key(8));
		let joint = doctor.public().joint(&hospital.public());
		let msg = Message::new(F::from(1u64), F::from(99u64));
		let (n1, p1) = cosign::commit(&doctor, &[1; 32], msg);
		let (n2, p2) = cosign::commit(&hospital, &[2; 32], msg);
		let session = cosign::Session::new(&joint, &[p1, p2], msg).expect("session");
		// The nonces' order does not matter.
		assert_eq!(cosign::Session::new(&joint, &[p2, p1], msg), Ok(session));
		let s1 = cosign::respond(&doctor, n1, &session);
		let s2 = cosign::respond(&hospital, n2, &session);
		let sig = cosign::combine(&session, &[s1, s2]);
		assert_eq!(joint.verify(msg, &sig), Ok(()));
		assert_eq!(joint.verify_arkworks(msg, &sig), Ok(()));
		assert_eq!(doctor.public().verify(msg, &sig), Err(SignatureError::Invalid));
		assert_eq!(hospital.public().verify(msg, &sig), Err(SignatureError::Invalid));
		let other = Message::new(msg.context, msg.body + F::from(1u64));
		assert_eq!(joint.verify(other, &sig), Err(SignatureError::Invalid));
		let elsewhere = Message::new(msg.context + F::from(1u64), msg.body);
		assert_eq!(joint.verify(elsewhere, &sig), Err(SignatureError::Invalid));
		// One signer's share alone is not a signature.
		assert_eq!(
			joint.verify(msg, &cosign::combine(&session, &[s1])),
			Err(SignatureError::Invalid)
		);
	}

	#[test]
	fn cosigning_nonce_binds_every_commitment_and_the_message() {
		let (doctor, hospital) = (key(7), key(8));
		let joint = doctor.public().joint(&hospital.public());
		let msg = Message::new(F::from(1u64), F::from(5u64));
		let (_, p1) = cosign::commit(&doctor, &[1; 32], msg);
		let (_, p2) = cosign::commit(&hospital, &[2; 32], msg);
		let (_, p2b) = cosign::commit(&hospital, &[3; 32], msg);
		let a = cosign::Session::new(&joint, &[p1, p2], msg).expect("a");
		let b = cosign::Session::new(&joint, &[p1, p2b], msg).expect("b");
		let later = Message::new(msg.context, msg.body + F::from(1u64));
		let c = cosign::Session::new(&joint, &[p1, p2], later).expect("c");
		let elsewhere = Message::new(msg.context + F::from(1u64), msg.body);
		let d = cosign::Session::new(&joint, &[p1, p2], elsewhere).expect("d");
		// The other signer's nonces and the message change the binding factor, so R is not the
		// sum of per-signer points an attacker could pick after seeing them.
		assert_ne!(a.binding(), b.binding());
		assert_ne!(a.binding(), c.binding());
		assert_ne!(a.binding(), d.binding());
		let naive = (p1.r1 + p1.r2 + p2b.r1 + p2b.r2).into_affine();
		assert_ne!(b.nonce_point(), naive);
		// A share answered in one session does not complete another session's signature.
		let (n1, _) = cosign::commit(&doctor, &[1; 32], msg);
		let (n2b, _) = cosign::commit(&hospital, &[3; 32], msg);
		let s1_in_a = cosign::respond(&doctor, n1, &a);
		let s2_in_b = cosign::respond(&hospital, n2b, &b);
		assert_eq!(
			joint.verify(msg, &cosign::combine(&b, &[s1_in_a, s2_in_b])),
			Err(SignatureError::Invalid)
		);
		// Fresh randomness gives fresh nonces.
		let (_, again) = cosign::commit(&doctor, &[4; 32], msg);
		assert_ne!(again, p1);
		assert_ne!(p1.r1, p1.r2);
	}

	#[test]
	fn cosigning_nonces_round_trip_and_refuse_bad_points() {
		let one = Message::new(F::from(1u64), F::from(1u64));
		let (_, p) = cosign::commit(&key(7), &[1; 32], one);
		assert_eq!(cosign::PublicNonces::from_bytes(&p.to_bytes()), Ok(p));
		// An on-curve point outside the prime-order subgroup: a key point plus a point of order
		// two (0, −1).
		let two_torsion = EdwardsAffine::new_unchecked(F::zero(), -F::from(1u64));
		assert!(two_torsion.is_on_curve());
		let outside = (p.r1 + two_torsion).into_affine();
		let mut bytes = p.to_bytes();
		bytes[32..].copy_from_slice(&point_bytes(&outside));
		assert_eq!(cosign::PublicNonces::from_bytes(&bytes), Err(SignatureError::KeyNotInSubgroup));
		let mut bytes = p.to_bytes();
		bytes[..32].copy_from_slice(&[0xff; 32]);
		assert!(cosign::PublicNonces::from_bytes(&bytes).is_err());
		assert_eq!(cosign::Session::new(&key(7).public(), &[], one), Err(SignatureError::Invalid));
	}
}
