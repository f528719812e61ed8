//! One operation slot of the batch circuit (see the parent module for the shape).

use super::{merkle, poseidon, schnorr, Fv, PointVar};
use ark_ec::AffineRepr;
use ark_ed_on_bls12_381_bandersnatch::EdwardsAffine;
use ark_r1cs_std::{groups::CurveVar, prelude::*};
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use emr_primitives::{
	ops::Role,
	ops::{kind, layout, permission, purpose, EMERGENCY_WINDOW, GRANT_DEPTH, PARTICIPANT_DEPTH},
	poseidon::Domain,
	state::{empty_consent_root, two_pow, MAX_ORGS},
	tree::{empty_path, GRANT_LEVELS, PARTICIPANT_LEVELS},
	F,
};

/// A participant slot as the witness sees it (an empty slot has `role == 0`; its other fields
/// are then free, and the builder fills them with defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafWitness {
	/// Role code (0 = empty).
	pub role: u8,
	/// Active flag.
	pub active: bool,
	/// Nonce.
	pub nonce: u32,
	/// Index version.
	pub version: u32,
	/// Affiliation (doctors).
	pub affiliation: u32,
	/// The affiliation's organisation index (doctors).
	pub affiliation_org: u8,
	/// Organisation index (hospitals).
	pub org: u8,
	/// Rollup key (any curve point for an empty slot).
	pub key: EdwardsAffine,
	/// Encryption key digest.
	pub enc: F,
	/// Pinned emergency key hash.
	pub emergency: F,
	/// Index head digest.
	pub head: F,
	/// Consent subtree root.
	pub consent: F,
	/// Access-log head.
	pub log: F,
	/// Siblings from the leaf up: 8 levels of 7 ([`emr_primitives::tree`]).
	pub path: Vec<F>,
}

impl LeafWitness {
	/// An empty slot with the given path.
	pub fn empty(path: Vec<F>) -> Self {
		Self {
			role: 0,
			active: false,
			nonce: 0,
			version: 0,
			affiliation: 0,
			affiliation_org: 0,
			org: 0,
			key: EdwardsAffine::generator(),
			enc: F::from(0u64),
			emergency: F::from(0u64),
			head: F::from(0u64),
			consent: empty_consent_root(),
			log: F::from(0u64),
			path,
		}
	}

	fn packed(&self) -> F {
		emr_primitives::state::pack_participant(
			self.role,
			self.active,
			self.nonce,
			self.version,
			self.affiliation,
			self.affiliation_org,
			self.org,
		)
	}
}

/// A grant slot as the witness sees it (`flags == 0` is an empty slot).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct GrantWitness {
	/// Grantee.
	pub grantee: u32,
	/// Permission bits.
	pub permissions: u8,
	/// Purpose bits.
	pub purposes: u8,
	/// Scope bits.
	pub scope: u32,
	/// Expiry block.
	pub expires_at: u32,
	/// Flags (1 = present, 2 = emergency); 0 for an empty slot.
	pub flags: u8,
	/// Claim status code.
	pub claim_status: u8,
	/// Claim record digest.
	pub claim_record: F,
	/// Claim amount.
	pub claim_amount: u64,
	/// Settled amount.
	pub settled: u64,
	/// Siblings from the leaf up: 4 levels of 7 ([`emr_primitives::tree`]).
	pub path: Vec<F>,
}

impl GrantWitness {
	fn packed(&self) -> F {
		emr_primitives::state::pack_grant(
			self.grantee,
			self.permissions,
			self.purposes,
			self.scope,
			self.expires_at,
			self.flags,
			self.claim_status,
		)
	}
}

/// Everything one slot needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotWitness {
	/// The operation's six field elements (all zero for padding).
	pub fields: [F; 6],
	/// Signature point `R` (the generator where there is no signature).
	pub r: EdwardsAffine,
	/// Signature scalar `s` as a field element (0 where there is none).
	pub s: F,
	/// `block + 2^32·origin`.
	pub block_field: F,
	/// Leaf 1 (other party) before the slot.
	pub leaf1: LeafWitness,
	/// The grant slot of leaf 2's consent subtree before the slot.
	pub grant: GrantWitness,
	/// Leaf 2 (subject) after leaf 1's update, before its own.
	pub leaf2: LeafWitness,
	/// The doctor + hospital joint key (emergency access; the generator otherwise).
	pub joint_key: EdwardsAffine,
	/// The outcome the prover claims for an access attempt (checked against the rules).
	pub granted: bool,
}

impl SlotWitness {
	/// A padding slot on a completely empty state (used for setup).
	pub fn padding_on_empty_state() -> Self {
		let leaf = LeafWitness::empty(empty_path(PARTICIPANT_LEVELS));
		SlotWitness {
			fields: [F::from(0u64); 6],
			r: EdwardsAffine::generator(),
			s: F::from(0u64),
			block_field: F::from(0u64),
			leaf1: leaf.clone(),
			grant: GrantWitness { path: empty_path(GRANT_LEVELS), ..Default::default() },
			leaf2: leaf,
			joint_key: EdwardsAffine::generator(),
			granted: false,
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

type B = Boolean<F>;

fn num(bits: &[B]) -> Result<Fv, SynthesisError> {
	Boolean::le_bits_to_fp(bits)
}

fn field(b: &B) -> Fv {
	Fv::from(b.clone())
}

/// `cond → ok`.
fn require(cond: &B, ok: &B) -> Result<(), SynthesisError> {
	ok.conditional_enforce_equal(&Boolean::TRUE, cond)
}

fn any(bits: &[&B]) -> B {
	// Kinds are exclusive, so OR of kind flags is their sum (no constraint needed when used as
	// a field); as a Boolean we still need a proper OR.
	bits.iter().fold(Boolean::FALSE, |acc, b| &acc | *b)
}

fn c(v: u64) -> Fv {
	Fv::constant(F::from(v))
}

struct LeafVar {
	role: Fv,
	active: B,
	nonce: Fv,
	version: Fv,
	affiliation: Fv,
	aff_org: Fv,
	org: Fv,
	key: PointVar,
	enc: Fv,
	emergency: Fv,
	head: Fv,
	consent: Fv,
	log: Fv,
	empty: B,
	value: Fv,
	path: Vec<Fv>,
}

/// The participant leaf hash ([`emr_primitives::state::Participant::leaf`]): one wide
/// permutation.
#[allow(clippy::too_many_arguments)]
fn leaf_hash(
	key: &PointVar,
	enc: &Fv,
	emergency: &Fv,
	head: &Fv,
	consent: &Fv,
	log: &Fv,
	packed: &Fv,
) -> Result<Fv, SynthesisError> {
	poseidon::hash_wide(
		Domain::Participant,
		&[
			key.x.clone(),
			key.y.clone(),
			enc.clone(),
			emergency.clone(),
			head.clone(),
			consent.clone(),
			log.clone(),
			packed.clone(),
		],
	)
}

#[allow(clippy::too_many_arguments)]
fn pack_leaf(
	role: &Fv,
	active: &Fv,
	nonce: &Fv,
	version: &Fv,
	affiliation: &Fv,
	aff_org: &Fv,
	org: &Fv,
) -> Fv {
	role + active * two_pow(8)
		+ nonce * two_pow(16)
		+ version * two_pow(48)
		+ affiliation * two_pow(80)
		+ aff_org * two_pow(104)
		+ org * two_pow(112)
}

fn alloc_leaf(cs: &ConstraintSystemRef<F>, w: &LeafWitness) -> Result<LeafVar, SynthesisError> {
	let packed = Fv::new_witness(cs.clone(), || Ok(w.packed()))?;
	let (bits, _) = packed.to_bits_le_with_top_bits_zero(120)?;
	num(&bits[9..16])?.enforce_equal(&Fv::zero())?;
	let role = num(&bits[0..8])?;
	let key = PointVar::new_variable_omit_prime_order_check(
		cs.clone(),
		|| Ok(w.key.into()),
		AllocationMode::Witness,
	)?;
	let alloc = |v: F| Fv::new_witness(cs.clone(), || Ok(v));
	let enc = alloc(w.enc)?;
	let emergency = alloc(w.emergency)?;
	let head = alloc(w.head)?;
	let consent = alloc(w.consent)?;
	let log = alloc(w.log)?;
	let path = w.path.iter().map(|s| alloc(*s)).collect::<Result<Vec<_>, _>>()?;
	let empty = role.is_zero()?;
	let hash = leaf_hash(&key, &enc, &emergency, &head, &consent, &log, &packed)?;
	let value = empty.select(&Fv::zero(), &hash)?;
	Ok(LeafVar {
		role,
		active: bits[8].clone(),
		nonce: num(&bits[16..48])?,
		version: num(&bits[48..80])?,
		affiliation: num(&bits[80..104])?,
		aff_org: num(&bits[104..112])?,
		org: num(&bits[112..120])?,
		key,
		enc,
		emergency,
		head,
		consent,
		log,
		empty,
		value,
		path,
	})
}

struct GrantVar {
	grantee: Fv,
	perm_bits: Vec<B>,
	purpose_bits: Vec<B>,
	scope_bits: Vec<B>,
	expires: Fv,
	flags: Fv,
	status: Fv,
	record: Fv,
	amount: Fv,
	empty: B,
	value: Fv,
	path: Vec<Fv>,
}

fn grant_hash(packed: &Fv, record: &Fv, amounts: &Fv) -> Result<Fv, SynthesisError> {
	poseidon::hash_wide(Domain::Grant, &[packed.clone(), record.clone(), amounts.clone()])
}

#[allow(clippy::too_many_arguments)]
fn pack_grant(
	grantee: &Fv,
	perms: &Fv,
	purposes: &Fv,
	scope: &Fv,
	expires: &Fv,
	flags: &Fv,
	status: &Fv,
) -> Fv {
	grantee
		+ perms * two_pow(24)
		+ purposes * two_pow(32)
		+ scope * two_pow(40)
		+ expires * two_pow(72)
		+ flags * two_pow(104)
		+ status * two_pow(112)
}

fn alloc_grant(cs: &ConstraintSystemRef<F>, w: &GrantWitness) -> Result<GrantVar, SynthesisError> {
	let packed = Fv::new_witness(cs.clone(), || Ok(w.packed()))?;
	let (bits, _) = packed.to_bits_le_with_top_bits_zero(120)?;
	let amounts = Fv::new_witness(cs.clone(), || {
		Ok(F::from(w.claim_amount) + F::from(w.settled) * two_pow(64))
	})?;
	let (abits, _) = amounts.to_bits_le_with_top_bits_zero(128)?;
	let record = Fv::new_witness(cs.clone(), || Ok(w.claim_record))?;
	let path = w
		.path
		.iter()
		.map(|s| Fv::new_witness(cs.clone(), || Ok(*s)))
		.collect::<Result<Vec<_>, _>>()?;
	let flags = num(&bits[104..112])?;
	let empty = flags.is_zero()?;
	let hash = grant_hash(&packed, &record, &amounts)?;
	let value = empty.select(&Fv::zero(), &hash)?;
	Ok(GrantVar {
		grantee: num(&bits[0..24])?,
		perm_bits: bits[24..32].to_vec(),
		purpose_bits: bits[32..40].to_vec(),
		scope_bits: bits[40..72].to_vec(),
		expires: num(&bits[72..104])?,
		flags,
		status: num(&bits[112..120])?,
		record,
		amount: num(&abits[0..64])?,
		empty,
		value,
		path,
	})
}

/// `a < b` for values below 2^32 (one 33-bit decomposition).
fn less_than_32(a: &Fv, b: &Fv) -> Result<B, SynthesisError> {
	// b - a - 1 + 2^32 has bit 32 set iff b > a.
	let d = b - a - c(1) + c(1u64 << 32);
	let (bits, _) = d.to_bits_le_with_top_bits_zero(33)?;
	Ok(bits[32].clone())
}

/// Whether `wanted ⊆ have` bit by bit.
fn subset(wanted: &[Fv], have: &[B]) -> Result<B, SynthesisError> {
	let mut violations = Fv::zero();
	for (w, h) in wanted.iter().zip(have) {
		violations += w * (c(1) - field(h));
	}
	violations.is_zero()
}

// ---------------------------------------------------------------------------------------------

/// Organisation index `idx`'s bit of the set carried in 16-bit chunks, and the set with that
/// bit added (`delta = 1`), removed (`delta = −1`) or unchanged (`delta = 0`), each chunk a new
/// variable. The chunks stay below 2^16 without a range check of their own: only the chunk the
/// index selects changes, by `±2^k` where its bit `k` was clear (added) or set (removed), and that
/// chunk is decomposed here. `idx_bits`: the 8 bits of the index, lowest first.
fn org_bit(
	cs: &ConstraintSystemRef<F>,
	orgs: &[Fv],
	idx_bits: &[B],
	add: &B,
	remove_if_set: &B,
) -> Result<(B, Vec<Fv>), SynthesisError> {
	let (lo, hi) = idx_bits.split_at(4);
	let row_flags = one_hot(hi)?;
	let mut row = Fv::zero();
	for (flag, chunk) in row_flags.iter().zip(orgs) {
		row += flag * chunk;
	}
	let (row_bits, _) = row.to_bits_le_with_top_bits_zero(16)?;
	// A multiplexer tree over the row's 16 bits, by the low nibble.
	let mut level = row_bits;
	for b in lo {
		level =
			level.chunks(2).map(|pair| b.select(&pair[1], &pair[0])).collect::<Result<_, _>>()?;
	}
	let bit = level.pop().expect("one bit left");
	// 2^lo as a product of four linear factors.
	let mut pow = Fv::one();
	for (i, b) in lo.iter().enumerate() {
		pow *= field(b) * (two_pow(1 << i) - F::from(1u64)) + c(1);
	}
	let removing = remove_if_set & &bit;
	let delta = (field(add) - field(&removing)) * pow;
	let out =
		row_flags
			.iter()
			.zip(orgs)
			.map(|(flag, chunk)| {
				let v = Fv::new_witness(cs.clone(), || {
					Ok(chunk.value()? + flag.value()? * delta.value()?)
				})?;
				flag.mul_equals(&delta, &(&v - chunk))?;
				Ok(v)
			})
			.collect::<Result<_, SynthesisError>>()?;
	Ok((bit, out))
}

/// The 2^n indicator values of `bits` (lowest first): entry `i` is 1 exactly when the bits
/// spell `i`.
fn one_hot(bits: &[B]) -> Result<Vec<Fv>, SynthesisError> {
	let pair = |a: &B, b: &B| -> Result<[Fv; 4], SynthesisError> {
		let ab = field(&(a & b));
		let (a, b) = (field(a), field(b));
		Ok([c(1) - &a - &b + &ab, &a - &ab, &b - &ab, ab])
	};
	debug_assert_eq!(bits.len(), 4);
	let low = pair(&bits[0], &bits[1])?;
	let high = pair(&bits[2], &bits[3])?;
	let mut out = Vec::with_capacity(16);
	for h in &high {
		for l in &low {
			out.push(l * h);
		}
	}
	Ok(out)
}

/// What one slot hands the next: the participant tree root, the inbox chain, the block of the
/// last entry, the participant ids assigned, the next organisation index and the organisation
/// set in 16-bit chunks
/// ([`emr_primitives::state::OrgSet::chunks`]). Every value a slot returns is a variable of its
/// own (never a linear combination), so a slot synthesized apart can allocate it.
#[derive(Clone)]
pub struct Carry {
	/// Participant tree root.
	pub root: Fv,
	/// Inbox chain.
	pub chain: Fv,
	/// Block of the last entry (0 before the first).
	pub block: Fv,
	/// Participant ids assigned so far.
	pub participants: Fv,
	/// Next organisation index.
	pub next_org: Fv,
	/// The organisation set, 16 chunks of 16 bits.
	pub orgs: Vec<Fv>,
}

impl Carry {
	/// Number of values in a carry.
	pub const LEN: usize = 5 + ORG_CHUNKS;

	/// The values in allocation order (`root, chain, block, participants, next_org, orgs…`).
	pub fn from_values(v: Vec<Fv>) -> Self {
		let mut it = v.into_iter();
		let mut next = || it.next().expect("Carry::LEN values");
		let (root, chain, block, participants, next_org) = (next(), next(), next(), next(), next());
		let orgs = (0..ORG_CHUNKS).map(|_| next()).collect();
		Carry { root, chain, block, participants, next_org, orgs }
	}
}

/// Chunks of the organisation set.
pub const ORG_CHUNKS: usize = 16;

/// Synthesizes one slot after a slot that left `carry` (see [`Carry`]); signatures are checked
/// within `deployment` (the batch's deployment id). Returns the next carry.
pub fn synthesize(
	cs: ConstraintSystemRef<F>,
	w: &SlotWitness,
	deployment: &Fv,
	carry: &Carry,
) -> Result<Carry, SynthesisError> {
	let (root_in, chain_in, block_in) = (&carry.root, &carry.chain, &carry.block);
	let f: Vec<Fv> = w
		.fields
		.iter()
		.map(|v| Fv::new_witness(cs.clone(), || Ok(*v)))
		.collect::<Result<_, _>>()?;

	// --- Decode the operation -----------------------------------------------------------------
	let (f0_bits, _) = f[0].to_bits_le_with_top_bits_zero(64)?;
	let kind_v = num(&f0_bits[0..8])?;
	let actor = num(&f0_bits[8..32])?;
	let op_nonce = num(&f0_bits[32..64])?;
	let (p_bits, _) = f[1].to_bits_le_with_top_bits_zero(layout::BITS)?;
	let part = |(off, width): (usize, usize)| num(&p_bits[off..off + width]);
	let target = part(layout::TARGET)?;
	// Grant slot numbers are below 2^12 (well-formedness).
	num(&p_bits[layout::GRANT.0 + GRANT_DEPTH..layout::GRANT.0 + layout::GRANT.1])?
		.enforce_equal(&Fv::zero())?;
	let op_version = part(layout::VERSION)?;
	let op_perm_bits = &p_bits[layout::PERMISSIONS.0..layout::PERMISSIONS.0 + 8];
	let op_purpose_bits = &p_bits[layout::PURPOSES.0..layout::PURPOSES.0 + 8];
	let op_scope_bits = &p_bits[layout::SCOPE.0..layout::SCOPE.0 + 32];
	let op_expires = part(layout::EXPIRES)?;
	let op_code_bits = &p_bits[layout::CODE.0..layout::CODE.0 + 16];
	let op_code = num(op_code_bits)?;

	let block_field = Fv::new_witness(cs.clone(), || Ok(w.block_field))?;
	let (blk_bits, _) = block_field.to_bits_le_with_top_bits_zero(33)?;
	let now = num(&blk_bits[0..32])?;
	let governance = blk_bits[32].clone();
	let user = !&governance;

	let is: Vec<B> =
		(0..kind::COUNT as u64).map(|k| kind_v.is_eq(&c(k))).collect::<Result<_, _>>()?;
	let kinds_sum = is.iter().fold(Fv::zero(), |acc, b| acc + field(b));
	kinds_sum.enforce_equal(&c(1))?; // the kind is defined
	let k = |x: u8| &is[x as usize];
	let noop = k(kind::NOOP);

	// MalformedEncoding: every part of the encoding the kind does not use is zero (one table,
	// `layout::used`). Kinds are exclusive, so "unused" is a sum of kind flags.
	let f1_parts: Vec<(u16, Fv)> = layout::F1_PARTS
		.iter()
		.map(|(bit, part)| Ok((*bit, num(&p_bits[part.0..part.0 + part.1])?)))
		.collect::<Result<_, SynthesisError>>()?;
	let wide_parts = layout::WIDE_PARTS.iter().map(|(bit, i)| (*bit, f[*i].clone()));
	for (bit, value) in f1_parts.into_iter().chain(wide_parts) {
		let unused = (0..kind::COUNT)
			.filter(|&x| layout::used(x as u8) & bit == 0)
			.fold(Fv::zero(), |acc, x| acc + field(&is[x]));
		value.mul_equals(&unused, &Fv::zero())?;
	}

	let admit = k(kind::ADMIT_MEMBER);
	let remove = k(kind::REMOVE_MEMBER);
	let register = k(kind::REGISTER);
	let credential = k(kind::CREDENTIAL_DOCTOR);
	let revoke_cred = k(kind::REVOKE_CREDENTIAL);
	let append = k(kind::APPEND_RECORD);
	let grant_op = k(kind::GRANT_CONSENT);
	let revoke = k(kind::REVOKE_CONSENT);
	let access = k(kind::ACCESS_RECORD);
	let emergency = k(kind::EMERGENCY_ACCESS);
	let submit = k(kind::SUBMIT_CLAIM);
	let decide = k(kind::DECIDE_CLAIM);

	// Governance kinds exactly when the origin is governance (GovernanceOnly,
	// NotAGovernanceOperation); padding has user origin.
	(field(admit) + field(remove)).enforce_equal(&field(&governance))?;
	// Padding is all zeros.
	for x in &f {
		x.conditional_enforce_equal(&Fv::zero(), noop)?;
	}
	block_field.conditional_enforce_equal(&Fv::zero(), noop)?;
	// BlockDecreased: entries come in block order; padding keeps the last entry's block.
	require(&!noop, &!less_than_32(&now, block_in)?)?;
	let block_out = noop.select(block_in, &now)?;

	let creating = admit | register;
	let user_op = &user & &!noop;
	// Operations whose actor leaf must exist and sign with its own nonce.
	let acting = &user_op & &!register;
	// The actor is leaf 1 for these (its nonce advances there).
	let actor_is_1 =
		any(&[credential, revoke_cred, append, revoke, access, emergency, submit, decide]);
	// Operations with the subject at `target`.
	let subject_is_target =
		any(&[credential, revoke_cred, append, access, emergency, submit, decide]);

	// --- Leaf indices -------------------------------------------------------------------------
	let i1 = grant_op.select(&target, &actor)?;
	// A registration or admission creates leaf `participants + 1` (ids in order); it names no
	// actor (MalformedEncoding otherwise).
	actor.mul_equals(&field(&creating), &Fv::zero())?;
	let new_id = &carry.participants + c(1);
	let i2 = creating.select(&new_id, &subject_is_target.select(&target, &actor)?)?;
	let (i1_bits, _) = i1.to_bits_le_with_top_bits_zero(PARTICIPANT_DEPTH)?;
	let (i2_bits, _) = i2.to_bits_le_with_top_bits_zero(PARTICIPANT_DEPTH)?;

	// --- Leaf 1 ---------------------------------------------------------------------------------
	let l1 = alloc_leaf(&cs, &w.leaf1)?;
	merkle::root(&l1.value, &i1_bits, &l1.path)?.enforce_equal(root_in)?;
	let nonce1_new = &l1.nonce + field(&actor_is_1);
	let packed1_new = pack_leaf(
		&l1.role,
		&field(&l1.active),
		&nonce1_new,
		&l1.version,
		&l1.affiliation,
		&l1.aff_org,
		&l1.org,
	);
	let hash1_new =
		leaf_hash(&l1.key, &l1.enc, &l1.emergency, &l1.head, &l1.consent, &l1.log, &packed1_new)?;
	// Leaf 1 changes only when it is the actor (then it exists; checked below).
	let value1_new = actor_is_1.select(&hash1_new, &l1.value)?;
	let root1 = merkle::root(&value1_new, &i1_bits, &l1.path)?;

	// --- Leaf 2 (old) ---------------------------------------------------------------------------
	let l2 = alloc_leaf(&cs, &w.leaf2)?;
	merkle::root(&l2.value, &i2_bits, &l2.path)?.enforce_equal(&root1)?;

	// --- The actor ------------------------------------------------------------------------------
	let a_role = grant_op.select(&l2.role, &l1.role)?;
	let a_active = grant_op.select(&l2.active, &l1.active)?;
	let a_nonce = grant_op.select(&l2.nonce, &l1.nonce)?;
	let a_key = grant_op.select(&l2.key, &l1.key)?;
	let a_affiliation = grant_op.select(&l2.affiliation, &l1.affiliation)?;
	let a_emergency = grant_op.select(&l2.emergency, &l1.emergency)?;
	let a_aff_org = grant_op.select(&l2.aff_org, &l1.aff_org)?;
	require(&acting, &!&a_role.is_zero()?)?; // UnknownActor
	require(&acting, &a_active)?; // ActorInactive
							   // BadNonce: the actor's next nonce; registration and governance use 0.
	let expected_nonce = acting.select(&a_nonce, &Fv::zero())?;
	op_nonce.enforce_equal(&expected_nonce)?;
	// CounterOverflow: the advanced nonce still fits 32 bits.
	(&a_nonce + c(1))
		.to_bits_le_with_top_bits_zero(33)
		.and_then(|(bits, _)| bits[32].conditional_enforce_equal(&Boolean::FALSE, &acting))?;
	let role_is = |r: u8| a_role.is_eq(&c(r as u64));
	require(&(credential | revoke_cred), &role_is(3)?)?; // NotAHospital
	require(&(grant_op | revoke), &role_is(1)?)?; // NotAPatient
	require(&(submit | decide), &role_is(4)?)?; // NotAnInsurer
	let actor_is_doctor = role_is(2)?;
	require(emergency, &actor_is_doctor)?; // NotADoctor

	// --- New key (registration, admission) -------------------------------------------------------
	let new_key = PointVar::new_witness(cs.clone(), || {
		let p = EdwardsAffine::new_unchecked(w.fields[2], w.fields[3]);
		Ok::<EdwardsAffine, SynthesisError>(
			if p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve() {
				p
			} else {
				EdwardsAffine::generator()
			},
		)
	})?;
	// InvalidKey: the key is a subgroup point (allocation multiplies by the cofactor) equal to
	// (f2, f3) and not the identity.
	new_key.x.conditional_enforce_equal(&f[2], &creating)?;
	new_key.y.conditional_enforce_equal(&f[3], &creating)?;
	require(&creating, &!&new_key.x.is_zero()?)?;
	// IdOutOfRange: the new id is below 2^24 (the decomposition of `i2` above); IdCollision:
	// its slot is empty.
	require(&creating, &l2.empty)?;
	let participants_out =
		noop.select(&carry.participants, &(&carry.participants + field(&creating)))?;
	// InvalidRole: governance admits roles 3..=6; a participant registers as 1 or 2.
	let role5 = &f[5];
	let role_poly = (role5 - c(3)) * (role5 - c(4)) * (role5 - c(5)) * (role5 - c(6));
	role_poly.conditional_enforce_equal(&Fv::zero(), admit)?;
	((role5 - c(1)) * (role5 - c(2))).conditional_enforce_equal(&Fv::zero(), register)?;

	// --- Signature ------------------------------------------------------------------------------
	let r = PointVar::new_witness(cs.clone(), || Ok::<EdwardsAffine, SynthesisError>(w.r))?;
	let s = Fv::new_witness(cs.clone(), || Ok(w.s))?;
	let joint = PointVar::new_variable_omit_prime_order_check(
		cs.clone(),
		|| Ok(w.joint_key.into()),
		AllocationMode::Witness,
	)?;
	let joint_hash = poseidon::hash(Domain::KeyHash, &[joint.x.clone(), joint.y.clone()])?;
	// --- Organisations -------------------------------------------------------------------------
	// One bit of the organisation set is read (and maybe changed) per slot: an admitted
	// hospital's new index, a removed participant's own, the credentialed doctor's current
	// affiliation's, else the actor's affiliation's.
	let admit_hospital = admit & &f[5].is_eq(&c(Role::Hospital.code() as u64))?;
	let remove_hospital = remove & &l2.role.is_eq(&c(Role::Hospital.code() as u64))?;
	let idx = admit.select(
		&carry.next_org,
		&remove.select(&l2.org, &credential.select(&l2.aff_org, &a_aff_org)?)?,
	)?;
	let (idx_bits, _) = idx.to_bits_le_with_top_bits_zero(8)?;
	let (org_live, orgs_out) =
		org_bit(&cs, &carry.orgs, &idx_bits, &admit_hospital, &remove_hospital)?;
	// TooManyOrganisations: an index is left; the new index's bit is clear (it always is: a
	// check, not an assumption).
	require(&admit_hospital, &!&carry.next_org.is_eq(&c(MAX_ORGS as u64))?)?;
	require(&admit_hospital, &!&org_live)?;
	let next_org_out = noop.select(&carry.next_org, &(&carry.next_org + field(&admit_hospital)))?;
	// The actor's credential, while its hospital is a member.
	let a_credentialed = &!&a_affiliation.is_zero()? & &org_live;

	// NotCredentialed: a pinned joint key and a live affiliation.
	require(emergency, &!&a_emergency.is_zero()?)?;
	require(emergency, &a_credentialed)?;
	joint_hash.conditional_enforce_equal(&a_emergency, emergency)?;
	let sig_key = emergency.select(&joint, &creating.select(&new_key, &a_key)?)?;
	let message = poseidon::hash(Domain::Operation, &f)?;
	// MalformedSignature / BadSignature: every user operation, and an admission (the admitted
	// key's proof of possession), is signed; a removal is not.
	let signed = &user_op | admit;
	schnorr::verify(&sig_key, &message, deployment, &r, &s, &signed)?;

	// --- Subject checks -------------------------------------------------------------------------
	let subject_patient = &l2.role.is_eq(&c(1))? & &l2.active;
	require(&any(&[append, access, emergency, submit, decide]), &subject_patient)?; // UnknownPatient
	let self_op = actor.is_eq(&target)?;
	// CredentialDoctor and RevokeCredential: the doctor exists (UnknownParticipant) and is a
	// doctor (NotADoctor). A credential needs it active (ParticipantInactive) and not yet
	// credentialed (AlreadyCredentialed); a revocation, credentialed by this hospital
	// (NotYourDoctor).
	require(&(credential | revoke_cred), &l2.role.is_eq(&c(2))?)?;
	require(credential, &l2.active)?;
	// A credential of a removed hospital has lapsed.
	require(credential, &(&l2.affiliation.is_zero()? | &!&org_live))?;
	require(revoke_cred, &l2.affiliation.is_eq(&actor)?)?;
	// RemoveMember: exists (UnknownParticipant) and active (ParticipantInactive).
	require(remove, &!&l2.empty)?;
	require(remove, &l2.active)?;
	// GrantConsent: the grantee (leaf 1) is registered and active (GranteeNotRegistered).
	require(grant_op, &(&!&l1.empty & &l1.active))?;
	// Permissions, purposes and scope of a grant (InvalidPermissions, InvalidPurposes,
	// InvalidScope) and its expiry (ExpiryInPast).
	let op_perms = num(op_perm_bits)?;
	let op_purposes = num(op_purpose_bits)?;
	require(grant_op, &!&op_perms.is_zero()?)?;
	num(&op_perm_bits[3..])?.conditional_enforce_equal(&Fv::zero(), grant_op)?;
	require(grant_op, &!&op_purposes.is_zero()?)?;
	num(&op_purpose_bits[5..])?.conditional_enforce_equal(&Fv::zero(), &(grant_op | access))?;
	require(grant_op, &!&num(op_scope_bits)?.is_zero()?)?;
	require(grant_op, &less_than_32(&now, &op_expires)?)?;
	// An access names exactly one purpose (InvalidPurposes).
	let purpose_count = op_purpose_bits.iter().fold(Fv::zero(), |acc, b| acc + field(b));
	purpose_count.conditional_enforce_equal(&c(1), access)?;
	// EmergencyAccess needs a reason (ReasonMissing).
	require(emergency, &!&op_code.is_zero()?)?;
	// DecideClaim's code is the approve flag (0 or 1).
	num(&op_code_bits[1..])?.conditional_enforce_equal(&Fv::zero(), decide)?;
	let approve = op_code_bits[0].clone();

	// --- The grant slot -------------------------------------------------------------------------
	// Every kind that touches a grant names its slot (below 2^12: checked with the encoding).
	let inserting = grant_op | emergency;
	let g_bits = &p_bits[layout::GRANT.0..layout::GRANT.0 + GRANT_DEPTH];
	let g = alloc_grant(&cs, &w.grant)?;
	merkle::root(&g.value, g_bits, &g.path)?.enforce_equal(&l2.consent)?;

	// covers(grant, actor, perm, purpose, scope, now)
	let holder = g.grantee.is_eq(&actor)?
		| (&(&actor_is_doctor & &a_credentialed) & &g.grantee.is_eq(&a_affiliation)?);
	let perm_ok = field(access) * field(&g.perm_bits[0])
		+ field(append) * field(&g.perm_bits[1])
		+ field(submit) * field(&g.perm_bits[2]);
	let perm_ok = perm_ok.is_eq(&field(&any(&[access, append, submit])))?;
	let wanted_purposes: Vec<Fv> = (0..8)
		.map(|i| {
			let mut v = field(access) * field(&op_purpose_bits[i]);
			if 1u8 << i == purpose::TREATMENT {
				v += field(append);
			}
			if 1u8 << i == purpose::INSURANCE {
				v += field(submit);
			}
			v
		})
		.collect();
	let purpose_ok = subset(&wanted_purposes, &g.purpose_bits)?;
	let scope_wanted: Vec<Fv> = op_scope_bits.iter().map(field).collect();
	let scope_violation = subset(&scope_wanted, &g.scope_bits)?;
	let scope_ok = access.select(&scope_violation, &Boolean::TRUE)?;
	let unexpired = less_than_32(&now, &g.expires)?;
	let covers =
		Boolean::kary_and(&[!&g.empty, holder, perm_ok, purpose_ok, scope_ok, unexpired.clone()])?;
	let status_open = g.status.is_eq(&c(1))?;
	// SlotTaken: a new grant takes an empty slot, or one whose grant expired with no open claim.
	require(&inserting, &(&g.empty | &(&!&unexpired & &!&status_open)))?;
	debug_assert_eq!(permission::ALL, 7);

	// AppendRecord: version (VersionMismatch) and a WRITE grant unless the patient writes
	// (NoWriteGrant).
	op_version.conditional_enforce_equal(&l2.version, append)?;
	require(&(append & &!&self_op), &covers)?;
	// AccessRecord: the outcome the prover claims is the one the rules give.
	let granted = &self_op | &covers;
	let claimed = Boolean::new_witness(cs.clone(), || Ok(w.granted))?;
	claimed.conditional_enforce_equal(&granted, access)?;
	// RevokeConsent: the slot holds a grant (GrantNotFound).
	require(revoke, &!&g.empty)?;
	// SubmitClaim: a CLAIM grant (NoClaimGrant), no open claim (ClaimAlreadyOpen), a positive
	// amount (ZeroAmount, and it fits 64 bits).
	require(submit, &covers)?;
	require(submit, &!&status_open)?;
	let claim_money = (submit | decide).select(&f[3], &Fv::zero())?;
	let (money_bits, _) = claim_money.to_bits_le_with_top_bits_zero(64)?;
	let money = num(&money_bits)?;
	require(submit, &!&money.is_zero()?)?;
	// DecideClaim: an open claim (ClaimNotOpen) of this insurer (NotYourClaim), settled within
	// the claim, zero on rejection (SettlementExceedsClaim).
	require(decide, &!&g.empty)?;
	require(decide, &g.grantee.is_eq(&actor)?)?;
	require(decide, &status_open)?;
	let limit = approve.select(&g.amount, &Fv::zero())?;
	let headroom = decide.select(&(&limit - &money), &Fv::zero())?;
	let _ = headroom.to_bits_le_with_top_bits_zero(64)?;

	// New grant slot value.
	let emergency_expiry = &now + c(EMERGENCY_WINDOW as u64);
	// CounterOverflow for the emergency expiry.
	let exp_sel = emergency.select(&emergency_expiry, &Fv::zero())?;
	let _ = exp_sel.to_bits_le_with_top_bits_zero(32)?;
	let inserted_packed = grant_op.select(
		&pack_grant(
			&target,
			&op_perms,
			&op_purposes,
			&num(op_scope_bits)?,
			&op_expires,
			&c(1),
			&c(0),
		),
		&pack_grant(
			&actor,
			&c((permission::READ | permission::WRITE) as u64),
			&c((purpose::EMERGENCY | purpose::TREATMENT) as u64),
			&c(u32::MAX as u64),
			&emergency_expiry,
			&c(3),
			&c(0),
		),
	)?;
	let old_packed = pack_grant(
		&g.grantee,
		&num(&g.perm_bits)?,
		&num(&g.purpose_bits)?,
		&num(&g.scope_bits)?,
		&g.expires,
		&g.flags,
		&g.status,
	);
	let new_status = submit.select(&c(1), &approve.select(&c(2), &c(3))?)?;
	let claim_packed = &old_packed + (&new_status - &g.status) * two_pow(112);
	let claim_record = submit.select(&f[2], &g.record)?;
	let claim_amount = submit.select(&money, &g.amount)?;
	let claim_settled = submit.select(&Fv::zero(), &money)?;
	let claim_amounts = &claim_amount + &claim_settled * two_pow(64);
	// One hash for whichever new value the slot takes.
	let new_packed = inserting.select(&inserted_packed, &claim_packed)?;
	let new_record = inserting.select(&Fv::zero(), &claim_record)?;
	let new_amounts = inserting.select(&Fv::zero(), &claim_amounts)?;
	let new_leaf = grant_hash(&new_packed, &new_record, &new_amounts)?;
	let g_new = revoke
		.select(&Fv::zero(), &any(&[&inserting, submit, decide]).select(&new_leaf, &g.value)?)?;
	let consent_new = merkle::root(&g_new, g_bits, &g.path)?;

	// --- Leaf 2 (new) ---------------------------------------------------------------------------
	let role2 = creating.select(&f[5], &l2.role)?;
	let active2 = creating.select(&Boolean::TRUE, &(&l2.active & &!remove))?;
	let nonce2 = creating.select(&field(register), &(&l2.nonce + field(grant_op)))?;
	// CounterOverflow: the patient's own nonce (grant) and the index version still fit.
	let version2 = creating.select(&Fv::zero(), &(&l2.version + field(append)))?;
	let (_, _) = (&nonce2 * field(grant_op)).to_bits_le_with_top_bits_zero(32)?;
	let (_, _) = (&version2 * field(append)).to_bits_le_with_top_bits_zero(32)?;
	let affiliation2 = creating.select(
		&Fv::zero(),
		&credential.select(&actor, &revoke_cred.select(&Fv::zero(), &l2.affiliation)?)?,
	)?;
	let aff_org2 = creating.select(
		&Fv::zero(),
		&credential.select(&l1.org, &revoke_cred.select(&Fv::zero(), &l2.aff_org)?)?,
	)?;
	let org2 = creating.select(&admit_hospital.select(&carry.next_org, &Fv::zero())?, &l2.org)?;
	// A created leaf's key is the new key: the builder puts it into the (otherwise free) fields
	// of the empty old leaf, so the key's sponge prefix is shared.
	l2.key.x.conditional_enforce_equal(&new_key.x, &creating)?;
	l2.key.y.conditional_enforce_equal(&new_key.y, &creating)?;
	let enc2 = creating.select(&f[4], &l2.enc)?;
	// The doctor's registered key (proven at registration) plus the hospital's.
	let joint_new = &l2.key + &a_key;
	// InvalidKey: the doctor's key must not cancel the hospital's (identity joint key).
	require(credential, &!&joint_new.x.is_zero()?)?;
	let pinned = poseidon::hash(Domain::KeyHash, &[joint_new.x.clone(), joint_new.y.clone()])?;
	let emergency2 = credential
		.select(&pinned, &(&creating | revoke_cred).select(&Fv::zero(), &l2.emergency)?)?;
	let head2 = creating.select(&Fv::zero(), &append.select(&f[2], &l2.head)?)?;
	let consent2 = creating.select(&Fv::constant(empty_consent_root()), &consent_new)?;
	let logged = any(&[append, grant_op, revoke, access, emergency, submit, decide]);
	let outcome = access.select(&claimed.select(&c(1), &c(2))?, &Fv::zero())?;
	let link = poseidon::hash(
		Domain::AccessLog,
		&[l2.log.clone(), message.clone(), &now + &outcome * two_pow(32)],
	)?;
	let log2 = creating.select(&Fv::zero(), &logged.select(&link, &l2.log)?)?;
	let packed2 =
		pack_leaf(&role2, &field(&active2), &nonce2, &version2, &affiliation2, &aff_org2, &org2);
	let value2 = leaf_hash(&l2.key, &enc2, &emergency2, &head2, &consent2, &log2, &packed2)?;
	let root2 = merkle::root(&value2, &i2_bits, &l2.path)?;

	// --- Inbox chain ----------------------------------------------------------------------------
	let rx = signed.select(&r.x, &Fv::zero())?;
	let ry = signed.select(&r.y, &Fv::zero())?;
	s.conditional_enforce_equal(&Fv::zero(), &!&signed)?;
	let entry = poseidon::hash(Domain::InboxEntry, &[message, rx, ry, s, block_field])?;
	let linked = poseidon::hash(Domain::InboxChain, &[chain_in.clone(), entry])?;
	let chain_out = noop.select(chain_in, &linked)?;
	let root_out = noop.select(root_in, &root2)?;
	Ok(Carry {
		root: root_out,
		chain: chain_out,
		block: block_out,
		participants: participants_out,
		next_org: next_org_out,
		orgs: orgs_out,
	})
}
