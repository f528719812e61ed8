//! One operation slot of the batch circuit (see the parent module for the shape).

use super::{merkle, poseidon, schnorr, Fv, PointVar};
use ark_ec::AffineRepr;
use ark_ed_on_bls12_381_bandersnatch::EdwardsAffine;
use ark_r1cs_std::{groups::CurveVar, prelude::*};
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use emr_primitives::{
	field::{bits as range, end, pack_at, two_pow},
	ops::Role,
	ops::{kind, layout, permission, purpose, EMERGENCY_WINDOW, GRANT_DEPTH, PARTICIPANT_DEPTH},
	poseidon::Domain,
	state::{
		empty_consent_root,
		layout::{amounts, grant as gl, participant as pl},
		MAX_ORGS,
	},
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
	// `state::pack_participant`, term by term (offsets from `state::layout::participant`).
	role + active * two_pow(pl::ACTIVE.0 as u64)
		+ nonce * two_pow(pl::NONCE.0 as u64)
		+ version * two_pow(pl::VERSION.0 as u64)
		+ affiliation * two_pow(pl::AFFILIATION.0 as u64)
		+ aff_org * two_pow(pl::AFFILIATION_ORG.0 as u64)
		+ org * two_pow(pl::ORG.0 as u64)
}

fn alloc_leaf(cs: &ConstraintSystemRef<F>, w: &LeafWitness) -> Result<LeafVar, SynthesisError> {
	let packed = Fv::new_witness(cs.clone(), || Ok(w.packed()))?;
	let (bits, _) = packed.to_bits_le_with_top_bits_zero(pl::BITS)?;
	// `active` is one bit: the rest of its part is zero.
	num(&bits[pl::ACTIVE.0 + 1..end(pl::ACTIVE)])?.enforce_equal(&Fv::zero())?;
	let role = num(&bits[range(pl::ROLE)])?;
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
		active: bits[pl::ACTIVE.0].clone(),
		nonce: num(&bits[range(pl::NONCE)])?,
		version: num(&bits[range(pl::VERSION)])?,
		affiliation: num(&bits[range(pl::AFFILIATION)])?,
		aff_org: num(&bits[range(pl::AFFILIATION_ORG)])?,
		org: num(&bits[range(pl::ORG)])?,
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
	// `state::pack_grant`, term by term (offsets from `state::layout::grant`).
	grantee
		+ perms * two_pow(gl::PERMISSIONS.0 as u64)
		+ purposes * two_pow(gl::PURPOSES.0 as u64)
		+ scope * two_pow(gl::SCOPE.0 as u64)
		+ expires * two_pow(gl::EXPIRES.0 as u64)
		+ flags * two_pow(gl::FLAGS.0 as u64)
		+ status * two_pow(gl::CLAIM_STATUS.0 as u64)
}

fn alloc_grant(cs: &ConstraintSystemRef<F>, w: &GrantWitness) -> Result<GrantVar, SynthesisError> {
	let packed = Fv::new_witness(cs.clone(), || Ok(w.packed()))?;
	let (bits, _) = packed.to_bits_le_with_top_bits_zero(gl::BITS)?;
	let amounts = Fv::new_witness(cs.clone(), || {
		Ok(pack_at(&[(w.claim_amount, amounts::CLAIM_AMOUNT), (w.settled, amounts::SETTLED)]))
	})?;
	let (abits, _) = amounts.to_bits_le_with_top_bits_zero(amounts::BITS)?;
	let record = Fv::new_witness(cs.clone(), || Ok(w.claim_record))?;
	let path = w
		.path
		.iter()
		.map(|s| Fv::new_witness(cs.clone(), || Ok(*s)))
		.collect::<Result<Vec<_>, _>>()?;
	let flags = num(&bits[range(gl::FLAGS)])?;
	let empty = flags.is_zero()?;
	let hash = grant_hash(&packed, &record, &amounts)?;
	let value = empty.select(&Fv::zero(), &hash)?;
	Ok(GrantVar {
		grantee: num(&bits[range(gl::GRANTEE)])?,
		perm_bits: bits[range(gl::PERMISSIONS)].to_vec(),
		purpose_bits: bits[range(gl::PURPOSES)].to_vec(),
		scope_bits: bits[range(gl::SCOPE)].to_vec(),
		expires: num(&bits[range(gl::EXPIRES)])?,
		flags,
		status: num(&bits[range(gl::CLAIM_STATUS)])?,
		record,
		amount: num(&abits[range(amounts::CLAIM_AMOUNT)])?,
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
///
/// The parts follow `emr_primitives::rules`: decode and [`well_formed`] (`rules::well_formed`),
/// the two leaves, the actor and its signature (`rules::authenticate`), the subject and the
/// grant slot (`rules::user_op`), then the new leaf and the inbox chain. Each part is a function
/// below; they run in this order, which fixes the constraint system (and so the keys).
pub fn synthesize(
	cs: ConstraintSystemRef<F>,
	w: &SlotWitness,
	deployment: &Fv,
	carry: &Carry,
) -> Result<Carry, SynthesisError> {
	let op = decode(&cs, w)?;
	let k = Kinds::of(&op)?;
	well_formed(&op, &k)?;
	let block = in_block_order(&op, &k, carry)?;
	let shape = Shape::of(&op, &k);
	let leaves = leaves(&cs, w, &op, &k, &shape, carry)?;
	let actor = actor(&op, &k, &shape, &leaves)?;
	let (new_key, participants) = new_participant(&cs, w, &op, &k, &shape, &leaves.l2, carry)?;
	let sig = signature_witness(&cs, w)?;
	let orgs = organisations(&cs, &op, &k, &leaves.l2, &actor, carry)?;
	let (message, signed) =
		authenticate(&op, &k, &shape, &actor, &sig, &orgs, &new_key, deployment)?;
	let self_op = subject(&op, &k, &leaves, &orgs)?;
	let params = grant_parameters(&op, &k)?;
	let slot = grant_slot(&cs, w, &op, &k, &leaves, &actor, &orgs)?;
	let claim = consent_rules(&cs, w, &op, &k, &leaves.l2, &slot, self_op)?;
	let consent = new_grant(&op, &k, &slot, &params, &claim)?;
	let root2 = new_subject_leaf(
		&op, &k, &shape, &leaves, &actor, &orgs, &new_key, consent, &claim, &message, carry,
	)?;
	let chain = inbox_chain(&op, &k, &sig, message, &signed, &carry.chain)?;
	Ok(Carry {
		root: k.noop.select(&carry.root, &root2)?,
		chain,
		block,
		participants,
		next_org: orgs.next_org,
		orgs: orgs.chunks,
	})
}

/// The operation's six fields and the parts the slot reads, decoded by the tables of
/// `ops::layout` (the block field: `block + 2^32·origin`).
struct Op {
	f: Vec<Fv>,
	kind: Fv,
	actor: Fv,
	nonce: Fv,
	p_bits: Vec<B>,
	target: Fv,
	version: Fv,
	expires: Fv,
	code: Fv,
	block_field: Fv,
	now: Fv,
	governance: B,
	user: B,
}

impl Op {
	/// The bits of part `at` of `f1`.
	fn bits(&self, at: (usize, usize)) -> &[B] {
		&self.p_bits[range(at)]
	}

	/// The grant slot's bits (below 2^12: checked by [`decode`]).
	fn grant_bits(&self) -> &[B] {
		&self.p_bits[layout::GRANT.0..layout::GRANT.0 + GRANT_DEPTH]
	}
}

/// Decodes the operation (its fields are the slot's first witnesses).
fn decode(cs: &ConstraintSystemRef<F>, w: &SlotWitness) -> Result<Op, SynthesisError> {
	let f: Vec<Fv> = w
		.fields
		.iter()
		.map(|v| Fv::new_witness(cs.clone(), || Ok(*v)))
		.collect::<Result<_, _>>()?;
	let (f0_bits, _) = f[0].to_bits_le_with_top_bits_zero(layout::F0_BITS)?;
	let kind = num(&f0_bits[range(layout::F0_KIND)])?;
	let actor = num(&f0_bits[range(layout::F0_ACTOR)])?;
	let nonce = num(&f0_bits[range(layout::F0_NONCE)])?;
	let (p_bits, _) = f[1].to_bits_le_with_top_bits_zero(layout::BITS)?;
	let part = |at: (usize, usize)| num(&p_bits[range(at)]);
	let target = part(layout::TARGET)?;
	// Grant slot numbers are below 2^12 (well-formedness).
	num(&p_bits[layout::GRANT.0 + GRANT_DEPTH..end(layout::GRANT)])?.enforce_equal(&Fv::zero())?;
	let version = part(layout::VERSION)?;
	let expires = part(layout::EXPIRES)?;
	let code = part(layout::CODE)?;

	let block_field = Fv::new_witness(cs.clone(), || Ok(w.block_field))?;
	let (blk_bits, _) = block_field.to_bits_le_with_top_bits_zero(33)?;
	let now = num(&blk_bits[0..32])?;
	let governance = blk_bits[32].clone();
	let user = !&governance;
	Ok(Op {
		f,
		kind,
		actor,
		nonce,
		p_bits,
		target,
		version,
		expires,
		code,
		block_field,
		now,
		governance,
		user,
	})
}

/// One flag per kind (exactly one is set), by name.
struct Kinds {
	is: Vec<B>,
	noop: B,
	admit: B,
	remove: B,
	register: B,
	credential: B,
	revoke_cred: B,
	append: B,
	grant_op: B,
	revoke: B,
	access: B,
	emergency: B,
	submit: B,
	decide: B,
}

impl Kinds {
	/// The kind flags of `op`; the kind is defined.
	fn of(op: &Op) -> Result<Self, SynthesisError> {
		let is: Vec<B> =
			(0..kind::COUNT as u64).map(|x| op.kind.is_eq(&c(x))).collect::<Result<_, _>>()?;
		let kinds_sum = is.iter().fold(Fv::zero(), |acc, b| acc + field(b));
		kinds_sum.enforce_equal(&c(1))?; // the kind is defined
		let k = |x: u8| is[x as usize].clone();
		Ok(Kinds {
			noop: k(kind::NOOP),
			admit: k(kind::ADMIT_MEMBER),
			remove: k(kind::REMOVE_MEMBER),
			register: k(kind::REGISTER),
			credential: k(kind::CREDENTIAL_DOCTOR),
			revoke_cred: k(kind::REVOKE_CREDENTIAL),
			append: k(kind::APPEND_RECORD),
			grant_op: k(kind::GRANT_CONSENT),
			revoke: k(kind::REVOKE_CONSENT),
			access: k(kind::ACCESS_RECORD),
			emergency: k(kind::EMERGENCY_ACCESS),
			submit: k(kind::SUBMIT_CLAIM),
			decide: k(kind::DECIDE_CLAIM),
			is,
		})
	}
}

/// `rules::well_formed`: MalformedEncoding (every part of the encoding the kind does not use is
/// zero: one table, `layout::used`; kinds are exclusive, so "unused" is a sum of kind flags),
/// GovernanceOnly / NotAGovernanceOperation (governance kinds exactly when the origin is
/// governance; padding has user origin), and padding is all zeros.
fn well_formed(op: &Op, k: &Kinds) -> Result<(), SynthesisError> {
	let f1_parts: Vec<(u16, Fv)> = layout::F1_PARTS
		.iter()
		.map(|(bit, part)| Ok((*bit, num(op.bits(*part))?)))
		.collect::<Result<_, SynthesisError>>()?;
	let wide_parts = layout::WIDE_PARTS.iter().map(|(bit, i)| (*bit, op.f[*i].clone()));
	for (bit, value) in f1_parts.into_iter().chain(wide_parts) {
		let unused = (0..kind::COUNT)
			.filter(|&x| layout::used(x as u8) & bit == 0)
			.fold(Fv::zero(), |acc, x| acc + field(&k.is[x]));
		value.mul_equals(&unused, &Fv::zero())?;
	}
	(field(&k.admit) + field(&k.remove)).enforce_equal(&field(&op.governance))?;
	for x in &op.f {
		x.conditional_enforce_equal(&Fv::zero(), &k.noop)?;
	}
	op.block_field.conditional_enforce_equal(&Fv::zero(), &k.noop)
}

/// BlockDecreased: entries come in block order; padding keeps the last entry's block. Returns
/// the block the next slot starts from.
fn in_block_order(op: &Op, k: &Kinds, carry: &Carry) -> Result<Fv, SynthesisError> {
	require(&!&k.noop, &!less_than_32(&op.now, &carry.block)?)?;
	k.noop.select(&carry.block, &op.now)
}

/// What the kind says about the slot's leaves.
struct Shape {
	/// A registration or an admission: leaf 2 is created.
	creating: B,
	/// A user operation (not padding).
	user_op: B,
	/// Operations whose actor leaf must exist and sign with its own nonce.
	acting: B,
	/// The actor is leaf 1 for these (its nonce advances there).
	actor_is_1: B,
	/// Operations with the subject at `target`.
	subject_is_target: B,
}

impl Shape {
	fn of(op: &Op, k: &Kinds) -> Self {
		let Kinds { admit, register, credential, revoke_cred, append, revoke, access, .. } = k;
		let Kinds { emergency, submit, decide, .. } = k;
		let creating = admit | register;
		let user_op = &op.user & &!&k.noop;
		let acting = &user_op & &!register;
		let actor_is_1 =
			any(&[credential, revoke_cred, append, revoke, access, emergency, submit, decide]);
		let subject_is_target =
			any(&[credential, revoke_cred, append, access, emergency, submit, decide]);
		Shape { creating, user_op, acting, actor_is_1, subject_is_target }
	}
}

/// The two participant leaves: leaf 1 (the other party: the grantee of a grant, else the
/// actor) checked against the slot's root and updated (the actor's nonce), then leaf 2 (the
/// subject) checked against that root. A registration or admission creates leaf
/// `participants + 1` (ids in order); it names no actor (MalformedEncoding otherwise).
struct Leaves {
	l1: LeafVar,
	l2: LeafVar,
	i2_bits: Vec<B>,
}

fn leaves(
	cs: &ConstraintSystemRef<F>,
	w: &SlotWitness,
	op: &Op,
	k: &Kinds,
	shape: &Shape,
	carry: &Carry,
) -> Result<Leaves, SynthesisError> {
	let i1 = k.grant_op.select(&op.target, &op.actor)?;
	op.actor.mul_equals(&field(&shape.creating), &Fv::zero())?;
	let new_id = &carry.participants + c(1);
	let i2 =
		shape.creating.select(&new_id, &shape.subject_is_target.select(&op.target, &op.actor)?)?;
	let (i1_bits, _) = i1.to_bits_le_with_top_bits_zero(PARTICIPANT_DEPTH)?;
	let (i2_bits, _) = i2.to_bits_le_with_top_bits_zero(PARTICIPANT_DEPTH)?;

	let l1 = alloc_leaf(cs, &w.leaf1)?;
	merkle::root(&l1.value, &i1_bits, &l1.path)?.enforce_equal(&carry.root)?;
	let nonce1_new = &l1.nonce + field(&shape.actor_is_1);
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
	// Leaf 1 changes only when it is the actor (then it exists; checked in `actor`).
	let value1_new = shape.actor_is_1.select(&hash1_new, &l1.value)?;
	let root1 = merkle::root(&value1_new, &i1_bits, &l1.path)?;

	let l2 = alloc_leaf(cs, &w.leaf2)?;
	merkle::root(&l2.value, &i2_bits, &l2.path)?.enforce_equal(&root1)?;
	Ok(Leaves { l1, l2, i2_bits })
}

/// The actor's leaf (leaf 2 for a grant, leaf 1 otherwise) as `rules::authenticate` reads it.
struct Actor {
	key: PointVar,
	affiliation: Fv,
	emergency: Fv,
	aff_org: Fv,
	is_doctor: B,
}

/// `rules::authenticate`, the actor's part: UnknownActor, ActorInactive, BadNonce (the actor's
/// next nonce; registration and governance use 0), CounterOverflow (the advanced nonce still
/// fits 32 bits), and the role each kind needs (NotAHospital, NotAPatient, NotAnInsurer,
/// NotADoctor).
fn actor(op: &Op, k: &Kinds, shape: &Shape, leaves: &Leaves) -> Result<Actor, SynthesisError> {
	let Kinds { grant_op, credential, revoke_cred, revoke, submit, decide, emergency, .. } = k;
	let (l1, l2) = (&leaves.l1, &leaves.l2);
	let acting = &shape.acting;
	let a_role = grant_op.select(&l2.role, &l1.role)?;
	let a_active = grant_op.select(&l2.active, &l1.active)?;
	let a_nonce = grant_op.select(&l2.nonce, &l1.nonce)?;
	let key = grant_op.select(&l2.key, &l1.key)?;
	let affiliation = grant_op.select(&l2.affiliation, &l1.affiliation)?;
	let a_emergency = grant_op.select(&l2.emergency, &l1.emergency)?;
	let aff_org = grant_op.select(&l2.aff_org, &l1.aff_org)?;
	require(acting, &!&a_role.is_zero()?)?; // UnknownActor
	require(acting, &a_active)?; // ActorInactive
	let expected_nonce = acting.select(&a_nonce, &Fv::zero())?;
	op.nonce.enforce_equal(&expected_nonce)?;
	(&a_nonce + c(1))
		.to_bits_le_with_top_bits_zero(33)
		.and_then(|(bits, _)| bits[32].conditional_enforce_equal(&Boolean::FALSE, acting))?;
	let role_is = |r: u8| a_role.is_eq(&c(r as u64));
	require(&(credential | revoke_cred), &role_is(3)?)?; // NotAHospital
	require(&(grant_op | revoke), &role_is(1)?)?; // NotAPatient
	require(&(submit | decide), &role_is(4)?)?; // NotAnInsurer
	let is_doctor = role_is(2)?;
	require(emergency, &is_doctor)?; // NotADoctor
	Ok(Actor { key, affiliation, emergency: a_emergency, aff_org, is_doctor })
}

/// A registration's or admission's new participant: InvalidKey (the key is a subgroup point
/// equal to (f2, f3), allocation multiplies by the cofactor, and not the identity), IdCollision
/// (its slot is empty; IdOutOfRange is the 24-bit decomposition of its index in [`leaves`]) and
/// InvalidRole (governance admits roles 3..=6; a participant registers as 1 or 2). Returns the
/// new key and the participant count after the slot.
fn new_participant(
	cs: &ConstraintSystemRef<F>,
	w: &SlotWitness,
	op: &Op,
	k: &Kinds,
	shape: &Shape,
	l2: &LeafVar,
	carry: &Carry,
) -> Result<(PointVar, Fv), SynthesisError> {
	let (f, creating) = (&op.f, &shape.creating);
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
	new_key.x.conditional_enforce_equal(&f[2], creating)?;
	new_key.y.conditional_enforce_equal(&f[3], creating)?;
	require(creating, &!&new_key.x.is_zero()?)?;
	require(creating, &l2.empty)?;
	let participants =
		k.noop.select(&carry.participants, &(&carry.participants + field(creating)))?;
	let role5 = &f[5];
	let role_poly = (role5 - c(3)) * (role5 - c(4)) * (role5 - c(5)) * (role5 - c(6));
	role_poly.conditional_enforce_equal(&Fv::zero(), &k.admit)?;
	((role5 - c(1)) * (role5 - c(2))).conditional_enforce_equal(&Fv::zero(), &k.register)?;
	Ok((new_key, participants))
}

/// The signature's witnesses and the emergency joint key with its hash.
struct Sig {
	r: PointVar,
	s: Fv,
	joint: PointVar,
	joint_hash: Fv,
}

fn signature_witness(cs: &ConstraintSystemRef<F>, w: &SlotWitness) -> Result<Sig, SynthesisError> {
	let r = PointVar::new_witness(cs.clone(), || Ok::<EdwardsAffine, SynthesisError>(w.r))?;
	let s = Fv::new_witness(cs.clone(), || Ok(w.s))?;
	let joint = PointVar::new_variable_omit_prime_order_check(
		cs.clone(),
		|| Ok(w.joint_key.into()),
		AllocationMode::Witness,
	)?;
	let joint_hash = poseidon::hash(Domain::KeyHash, &[joint.x.clone(), joint.y.clone()])?;
	Ok(Sig { r, s, joint, joint_hash })
}

/// The organisation bit a slot reads, and the set and next index after it.
struct Orgs {
	admit_hospital: B,
	/// The bit read is set.
	live: B,
	/// The actor's credential, while its hospital is a member.
	credentialed: B,
	chunks: Vec<Fv>,
	next_org: Fv,
}

/// One bit of the organisation set is read (and maybe changed) per slot: an admitted
/// hospital's new index, a removed participant's own, the credentialed doctor's current
/// affiliation's, else the actor's affiliation's. TooManyOrganisations: an index is left; the
/// new index's bit is clear (it always is: a check, not an assumption).
fn organisations(
	cs: &ConstraintSystemRef<F>,
	op: &Op,
	k: &Kinds,
	l2: &LeafVar,
	actor: &Actor,
	carry: &Carry,
) -> Result<Orgs, SynthesisError> {
	let Kinds { admit, remove, credential, noop, .. } = k;
	let admit_hospital = admit & &op.f[5].is_eq(&c(Role::Hospital.code() as u64))?;
	let remove_hospital = remove & &l2.role.is_eq(&c(Role::Hospital.code() as u64))?;
	let idx = admit.select(
		&carry.next_org,
		&remove.select(&l2.org, &credential.select(&l2.aff_org, &actor.aff_org)?)?,
	)?;
	let (idx_bits, _) = idx.to_bits_le_with_top_bits_zero(8)?;
	let (live, chunks) = org_bit(cs, &carry.orgs, &idx_bits, &admit_hospital, &remove_hospital)?;
	require(&admit_hospital, &!&carry.next_org.is_eq(&c(MAX_ORGS as u64))?)?;
	require(&admit_hospital, &!&live)?;
	let next_org = noop.select(&carry.next_org, &(&carry.next_org + field(&admit_hospital)))?;
	let credentialed = &!&actor.affiliation.is_zero()? & &live;
	Ok(Orgs { admit_hospital, live, credentialed, chunks, next_org })
}

/// `rules::authenticate`, the signature: NotCredentialed (an emergency needs a pinned joint key
/// and a live affiliation, and is signed by the joint key), then MalformedSignature /
/// BadSignature: every user operation, and an admission (the admitted key's proof of
/// possession), is signed; a removal is not. Returns the message and whether it is signed.
#[allow(clippy::too_many_arguments)]
fn authenticate(
	op: &Op,
	k: &Kinds,
	shape: &Shape,
	actor: &Actor,
	sig: &Sig,
	orgs: &Orgs,
	new_key: &PointVar,
	deployment: &Fv,
) -> Result<(Fv, B), SynthesisError> {
	let emergency = &k.emergency;
	require(emergency, &!&actor.emergency.is_zero()?)?;
	require(emergency, &orgs.credentialed)?;
	sig.joint_hash.conditional_enforce_equal(&actor.emergency, emergency)?;
	let sig_key = emergency.select(&sig.joint, &shape.creating.select(new_key, &actor.key)?)?;
	let message = poseidon::hash(Domain::Operation, &op.f)?;
	let signed = &shape.user_op | &k.admit;
	schnorr::verify(&sig_key, &message, deployment, &sig.r, &sig.s, &signed)?;
	Ok((message, signed))
}

/// `rules::user_op`, the subject: UnknownPatient; CredentialDoctor and RevokeCredential (the
/// doctor exists, UnknownParticipant, and is a doctor, NotADoctor; a credential needs it active,
/// ParticipantInactive, and not yet credentialed, AlreadyCredentialed, where a credential of a
/// removed hospital has lapsed; a revocation, credentialed by this hospital, NotYourDoctor);
/// RemoveMember (exists and active); GrantConsent (the grantee, leaf 1, is registered and
/// active: GranteeNotRegistered). Returns whether the actor is the subject.
fn subject(op: &Op, k: &Kinds, leaves: &Leaves, orgs: &Orgs) -> Result<B, SynthesisError> {
	let Kinds { append, access, emergency, submit, decide, credential, revoke_cred, .. } = k;
	let Kinds { remove, grant_op, .. } = k;
	let (l1, l2) = (&leaves.l1, &leaves.l2);
	let subject_patient = &l2.role.is_eq(&c(1))? & &l2.active;
	require(&any(&[append, access, emergency, submit, decide]), &subject_patient)?; // UnknownPatient
	let self_op = op.actor.is_eq(&op.target)?;
	require(&(credential | revoke_cred), &l2.role.is_eq(&c(2))?)?;
	require(credential, &l2.active)?;
	require(credential, &(&l2.affiliation.is_zero()? | &!&orgs.live))?;
	require(revoke_cred, &l2.affiliation.is_eq(&op.actor)?)?;
	require(remove, &!&l2.empty)?;
	require(remove, &l2.active)?;
	require(grant_op, &(&!&l1.empty & &l1.active))?;
	Ok(self_op)
}

/// The permissions and purposes an operation names, and a decision's approve flag.
struct Params {
	perms: Fv,
	purposes: Fv,
	approve: B,
}

/// The parameters of a grant (InvalidPermissions, InvalidPurposes, InvalidScope) and its expiry
/// (ExpiryInPast); an access names exactly one purpose (InvalidPurposes); an emergency needs a
/// reason (ReasonMissing); a decision's code is the approve flag (0 or 1).
fn grant_parameters(op: &Op, k: &Kinds) -> Result<Params, SynthesisError> {
	let Kinds { grant_op, access, emergency, decide, .. } = k;
	let perm_bits = op.bits(layout::PERMISSIONS);
	let purpose_bits = op.bits(layout::PURPOSES);
	let code_bits = op.bits(layout::CODE);
	let perms = num(perm_bits)?;
	let purposes = num(purpose_bits)?;
	require(grant_op, &!&perms.is_zero()?)?;
	num(&perm_bits[3..])?.conditional_enforce_equal(&Fv::zero(), grant_op)?;
	require(grant_op, &!&purposes.is_zero()?)?;
	num(&purpose_bits[5..])?.conditional_enforce_equal(&Fv::zero(), &(grant_op | access))?;
	require(grant_op, &!&num(op.bits(layout::SCOPE))?.is_zero()?)?;
	require(grant_op, &less_than_32(&op.now, &op.expires)?)?;
	let purpose_count = purpose_bits.iter().fold(Fv::zero(), |acc, b| acc + field(b));
	purpose_count.conditional_enforce_equal(&c(1), access)?;
	require(emergency, &!&op.code.is_zero()?)?;
	num(&code_bits[1..])?.conditional_enforce_equal(&Fv::zero(), decide)?;
	Ok(Params { perms, purposes, approve: code_bits[0].clone() })
}

/// The grant slot the operation names, checked against leaf 2's consent root, and what
/// `rules::covers` says of it.
struct Slot {
	g: GrantVar,
	/// A grant or an emergency inserts a new grant.
	inserting: B,
	covers: B,
	status_open: B,
}

/// Allocates the grant slot (every kind that touches a grant names it) and computes
/// `covers(grant, actor, perm, purpose, scope, now)`; SlotTaken: a new grant takes an empty
/// slot, or one whose grant expired with no open claim.
#[allow(clippy::too_many_arguments)]
fn grant_slot(
	cs: &ConstraintSystemRef<F>,
	w: &SlotWitness,
	op: &Op,
	k: &Kinds,
	leaves: &Leaves,
	actor: &Actor,
	orgs: &Orgs,
) -> Result<Slot, SynthesisError> {
	let Kinds { grant_op, emergency, access, append, submit, .. } = k;
	let inserting = grant_op | emergency;
	let g = alloc_grant(cs, &w.grant)?;
	merkle::root(&g.value, op.grant_bits(), &g.path)?.enforce_equal(&leaves.l2.consent)?;

	let holder = g.grantee.is_eq(&op.actor)?
		| (&(&actor.is_doctor & &orgs.credentialed) & &g.grantee.is_eq(&actor.affiliation)?);
	let perm_ok = field(access) * field(&g.perm_bits[0])
		+ field(append) * field(&g.perm_bits[1])
		+ field(submit) * field(&g.perm_bits[2]);
	let perm_ok = perm_ok.is_eq(&field(&any(&[access, append, submit])))?;
	let purpose_bits = op.bits(layout::PURPOSES);
	let wanted_purposes: Vec<Fv> = (0..8)
		.map(|i| {
			let mut v = field(access) * field(&purpose_bits[i]);
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
	let scope_wanted: Vec<Fv> = op.bits(layout::SCOPE).iter().map(field).collect();
	let scope_violation = subset(&scope_wanted, &g.scope_bits)?;
	let scope_ok = access.select(&scope_violation, &Boolean::TRUE)?;
	let unexpired = less_than_32(&op.now, &g.expires)?;
	let covers =
		Boolean::kary_and(&[!&g.empty, holder, perm_ok, purpose_ok, scope_ok, unexpired.clone()])?;
	let status_open = g.status.is_eq(&c(1))?;
	require(&inserting, &(&g.empty | &(&!&unexpired & &!&status_open)))?;
	debug_assert_eq!(permission::ALL, 7);
	Ok(Slot { g, inserting, covers, status_open })
}

/// The outcome of an access and the money of a claim.
struct Claim {
	/// The access outcome the prover claims (checked equal to the rules').
	claimed: B,
	money: Fv,
}

/// `rules::user_op`, what each kind needs of the grant slot: AppendRecord (VersionMismatch, and
/// a WRITE grant unless the patient writes: NoWriteGrant); AccessRecord (the outcome the prover
/// claims is the one the rules give); RevokeConsent (GrantNotFound); SubmitClaim (a CLAIM grant,
/// NoClaimGrant; no open claim, ClaimAlreadyOpen; a positive amount that fits 64 bits,
/// ZeroAmount); DecideClaim (an open claim, ClaimNotOpen, of this insurer, NotYourClaim, settled
/// within the claim and zero on rejection, SettlementExceedsClaim).
fn consent_rules(
	cs: &ConstraintSystemRef<F>,
	w: &SlotWitness,
	op: &Op,
	k: &Kinds,
	l2: &LeafVar,
	slot: &Slot,
	self_op: B,
) -> Result<Claim, SynthesisError> {
	let Kinds { append, access, revoke, submit, decide, .. } = k;
	let (g, covers) = (&slot.g, &slot.covers);
	op.version.conditional_enforce_equal(&l2.version, append)?;
	require(&(append & &!&self_op), covers)?;
	let granted = &self_op | covers;
	let claimed = Boolean::new_witness(cs.clone(), || Ok(w.granted))?;
	claimed.conditional_enforce_equal(&granted, access)?;
	require(revoke, &!&g.empty)?;
	require(submit, covers)?;
	require(submit, &!&slot.status_open)?;
	let claim_money = (submit | decide).select(&op.f[3], &Fv::zero())?;
	let (money_bits, _) = claim_money.to_bits_le_with_top_bits_zero(64)?;
	let money = num(&money_bits)?;
	require(submit, &!&money.is_zero()?)?;
	require(decide, &!&g.empty)?;
	require(decide, &g.grantee.is_eq(&op.actor)?)?;
	require(decide, &slot.status_open)?;
	Ok(Claim { claimed, money })
}

/// The grant slot's new value: a new grant or emergency grant, a claim's status and amounts, a
/// revocation's empty slot, or unchanged; CounterOverflow for the emergency expiry. Returns the
/// consent root after it.
fn new_grant(
	op: &Op,
	k: &Kinds,
	slot: &Slot,
	params: &Params,
	claim: &Claim,
) -> Result<Fv, SynthesisError> {
	let Kinds { grant_op, emergency, submit, decide, revoke, .. } = k;
	let (g, money, approve) = (&slot.g, &claim.money, &params.approve);
	let limit = approve.select(&g.amount, &Fv::zero())?;
	let headroom = decide.select(&(&limit - money), &Fv::zero())?;
	let _ = headroom.to_bits_le_with_top_bits_zero(64)?;

	let emergency_expiry = &op.now + c(EMERGENCY_WINDOW as u64);
	let exp_sel = emergency.select(&emergency_expiry, &Fv::zero())?;
	let _ = exp_sel.to_bits_le_with_top_bits_zero(32)?;
	let inserted_packed = grant_op.select(
		&pack_grant(
			&op.target,
			&params.perms,
			&params.purposes,
			&num(op.bits(layout::SCOPE))?,
			&op.expires,
			&c(1),
			&c(0),
		),
		&pack_grant(
			&op.actor,
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
	let claim_packed = &old_packed + (&new_status - &g.status) * two_pow(gl::CLAIM_STATUS.0 as u64);
	let claim_record = submit.select(&op.f[2], &g.record)?;
	let claim_amount = submit.select(money, &g.amount)?;
	let claim_settled = submit.select(&Fv::zero(), money)?;
	let claim_amounts = &claim_amount + &claim_settled * two_pow(amounts::SETTLED.0 as u64);
	// One hash for whichever new value the slot takes.
	let inserting = &slot.inserting;
	let new_packed = inserting.select(&inserted_packed, &claim_packed)?;
	let new_record = inserting.select(&Fv::zero(), &claim_record)?;
	let new_amounts = inserting.select(&Fv::zero(), &claim_amounts)?;
	let new_leaf = grant_hash(&new_packed, &new_record, &new_amounts)?;
	let g_new = revoke
		.select(&Fv::zero(), &any(&[inserting, submit, decide]).select(&new_leaf, &g.value)?)?;
	merkle::root(&g_new, op.grant_bits(), &g.path)
}

/// Leaf 2 after the slot: created (registration, admission), credentialed or not, its nonce,
/// index version (CounterOverflow: both still fit), index head, consent root and access log
/// (every logged kind links `Poseidon(AccessLog, [log, message, now + 2^32·outcome])`).
/// Returns the participant root after the slot.
#[allow(clippy::too_many_arguments)]
fn new_subject_leaf(
	op: &Op,
	k: &Kinds,
	shape: &Shape,
	leaves: &Leaves,
	actor: &Actor,
	orgs: &Orgs,
	new_key: &PointVar,
	consent_new: Fv,
	claim: &Claim,
	message: &Fv,
	carry: &Carry,
) -> Result<Fv, SynthesisError> {
	let Kinds { remove, register, grant_op, append, credential, revoke_cred, access, .. } = k;
	let Kinds { revoke, emergency, submit, decide, .. } = k;
	let (f, creating, l1, l2) = (&op.f, &shape.creating, &leaves.l1, &leaves.l2);
	let role2 = creating.select(&f[5], &l2.role)?;
	let active2 = creating.select(&Boolean::TRUE, &(&l2.active & &!remove))?;
	let nonce2 = creating.select(&field(register), &(&l2.nonce + field(grant_op)))?;
	let version2 = creating.select(&Fv::zero(), &(&l2.version + field(append)))?;
	let (_, _) = (&nonce2 * field(grant_op)).to_bits_le_with_top_bits_zero(32)?;
	let (_, _) = (&version2 * field(append)).to_bits_le_with_top_bits_zero(32)?;
	let affiliation2 = creating.select(
		&Fv::zero(),
		&credential.select(&op.actor, &revoke_cred.select(&Fv::zero(), &l2.affiliation)?)?,
	)?;
	let aff_org2 = creating.select(
		&Fv::zero(),
		&credential.select(&l1.org, &revoke_cred.select(&Fv::zero(), &l2.aff_org)?)?,
	)?;
	let org2 =
		creating.select(&orgs.admit_hospital.select(&carry.next_org, &Fv::zero())?, &l2.org)?;
	// A created leaf's key is the new key: the builder puts it into the (otherwise free) fields
	// of the empty old leaf, so the key's sponge prefix is shared.
	l2.key.x.conditional_enforce_equal(&new_key.x, creating)?;
	l2.key.y.conditional_enforce_equal(&new_key.y, creating)?;
	let enc2 = creating.select(&f[4], &l2.enc)?;
	// The doctor's registered key (proven at registration) plus the hospital's.
	let joint_new = &l2.key + &actor.key;
	// InvalidKey: the doctor's key must not cancel the hospital's (identity joint key).
	require(credential, &!&joint_new.x.is_zero()?)?;
	let pinned = poseidon::hash(Domain::KeyHash, &[joint_new.x.clone(), joint_new.y.clone()])?;
	let emergency2 = credential
		.select(&pinned, &(creating | revoke_cred).select(&Fv::zero(), &l2.emergency)?)?;
	let head2 = creating.select(&Fv::zero(), &append.select(&f[2], &l2.head)?)?;
	let consent2 = creating.select(&Fv::constant(empty_consent_root()), &consent_new)?;
	let logged = any(&[append, grant_op, revoke, access, emergency, submit, decide]);
	let outcome = access.select(&claim.claimed.select(&c(1), &c(2))?, &Fv::zero())?;
	let link = poseidon::hash(
		Domain::AccessLog,
		&[l2.log.clone(), message.clone(), &op.now + &outcome * two_pow(32)],
	)?;
	let log2 = creating.select(&Fv::zero(), &logged.select(&link, &l2.log)?)?;
	let packed2 =
		pack_leaf(&role2, &field(&active2), &nonce2, &version2, &affiliation2, &aff_org2, &org2);
	let value2 = leaf_hash(&l2.key, &enc2, &emergency2, &head2, &consent2, &log2, &packed2)?;
	merkle::root(&value2, &leaves.i2_bits, &l2.path)
}

/// The inbox chain after the slot: the entry's hash (message, signature, block field) linked to
/// the chain, unless padding. An unsigned entry carries a zero signature.
fn inbox_chain(
	op: &Op,
	k: &Kinds,
	sig: &Sig,
	message: Fv,
	signed: &B,
	chain_in: &Fv,
) -> Result<Fv, SynthesisError> {
	let rx = signed.select(&sig.r.x, &Fv::zero())?;
	let ry = signed.select(&sig.r.y, &Fv::zero())?;
	sig.s.conditional_enforce_equal(&Fv::zero(), &!signed)?;
	let entry = poseidon::hash(
		Domain::InboxEntry,
		&[message, rx, ry, sig.s.clone(), op.block_field.clone()],
	)?;
	let linked = poseidon::hash(Domain::InboxChain, &[chain_in.clone(), entry])?;
	k.noop.select(chain_in, &linked)
}
