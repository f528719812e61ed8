//! Settlement on a real Ethereum node (anvil, Prague): the contracts of `contracts/` driven
//! through `emr_settlement::l1` with real Groth16 proofs of small batches and BEEFY commitments
//! signed with secp256k1 keys.
//!
//! `EMR_ANVIL_LOG=1` prints anvil's log (with `--nocapture`).
//!
//! Needs anvil: `scripts/l1.sh install` puts it under `~/.cache/emr-chain/npm-l1`, or set
//! `EMR_ANVIL` to a binary. Without it these tests fail (they do not skip). Each test starts
//! its own anvil on a free port and deploys fresh contracts.
//!
//! `cargo test --release -p emr-prover --test settlement -- --ignored --nocapture gas_report`
//! prints the gas of every operation.

use emr_circuit::{groth16, witness};
use emr_primitives::{
	inbox::{InboxEntry, PublicInputs},
	ops::{permission, purpose, scope, Operation, Role},
	settlement::{digest, keccak256},
	testing::Actor,
};
use emr_settlement::{
	beefy::{self, Commitment, LeafProof, MmrLeaf, MMR_ROOT_ID},
	l1::{
		self, g1_to_eip2537, le_to_u256, proof_to_eip2537, u256_to_le, Address, BatchInputs,
		L1Error, RollupConfig, ValidatorSet, L1,
	},
};
use emr_state_store::Store;
use k256::ecdsa::SigningKey;
use rand_core::SeedableRng;
use std::{
	process::{Child, Command, Stdio},
	sync::OnceLock,
	time::{Duration, Instant},
};

const SLOTS: usize = 2;
/// anvil's first two development accounts (mnemonic "test test … junk").
const DEPLOYER: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const OTHER: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// The BLS12-381 scalar field order.
const R: &str = "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001";

// ---------------------------------------------------------------------------------------------
// anvil

struct Anvil {
	child: Child,
	url: String,
}

impl Drop for Anvil {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

fn start_anvil() -> Anvil {
	let binary = l1::anvil_binary();
	assert!(
		binary.exists(),
		"anvil not found at {}: run `scripts/l1.sh install` (or set EMR_ANVIL)",
		binary.display()
	);
	// Port 0: anvil binds a free port itself and prints it (no race between parallel tests).
	let mut child = Command::new(&binary)
		.args(["--host", "127.0.0.1", "--port", "0", "--hardfork", "prague", "--chain-id", "31337"])
		.args(["--mnemonic", "test test test test test test test test test test test junk"])
		.stdout(Stdio::piped())
		.stderr(Stdio::null())
		.spawn()
		.expect("anvil starts");
	let stdout = child.stdout.take().expect("piped stdout");
	let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
	let port = loop {
		let line = lines
			.next()
			.expect("anvil printed its address before exiting")
			.expect("anvil's output is text");
		if let Some(address) = line.strip_prefix("Listening on ") {
			break address.rsplit(':').next().expect("host:port").trim().to_string();
		}
	};
	// Keep draining anvil's output so that it never blocks on a full pipe.
	std::thread::spawn(move || {
		let show = std::env::var_os("EMR_ANVIL_LOG").is_some();
		for line in lines.map_while(Result::ok) {
			if show {
				eprintln!("anvil: {line}");
			}
		}
	});
	let anvil = Anvil { child, url: format!("http://127.0.0.1:{port}") };
	let client = client(&anvil, DEPLOYER);
	let start = Instant::now();
	while client.chain_id().is_err() {
		assert!(start.elapsed() < Duration::from_secs(30), "anvil did not answer in 30 s");
		std::thread::sleep(Duration::from_millis(50));
	}
	anvil
}

fn client(anvil: &Anvil, key: &str) -> L1 {
	let key: [u8; 32] = hex::decode(key).expect("hex").try_into().expect("32 bytes");
	L1::with_key(&anvil.url, &key).expect("a client")
}

// ---------------------------------------------------------------------------------------------
// Proofs (made once per test binary)

struct Proven {
	vk: Vec<u8>,
	p1: PublicInputs,
	proof1: Vec<u8>,
	p2: PublicInputs,
	proof2: Vec<u8>,
}

fn batches() -> (Vec<InboxEntry>, Vec<InboxEntry>) {
	let hospital = Actor::new(1, 1);
	let mut patient = Actor::new(2, 2);
	let b1 = vec![hospital.admit(Role::Hospital, 1), patient.register(1)];
	let mut hospital = hospital;
	let b2 = vec![
		patient.sign(
			Operation::GrantConsent {
				grantee: hospital.id,
				permissions: permission::READ,
				purposes: purpose::TREATMENT,
				scope: scope::ALL,
				expires_at: 50,
				slot: 0,
			},
			2,
		),
		hospital.sign(
			Operation::AccessRecord {
				patient: patient.id,
				grant: 0,
				purpose: purpose::TREATMENT,
				scope: 1,
			},
			2,
		),
	];
	(b1, b2)
}

fn proven() -> &'static Proven {
	static PROVEN: OnceLock<Proven> = OnceLock::new();
	PROVEN.get_or_init(|| {
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
		let (pk, vk) = groth16::setup(SLOTS, &mut rng).expect("setup");
		let dir = tempfile::tempdir().expect("tempdir");
		let mut store =
			Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
				.expect("open");
		let (b1, b2) = batches();
		let (w1, p1, _) = witness::build(&mut store, 1, &b1, SLOTS).expect("witness 1");
		let proof1 = groth16::prove(&pk, w1, p1, &mut rng).expect("prove 1");
		store.commit(1).expect("commit");
		let (w2, p2, _) = witness::build(&mut store, 2, &b2, SLOTS).expect("witness 2");
		let proof2 = groth16::prove(&pk, w2, p2, &mut rng).expect("prove 2");
		Proven {
			vk: groth16::to_bytes(&vk),
			p1,
			proof1: groth16::to_bytes(&proof1),
			p2,
			proof2: groth16::to_bytes(&proof2),
		}
	})
}

// ---------------------------------------------------------------------------------------------
// BEEFY and the MMR

fn key(seed: u8) -> SigningKey {
	SigningKey::from_slice(&[seed; 32]).expect("a valid scalar")
}

fn address(key: &SigningKey) -> beefy::Address {
	beefy::eth_address(key.verifying_key().to_encoded_point(true).as_bytes()).expect("a key")
}

fn sign(key: &SigningKey, message: &[u8; 32]) -> [u8; 65] {
	let (sig, id) = key.sign_prehash_recoverable(message).expect("signing works");
	let mut out = [0u8; 65];
	out[..64].copy_from_slice(&sig.to_bytes());
	out[64] = id.to_byte();
	out
}

/// A validator set: keys seeded `first..first + n`.
struct Set {
	id: u64,
	keys: Vec<SigningKey>,
	addresses: Vec<beefy::Address>,
}

impl Set {
	fn new(id: u64, first: u8, n: u8) -> Self {
		let keys: Vec<_> = (first..first + n).map(key).collect();
		let addresses = keys.iter().map(address).collect();
		Set { id, keys, addresses }
	}

	fn onchain(&self) -> ValidatorSet {
		ValidatorSet::of(self.id, &self.addresses)
	}

	/// The commitment to `mmr_root` at `block`, signed by the first `signers` validators.
	fn sign(
		&self,
		mmr_root: [u8; 32],
		block: u32,
		signers: usize,
	) -> (Commitment, Vec<Option<[u8; 65]>>) {
		let commitment = Commitment {
			payload: vec![(MMR_ROOT_ID, mmr_root.to_vec())],
			block_number: block,
			validator_set_id: self.id,
		};
		let message = commitment.hash();
		let sigs = self
			.keys
			.iter()
			.enumerate()
			.map(|(i, k)| (i < signers).then(|| sign(k, &message)))
			.collect();
		(commitment, sigs)
	}
}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
	let mut both = [0u8; 64];
	both[..32].copy_from_slice(left);
	both[32..].copy_from_slice(right);
	keccak256(&both)
}

fn tree(nodes: &[[u8; 32]]) -> [u8; 32] {
	let mut row = nodes.to_vec();
	while row.len() > 1 {
		row = row.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
	}
	row[0]
}

fn bag(peaks: &[[u8; 32]]) -> [u8; 32] {
	let mut iter = peaks.iter().rev();
	let mut bag = *iter.next().expect("a peak");
	for peak in iter {
		bag = hash_pair(&bag, peak);
	}
	bag
}

/// The root of the MMR of `leaves` (nodes) and the proof of the leaf at `index`, built
/// independently of `beefy::mmr_root` (and checked against it).
fn mmr(leaves: &[[u8; 32]], index: usize) -> ([u8; 32], LeafProof) {
	let count = leaves.len();
	let mut peaks = Vec::new();
	let mut items = Vec::new();
	let mut start = 0;
	let mut leaf_peak = 0;
	for height in (0..usize::BITS).rev() {
		let size = 1usize << height;
		if count & size == 0 {
			continue;
		}
		let range = &leaves[start..start + size];
		if (start..start + size).contains(&index) {
			leaf_peak = peaks.len();
			let mut row = range.to_vec();
			let mut position = index - start;
			while row.len() > 1 {
				items.push(row[position ^ 1]);
				row = row.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
				position /= 2;
			}
		}
		peaks.push(tree(range));
		start += size;
	}
	let mut proof_items: Vec<[u8; 32]> = peaks[..leaf_peak].to_vec();
	proof_items.extend(items);
	if leaf_peak + 1 < peaks.len() {
		proof_items.push(bag(&peaks[leaf_peak + 1..]));
	}
	let root = bag(&peaks);
	assert_eq!(
		beefy::mmr_root(leaves[index], index as u64, count as u64, &proof_items),
		Ok(root),
		"the test's MMR agrees with the reference"
	);
	(
		root,
		LeafProof {
			leaf_indices: vec![index as u64],
			leaf_count: count as u64,
			items: proof_items,
		},
	)
}

fn leaf(extra: [u8; 32], next: &Set) -> MmrLeaf {
	MmrLeaf {
		version: 0,
		parent_number: 41,
		parent_hash: [0x11; 32],
		next_set_id: next.id,
		next_set_len: next.addresses.len() as u32,
		next_set_root: beefy::set_root(&next.addresses),
		extra,
	}
}

/// An MMR of `count` leaves with `leaf` at `index` (the others filler): root and proof.
fn mmr_with(leaf: &MmrLeaf, index: usize, count: usize, salt: u8) -> ([u8; 32], LeafProof) {
	let nodes: Vec<[u8; 32]> = (0..count)
		.map(|i| if i == index { leaf.hash() } else { keccak256(&[salt, i as u8]) })
		.collect();
	mmr(&nodes, index)
}

fn digest_of(p: &PublicInputs) -> [u8; 32] {
	let [_, new_root, commitment, _] = p.to_bytes();
	digest(p.batch, &new_root, &commitment)
}

// ---------------------------------------------------------------------------------------------
// A deployed settlement with batch 1's digest in a signed MMR root

struct Settlement {
	anvil: Anvil,
	l1: L1,
	beefy: Address,
	rollup: Address,
	current: Set,
	next: Set,
	/// The leaf carrying batch 1's digest, its proof and the (signed) root.
	leaf: MmrLeaf,
	leaf_proof: LeafProof,
	mmr_root: [u8; 32],
}

impl Settlement {
	/// Deploys the light client (sets 0 and 1) and the rollup (first batch 1), and (if `sign`)
	/// has set 0 sign an MMR root whose leaf 3 of 5 carries batch 1's digest.
	fn new(sign: bool) -> Self {
		let proven = proven();
		let anvil = start_anvil();
		let l1 = client(&anvil, DEPLOYER);
		let current = Set::new(0, 1, 4);
		let next = Set::new(1, 11, 4);
		let beefy = l1
			.deploy_beefy_client(current.onchain(), next.onchain())
			.expect("deploy client")
			.address;
		let rollup = l1
			.deploy_rollup(&RollupConfig {
				light_client: beefy,
				vk: proven.vk.clone(),
				governor: l1.sender(),
				first_batch: 1,
				initial_root: proven.p1.to_bytes()[0],
			})
			.expect("deploy rollup")
			.address;
		let leaf = leaf(digest_of(&proven.p1), &next);
		let (mmr_root, leaf_proof) = mmr_with(&leaf, 3, 5, 0);
		let s = Settlement { anvil, l1, beefy, rollup, current, next, leaf, leaf_proof, mmr_root };
		if sign {
			let (c, sigs) = s.current.sign(mmr_root, 42, 3);
			s.l1.light_client(beefy)
				.submit_commitment(&c, &sigs, &s.current.addresses, None)
				.expect("commitment");
		}
		s
	}

	fn submit(&self, inputs: &BatchInputs, proof: &[u8]) -> Result<l1::TxOutcome, L1Error> {
		self.l1.rollup(self.rollup).submit_batch(
			inputs,
			proof,
			&self.leaf,
			&self.leaf_proof,
			&self.mmr_root,
		)
	}

	fn submit_raw(&self, inputs: &BatchInputs, proof: &[u8]) -> Result<l1::TxOutcome, L1Error> {
		self.l1.rollup(self.rollup).submit_batch_eip2537(
			inputs,
			proof,
			&self.leaf,
			&self.leaf_proof,
			&self.mmr_root,
		)
	}

	/// The rollup still expects batch `next` on `root`.
	fn assert_state(&self, next: u64, root: [u8; 32]) {
		let rollup = self.l1.rollup(self.rollup);
		assert_eq!(rollup.next_batch().expect("nextBatch"), next);
		assert_eq!(rollup.latest_root().expect("latestRoot"), root);
	}

	fn assert_unchanged(&self) {
		self.assert_state(1, proven().p1.to_bytes()[0]);
	}
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, L1Error>, name: &str) {
	match result {
		Err(e @ L1Error::Refused { .. }) => {
			assert_eq!(e.refusal(), Some(name), "refused with another error: {e}");
			assert!(!e.is_retryable());
		},
		other => panic!("expected the contract to refuse with {name}, got {other:?}"),
	}
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn a_valid_batch_settles_once() {
	let s = Settlement::new(true);
	let proven = proven();
	let rollup = s.l1.rollup(s.rollup);
	assert_eq!(rollup.governor().expect("governor"), s.l1.sender());
	let outcome =
		s.submit(&BatchInputs::from(&proven.p1), &proven.proof1).expect("batch 1 settles");
	println!("submitBatch gas: {}", outcome.gas_used);
	s.assert_state(2, proven.p1.to_bytes()[1]);
	let settled = rollup.find_settled(1, 0).expect("logs").expect("BatchSettled of batch 1");
	assert_eq!((settled.block, settled.tx_hash), (outcome.block, outcome.tx_hash));
	assert_eq!(settled.new_root, proven.p1.to_bytes()[1]);
	assert_eq!(settled.inbox_commitment, proven.p1.to_bytes()[2]);
	assert_eq!(rollup.find_settled(2, 0).expect("logs"), None, "batch 2 is not settled");
	let confirmed =
		s.l1.wait_confirmations(&outcome, 1, Duration::from_secs(10)).expect("in the head block");
	assert_eq!(confirmed, outcome);
	// anvil mines only on demand: a third confirmation does not come yet (retryable).
	let early = s.l1.wait_confirmations(&outcome, 3, Duration::from_millis(300));
	assert!(matches!(&early, Err(e) if e.is_retryable()), "{early:?}");

	// Replayed: the same batch again is refused and changes nothing.
	assert_refused(s.submit(&BatchInputs::from(&proven.p1), &proven.proof1), "UnexpectedBatch");
	s.assert_state(2, proven.p1.to_bytes()[1]);

	// Batch 2 follows from batch 1's root once its digest is signed.
	let leaf2 = leaf(digest_of(&proven.p2), &s.next);
	let (root2, proof2) = mmr_with(&leaf2, 6, 7, 1);
	let (c, sigs) = s.current.sign(root2, 50, 4);
	s.l1.light_client(s.beefy)
		.submit_commitment(&c, &sigs, &s.current.addresses, None)
		.expect("commitment");
	rollup
		.submit_batch(&BatchInputs::from(&proven.p2), &proven.proof2, &leaf2, &proof2, &root2)
		.expect("batch 2 settles");
	s.assert_state(3, proven.p2.to_bytes()[1]);
	// Two blocks later, batch 1's settlement has three confirmations.
	s.l1.wait_confirmations(&outcome, 3, Duration::from_secs(10)).expect("three confirmations");
	assert!(rollup.find_settled(2, outcome.block + 1).expect("logs").is_some());
	assert_eq!(
		rollup.find_settled(1, outcome.block + 1).expect("logs"),
		None,
		"from a later block"
	);
}

#[test]
fn tampered_proofs_are_refused() {
	let s = Settlement::new(true);
	let proven = proven();
	let inputs = BatchInputs::from(&proven.p1);
	// A byte flipped in the stored (compressed) proof: the relayer's own check refuses it.
	let mut compressed = proven.proof1.clone();
	compressed[20] ^= 1;
	assert!(matches!(s.submit(&inputs, &compressed), Err(L1Error::Invalid(_))));
	// The same flip sent as it is: a point off the curve, the pairing precompile refuses it.
	let good = proof_to_eip2537(&proven.proof1).expect("a valid proof");
	let mut flipped = good;
	flipped[100] ^= 1;
	assert_refused(s.submit_raw(&inputs, &flipped), "InvalidProofPoint");
	// Valid points, wrong proof: −A.
	let proof: ark_groth16::Proof<ark_bls12_381::Bls12_381> =
		groth16::from_bytes("proof", &proven.proof1).expect("proof");
	let mut negated = good;
	negated[..128].copy_from_slice(&g1_to_eip2537(&-proof.a));
	assert_refused(s.submit_raw(&inputs, &negated), "ProofRejected");
	// Another batch's proof.
	assert_refused(s.submit(&inputs, &proven.proof2), "ProofRejected");
	// Truncated.
	assert_refused(s.submit_raw(&inputs, &good[..511]), "MalformedProof");
	s.assert_unchanged();
	// The untampered proof still settles.
	s.submit(&inputs, &proven.proof1).expect("the real proof settles");
}

#[test]
fn a_proof_point_off_the_curve_is_refused() {
	let s = Settlement::new(true);
	let proven = proven();
	let mut proof = proof_to_eip2537(&proven.proof1).expect("a valid proof");
	// A = (1, 1): 1 ≠ 1³ + 4.
	proof[..128].fill(0);
	proof[63] = 1;
	proof[127] = 1;
	assert_refused(s.submit_raw(&BatchInputs::from(&proven.p1), &proof), "InvalidProofPoint");
	s.assert_unchanged();
}

#[test]
fn a_proof_point_outside_the_subgroup_is_refused() {
	use ark_bls12_381::{Fq, G1Affine};
	use ark_ff::UniformRand;
	let s = Settlement::new(true);
	let proven = proven();
	let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
	let outside = loop {
		if let Some(p) = G1Affine::get_point_from_x_unchecked(Fq::rand(&mut rng), true) {
			if p.is_on_curve() && !p.is_in_correct_subgroup_assuming_on_curve() {
				break p;
			}
		}
	};
	let mut proof = proof_to_eip2537(&proven.proof1).expect("a valid proof");
	proof[384..].copy_from_slice(&g1_to_eip2537(&outside));
	assert_refused(s.submit_raw(&BatchInputs::from(&proven.p1), &proof), "InvalidProofPoint");
	s.assert_unchanged();
}

#[test]
fn wrong_old_root_skipped_batch_and_inputs_outside_the_field_are_refused() {
	let s = Settlement::new(true);
	let proven = proven();
	let good = BatchInputs::from(&proven.p1);
	// Batch 2 before batch 1.
	assert_refused(s.submit(&BatchInputs::from(&proven.p2), &proven.proof2), "UnexpectedBatch");
	// Batch 1 from another root.
	let wrong_old = BatchInputs { old_root: good.new_root, ..good };
	assert_refused(s.submit(&wrong_old, &proven.proof1), "OldRootMismatch");
	// The commitment plus r: the same value modulo r, refused, not reduced.
	let r = alloy::primitives::U256::from_str_radix(R, 16).expect("r");
	let aliased = BatchInputs {
		inbox_commitment: u256_to_le(le_to_u256(&good.inbox_commitment) + r),
		..good
	};
	assert_refused(s.submit(&aliased, &proven.proof1), "PublicInputNotInField");
	let big_root = BatchInputs { new_root: [0xff; 32], ..good };
	assert_refused(s.submit(&big_root, &proven.proof1), "PublicInputNotInField");
	s.assert_unchanged();
}

#[test]
fn a_digest_outside_the_signed_mmr_is_refused() {
	// Nothing signed yet: the root is unknown.
	let s = Settlement::new(false);
	let proven = proven();
	let inputs = BatchInputs::from(&proven.p1);
	assert_refused(s.submit(&inputs, &proven.proof1), "UnknownMmrRoot");
	// A signed MMR in which the digest leaf is not: the proof leads elsewhere.
	let other = leaf([0x22; 32], &s.next);
	let (signed_root, _) = mmr_with(&other, 3, 5, 0);
	let (c, sigs) = s.current.sign(signed_root, 42, 3);
	s.l1.light_client(s.beefy)
		.submit_commitment(&c, &sigs, &s.current.addresses, None)
		.expect("commitment");
	let rollup = s.l1.rollup(s.rollup);
	assert_refused(
		rollup.submit_batch(&inputs, &proven.proof1, &s.leaf, &s.leaf_proof, &signed_root),
		"LeafNotInMmr",
	);
	// A leaf in the signed MMR, but with another digest.
	let (_, other_proof) = mmr_with(&other, 3, 5, 0);
	assert_refused(
		rollup.submit_batch(&inputs, &proven.proof1, &other, &other_proof, &signed_root),
		"DigestMismatch",
	);
	s.assert_unchanged();
}

#[test]
fn commitments_need_more_than_two_thirds_of_the_set() {
	let s = Settlement::new(false);
	let client = s.l1.light_client(s.beefy);
	let (c, sigs) = s.current.sign(s.mmr_root, 42, 2);
	assert_refused(
		client.submit_commitment(&c, &sigs, &s.current.addresses, None),
		"TooFewSignatures",
	);
	// A slot signed by someone outside the set.
	let (c, mut sigs) = s.current.sign(s.mmr_root, 42, 4);
	sigs[2] = Some(sign(&key(99), &c.hash()));
	assert_refused(
		client.submit_commitment(&c, &sigs, &s.current.addresses, None),
		"InvalidSignature",
	);
	// Another list of addresses than the set's.
	let mut addresses = s.current.addresses.clone();
	addresses[0] = address(&key(99));
	let (c, sigs) = s.current.sign(s.mmr_root, 42, 4);
	assert_refused(client.submit_commitment(&c, &sigs, &addresses, None), "ValidatorSetMismatch");
	// A malleated signature (s in the upper half) of a real validator.
	let (c, mut sigs) = s.current.sign(s.mmr_root, 42, 4);
	sigs[0] = Some(malleate(&sigs[0].expect("signed")));
	assert_refused(
		client.submit_commitment(&c, &sigs, &s.current.addresses, None),
		"InvalidSignature",
	);
	assert_eq!(client.latest_block().expect("latestBlock"), 0);
	assert!(!client.is_known_root(&s.mmr_root).expect("isKnownRoot"));
	// Three of four, with v as 27/28 (Ethereum style): accepted.
	let (c, mut sigs) = s.current.sign(s.mmr_root, 42, 3);
	for sig in sigs.iter_mut().flatten() {
		sig[64] += 27;
	}
	let outcome =
		client.submit_commitment(&c, &sigs, &s.current.addresses, None).expect("accepted");
	println!("submitCommitment gas (4 validators, 3 signatures): {}", outcome.gas_used);
	assert_eq!(client.latest_block().expect("latestBlock"), 42);
	assert_eq!(client.latest_mmr_root().expect("latestMmrRoot"), s.mmr_root);
	assert!(client.is_known_root(&s.mmr_root).expect("isKnownRoot"));
	// Not newer than the latest: refused.
	let (c, sigs) = s.current.sign([5; 32], 42, 4);
	assert_refused(
		client.submit_commitment(&c, &sigs, &s.current.addresses, None),
		"StaleCommitment",
	);
}

fn malleate(sig: &[u8; 65]) -> [u8; 65] {
	let parsed = k256::ecdsa::Signature::from_slice(&sig[..64]).expect("valid");
	let (r, s) = parsed.split_scalars();
	let high = k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).expect("valid");
	let mut out = [0u8; 65];
	out[..64].copy_from_slice(&high.to_bytes());
	out[64] = sig[64] ^ 1;
	out
}

#[test]
fn the_next_set_takes_over_and_unknown_sets_are_refused() {
	let s = Settlement::new(false);
	let client = s.l1.light_client(s.beefy);
	let after = Set::new(2, 21, 5);
	// Set 1 signs a root whose leaf announces set 2.
	let handoff_leaf = leaf([0; 32], &after);
	let (root, proof) = mmr_with(&handoff_leaf, 2, 3, 4);
	let (c, sigs) = s.next.sign(root, 60, 3);
	// Without the leaf, or with a leaf that announces another set, it is refused.
	let wrong_leaf = leaf([0; 32], &Set::new(7, 21, 5));
	let (wrong_root, wrong_proof) = mmr_with(&wrong_leaf, 2, 3, 4);
	let (wc, wsigs) = s.next.sign(wrong_root, 60, 3);
	assert_refused(
		client.submit_commitment(&wc, &wsigs, &s.next.addresses, Some((&wrong_leaf, &wrong_proof))),
		"HandoffLeafMismatch",
	);
	assert_refused(
		client.submit_commitment(&c, &sigs, &s.next.addresses, Some((&wrong_leaf, &proof))),
		"LeafNotInMmr",
	);
	assert_eq!(client.current_set().expect("currentSet"), s.current.onchain());
	let outcome = client
		.submit_commitment(&c, &sigs, &s.next.addresses, Some((&handoff_leaf, &proof)))
		.expect("the handoff is accepted");
	println!("submitCommitment gas (handoff, 4 validators, 3 signatures): {}", outcome.gas_used);
	assert_eq!(client.current_set().expect("currentSet"), s.next.onchain());
	assert_eq!(client.next_set().expect("nextSet"), after.onchain());
	// The old set is no longer trusted, nor is a set the client never heard of.
	let (c, sigs) = s.current.sign([1; 32], 70, 4);
	assert_refused(
		client.submit_commitment(&c, &sigs, &s.current.addresses, None),
		"UnknownValidatorSet",
	);
	let stranger = Set::new(9, 31, 4);
	let (c, sigs) = stranger.sign([1; 32], 70, 4);
	assert_refused(
		client.submit_commitment(&c, &sigs, &stranger.addresses, None),
		"UnknownValidatorSet",
	);
	// The new current set signs as usual, and set 2 can take over next.
	let (c, sigs) = s.next.sign([2; 32], 71, 3);
	client.submit_commitment(&c, &sigs, &s.next.addresses, None).expect("set 1 signs");
	assert_eq!(client.latest_block().expect("latestBlock"), 71);
}

#[test]
fn only_the_governor_replaces_the_key() {
	let s = Settlement::new(true);
	let proven = proven();
	let rollup = s.l1.rollup(s.rollup);
	let key_before = rollup.verifying_key().expect("verifyingKey");
	let other = client(&s.anvil, OTHER);
	let theirs = other.rollup(s.rollup);
	let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
	let (_, vk2) = groth16::setup(1, &mut rng).expect("another key");
	let vk2 = groth16::to_bytes(&vk2);
	assert_refused(theirs.set_verifying_key(&vk2), "NotGovernor");
	assert_refused(theirs.set_governor(other.sender()), "NotGovernor");
	assert_eq!(rollup.verifying_key().expect("verifyingKey"), key_before);
	assert_eq!(rollup.governor().expect("governor"), s.l1.sender());
	// The governor can, and the batch then fails against the new key.
	rollup.set_verifying_key(&vk2).expect("the governor replaces the key");
	assert_ne!(rollup.verifying_key().expect("verifyingKey"), key_before);
	assert_refused(s.submit(&BatchInputs::from(&proven.p1), &proven.proof1), "ProofRejected");
	rollup.set_verifying_key(&proven.vk).expect("and puts it back");
	rollup.set_governor(other.sender()).expect("hands over");
	assert_eq!(rollup.governor().expect("governor"), other.sender());
	assert_refused(rollup.set_governor(s.l1.sender()), "NotGovernor");
	s.submit(&BatchInputs::from(&proven.p1), &proven.proof1).expect("settles with the old key");
}

#[test]
fn contract_hashes_equal_the_rust_reference() {
	let anvil = start_anvil();
	let l1 = client(&anvil, DEPLOYER);
	let set = Set::new(3, 1, 4);
	let beefy =
		l1.deploy_beefy_client(set.onchain(), Set::new(4, 5, 4).onchain()).expect("deploy").address;
	let client = l1.light_client(beefy);
	for (root, block, id) in
		[([7u8; 32], 9u32, 2u64), ([0xab; 32], 0x0102_0304, 0x0102_0304_0506_0708)]
	{
		let c = Commitment {
			payload: vec![(MMR_ROOT_ID, root.to_vec())],
			block_number: block,
			validator_set_id: id,
		};
		assert_eq!(client.commitment_hash(&c).expect("commitmentHash"), c.hash());
	}
	let mut l = leaf([0x33; 32], &set);
	l.version = 1;
	l.parent_number = 0x0a0b_0c0d;
	l.next_set_id = 0x1122_3344_5566_7788;
	assert_eq!(client.leaf_hash(&l).expect("leafHash"), l.hash());
	for n in 1..=7u8 {
		let addresses = Set::new(0, 40, n).addresses;
		assert_eq!(
			client.set_root(&addresses).expect("setRoot"),
			beefy::set_root(&addresses),
			"{n}"
		);
	}
	assert_eq!(client.current_set().expect("currentSet"), set.onchain());
}

/// Gas of every operation (run with `--ignored --nocapture`; `scripts/bench.sh` can call it).
#[test]
#[ignore = "a measurement: prints gas, asserts nothing about it"]
fn gas_report() {
	let s = Settlement::new(false);
	let proven = proven();
	let client = s.l1.light_client(s.beefy);
	let (c, sigs) = s.current.sign(s.mmr_root, 42, 3);
	let commit4 =
		client.submit_commitment(&c, &sigs, &s.current.addresses, None).expect("commitment");
	let batch = s.submit(&BatchInputs::from(&proven.p1), &proven.proof1).expect("batch 1");

	let l1 = &s.l1;
	let big = Set::new(0, 101, 16);
	let other = Set::new(1, 11, 4);
	let beefy16 = l1.deploy_beefy_client(big.onchain(), other.onchain()).expect("deploy");
	let (c, sigs) = big.sign([9; 32], 10, 11);
	let commit16 = l1
		.light_client(beefy16.address)
		.submit_commitment(&c, &sigs, &big.addresses, None)
		.expect("16");

	let rollup = l1
		.deploy_rollup(&RollupConfig {
			light_client: s.beefy,
			vk: proven.vk.clone(),
			governor: l1.sender(),
			first_batch: 1,
			initial_root: [0; 32],
		})
		.expect("deploy rollup");
	let baseline = l1.deploy_baseline().expect("deploy baseline");
	let b = l1.baseline(baseline.address);
	let patient = Address::from([0x42; 20]);
	let append1 = b.append_record(patient, [1; 32], 1).expect("append");
	let append2 = b.append_record(patient, [2; 32], 2).expect("append");
	assert_refused(b.append_record(patient, [3; 32], 5), "VersionMismatch");
	let grant = b.grant(0, Address::from([0x43; 20]), 0xff, u64::MAX).expect("grant");
	let log1 = b.log_access(patient, 1, 1).expect("log");
	let log2 = b.log_access(patient, 1, 1).expect("log");

	// submitBatch at the slot counts of `EMR_GAS_SLOTS` (default 4,16): a circuit of that size,
	// a real proof of batch 1, a fresh rollup with that key, a root signed by set 0.
	let slot_counts = std::env::var("EMR_GAS_SLOTS").unwrap_or_else(|_| "4,16".into());
	let mut by_size = Vec::new();
	for (i, n) in slot_counts.split(',').filter_map(|n| n.trim().parse::<usize>().ok()).enumerate()
	{
		let mut rng = rand_chacha::ChaCha20Rng::from_seed([n as u8; 32]);
		let (pk, vk) = groth16::setup(n, &mut rng).expect("setup");
		let dir = tempfile::tempdir().expect("tempdir");
		let mut store =
			Store::open(dir.path().join("s.redb"), emr_primitives::testing::deployment())
				.expect("open");
		let (b1, _) = batches();
		let (w, p, _) = witness::build(&mut store, 1, &b1, n).expect("witness");
		let proof = groth16::to_bytes(&groth16::prove(&pk, w, p, &mut rng).expect("prove"));
		let rollup = l1
			.deploy_rollup(&RollupConfig {
				light_client: s.beefy,
				vk: groth16::to_bytes(&vk),
				governor: l1.sender(),
				first_batch: 1,
				initial_root: p.to_bytes()[0],
			})
			.expect("deploy rollup");
		let leaf = leaf(digest_of(&p), &s.next);
		let (root, leaf_proof) = mmr_with(&leaf, 3, 5, 0);
		let (c, sigs) = s.current.sign(root, 100 + i as u32, 3);
		client.submit_commitment(&c, &sigs, &s.current.addresses, None).expect("commitment");
		let settled = l1
			.rollup(rollup.address)
			.submit_batch(&BatchInputs::from(&p), &proof, &leaf, &leaf_proof, &root)
			.expect("batch");
		by_size.push((n, settled.gas_used));
	}

	println!("operation                                   gas");
	for (name, gas) in [
		("BeefyClient deploy", beefy16.tx.gas_used),
		("EmrRollup deploy (vk checked, stored as code)", rollup.tx.gas_used),
		("EmrL1Baseline deploy", baseline.tx.gas_used),
		("submitCommitment (4 validators, 3 signatures)", commit4.gas_used),
		("submitCommitment (16 validators, 11 signatures)", commit16.gas_used),
		("submitBatch (Groth16 on EIP-2537 + MMR leaf)", batch.gas_used),
		("baseline appendRecord (first version)", append1.gas_used),
		("baseline appendRecord (next version)", append2.gas_used),
		("baseline grant", grant.gas_used),
		("baseline logAccess (first entry)", log1.gas_used),
		("baseline logAccess (next entry)", log2.gas_used),
	] {
		println!("{name:<48} {gas:>9}");
	}
	for (n, gas) in by_size {
		println!(
			"submitBatch, {n}-slot circuit{:<19} {gas:>9}   per operation (full batch, with one 4-validator commitment): {}",
			"",
			(gas + commit4.gas_used) / n as u64
		);
	}
}

/// A call the contract refuses (at gas estimation) uses no nonce: the next transaction is
/// mined (a cached nonce would leave a gap and it would wait forever).
#[test]
fn a_refused_call_does_not_block_the_next_transaction() {
	let anvil = start_anvil();
	let l1 = client(&anvil, DEPLOYER);
	let current = Set::new(0, 1, 4);
	let beefy = l1
		.deploy_beefy_client(current.onchain(), Set::new(1, 11, 4).onchain())
		.expect("deploy")
		.address;
	let c = l1.light_client(beefy);
	let (cm, sigs) = current.sign([1; 32], 5, 2);
	assert_refused(c.submit_commitment(&cm, &sigs, &current.addresses, None), "TooFewSignatures");
	let (cm, sigs) = current.sign([1; 32], 5, 3);
	c.submit_commitment(&cm, &sigs, &current.addresses, None).expect("accepted");
}
