use super::*;
use crate::codec::RECORD_VERSION;
use ::codec::Encode;
use emr_primitives::{
	memory::MemoryState,
	ops::{permission, purpose, scope, Operation, Role, SignedOp},
	poseidon, rules,
	schnorr::{PublicKey, SecretKey},
	state::ClaimStatus,
	stored::{StoredGrant, StoredParticipant},
	testing::deployment,
};
use proptest::prelude::*;
use redb::ReadableTableMetadata;
use std::sync::OnceLock;

// --- reference ---

fn empties() -> &'static [F] {
	static E: OnceLock<Vec<F>> = OnceLock::new();
	E.get_or_init(|| {
		// Written out here rather than through `tree::empty_roots`, as a reference.
		let mut e = vec![F::ZERO];
		for k in 0..PARTICIPANT_LEVELS {
			let children: Vec<F> = vec![e[k]; 8];
			e.push(poseidon::hash_wide(poseidon::Domain::MerkleNode, &children));
		}
		e
	})
}

/// Root of a sparse 8-ary tree of `levels` with these non-empty leaves, by plain recursion.
fn sparse_root(leaves: &BTreeMap<u32, F>, levels: usize) -> F {
	fn sub(leaves: &BTreeMap<u32, F>, level: usize, index: u64) -> F {
		let lo = index << (3 * level);
		let hi = lo + (1u64 << (3 * level));
		let any = leaves.range(lo as u32..).next().is_some_and(|(k, _)| (*k as u64) < hi);
		if !any {
			empties()[level]
		} else if level == 0 {
			leaves[&(index as u32)]
		} else {
			let children: Vec<F> = (0..8).map(|j| sub(leaves, level - 1, 8 * index + j)).collect();
			poseidon::hash_wide(poseidon::Domain::MerkleNode, &children)
		}
	}
	sub(leaves, levels, 0)
}

fn naive_consent_root(mem: &MemoryState, patient: ParticipantId) -> F {
	let leaves = mem
		.grants
		.iter()
		.filter(|((p, _), _)| *p == patient)
		.map(|((_, s), g)| (*s, g.leaf()))
		.collect();
	sparse_root(&leaves, GRANT_LEVELS)
}

/// The state root recomputed from scratch from the records.
fn naive_root(mem: &MemoryState) -> F {
	let leaves = mem
		.participants
		.iter()
		.map(|(id, p)| (*id, p.leaf(naive_consent_root(mem, *id))))
		.collect();
	mem.header.state_root(sparse_root(&leaves, PARTICIPANT_LEVELS))
}

// --- fixtures ---

fn key(seed: u8) -> PublicKey {
	static KEYS: OnceLock<Vec<PublicKey>> = OnceLock::new();
	KEYS.get_or_init(|| (0..4u8).map(|s| SecretKey::from_seed(&[s; 32]).public()).collect())
		[seed as usize % 4]
}

fn participant(seed: u8, n: u32) -> Participant {
	let mut p = Participant::new(Role::Patient, key(seed), F::from(1000 + n as u64));
	p.nonce = n;
	p.index_head = F::from(n as u64 * 7);
	p.index_version = n / 2;
	p.log = F::from(n as u64 + 99);
	if n % 3 == 1 {
		p.role = Role::Doctor;
		p.affiliation = 3;
		p.affiliation_org = (n % 7) as u8;
		p.emergency_key = Some(key(seed).joint(&key(seed + 1)));
	}
	p.active = n % 4 != 3;
	p
}

fn grant(n: u32) -> Grant {
	Grant {
		grantee: n % 7 + 1,
		permissions: (n % 7 + 1) as u8,
		purposes: (n % 31 + 1) as u8,
		scope: n.wrapping_mul(2_654_435_761) | 1,
		expires_at: 100 + n,
		emergency: n.is_multiple_of(2),
		claim_status: [ClaimStatus::None, ClaimStatus::Open, ClaimStatus::Approved][n as usize % 3],
		claim_record: F::from(n as u64 * 31),
		claim_amount: n as u64 * 1000,
		settled: n as u64 * 10,
	}
}

fn open(dir: &tempfile::TempDir) -> Store {
	Store::open(dir.path().join("state.redb"), deployment()).expect("open store")
}

const IDS: [ParticipantId; 5] = [1, 2, 3, 0x80_0001, (1 << 24) - 1];
const SLOTS: [GrantId; 4] = [0, 1, 2, (1 << 12) - 1];

/// The store agrees with `mem` on every record of the test universe, and its root is the
/// naive root of `mem`.
fn assert_agrees(store: &Store, mem: &MemoryState) {
	for id in IDS {
		assert_eq!(store.participant(id), mem.participant(id), "participant {id}");
		for slot in SLOTS {
			assert_eq!(store.grant(id, slot), mem.grant(id, slot), "grant {id}/{slot}");
		}
	}
	assert_eq!(store.root(), naive_root(mem), "root");
	store.check().expect("store not poisoned");
}

/// Full proof of grant slot `(patient, slot)` against the state root: grant path to the
/// consent root, participant leaf over that consent root, participant path to the root.
fn verify_grant_chain(store: &Store, patient: ParticipantId, slot: GrantId) -> bool {
	let p = match store.participant(patient) {
		Some(p) => p,
		None => return false,
	};
	let consent = store.consent_root(patient);
	let leaf = store.grant(patient, slot).map(|g| g.leaf()).unwrap_or(F::ZERO);
	store.grant_path(patient, slot).verify(consent, leaf)
		&& store.participant_path(patient).verify(store.participant_root(), p.leaf(consent))
}

// --- tests ---

#[test]
fn empty_store_has_the_empty_root() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = open(&dir);
	assert_eq!(store.root(), emr_primitives::state::empty_state_root());
	assert_eq!(store.root(), naive_root(&MemoryState::new(deployment())));
	assert_eq!(store.committed_batch(), None);
	assert_eq!(store.consent_root(5), empty_consent_root());
	let path = store.participant_path(5);
	assert_eq!(path.levels(), PARTICIPANT_LEVELS);
	assert!(path.verify_absent(store.participant_root()));
	assert!(store.grant_path(5, 9).verify_absent(empty_consent_root()));
}

#[test]
fn root_matches_the_naive_reference() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	let mut mem = MemoryState::new(deployment());
	// A grant before its patient exists: leaf stays 0 until the participant arrives.
	store.set_grant(2, 7, Some(grant(1)));
	mem.set_grant(2, 7, Some(grant(1)));
	assert_eq!(store.participant_leaf(2), F::ZERO);
	assert_eq!(store.root(), emr_primitives::state::empty_state_root());
	assert_eq!(store.consent_root(2), naive_consent_root(&mem, 2));
	let mut writes = 0;
	for (i, id) in IDS.iter().enumerate() {
		store.set_participant(*id, participant(i as u8, i as u32));
		mem.set_participant(*id, participant(i as u8, i as u32));
		for (j, slot) in SLOTS.iter().enumerate().take(i + 1) {
			store.set_grant(*id, *slot, Some(grant(writes)));
			mem.set_grant(*id, *slot, Some(grant(writes)));
			writes += 1 + j as u32;
		}
	}
	assert_ne!(store.participant_leaf(2), F::ZERO);
	assert_agrees(&store, &mem);
	for id in IDS {
		let consent = naive_consent_root(&mem, id);
		assert_eq!(store.consent_root(id), consent);
		assert_eq!(store.participant_leaf(id), mem.participants[&id].leaf(consent));
	}
	// Overwrites and removals.
	store.set_participant(3, participant(1, 11));
	mem.set_participant(3, participant(1, 11));
	store.set_grant(3, 0, None);
	mem.set_grant(3, 0, None);
	store.set_grant(1, 0, Some(grant(77)));
	mem.set_grant(1, 0, Some(grant(77)));
	assert_agrees(&store, &mem);
	assert_eq!(store.commit(1).expect("commit"), naive_root(&mem));
	assert_agrees(&store, &mem);
}

#[test]
fn membership_and_non_membership_proofs() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	store.set_participant(1, participant(0, 1));
	store.set_participant(6, participant(1, 2));
	store.set_grant(1, 3, Some(grant(5)));
	store.set_grant(1, 4, Some(grant(6)));
	let root = store.participant_root();

	// Membership of a participant.
	let path = store.participant_path(6);
	let leaf = store.participant_leaf(6);
	assert_eq!(leaf, participant(1, 2).leaf(empty_consent_root()));
	assert!(path.verify(root, leaf));
	assert!(!path.verify_absent(root));
	assert!(!path.verify(root, leaf + F::from(1u64)), "wrong leaf");
	let mut tampered = path.clone();
	tampered.siblings[7] += F::from(1u64);
	assert!(!tampered.verify(root, leaf), "tampered sibling");
	let mut moved = path.clone();
	moved.index = 7;
	assert!(!moved.verify(root, leaf), "wrong index");
	let mut overflow = path.clone();
	overflow.index += 1 << PARTICIPANT_DEPTH;
	assert_eq!(overflow.root(leaf), root);
	assert!(!overflow.verify(root, leaf), "index beyond the depth");

	// Non-membership of a participant (neighbour of 6 and a far slot).
	for id in [7, 0, 0xFF_FFFF] {
		let path = store.participant_path(id);
		assert!(path.verify_absent(root), "absent {id}");
		assert!(!path.verify(root, leaf));
	}
	assert!(!store.participant_path(1).verify_absent(root));

	// Grants: membership, non-membership, and the chain up to the state root.
	let consent = store.consent_root(1);
	assert!(store.grant_path(1, 3).verify(consent, grant(5).leaf()));
	assert!(!store.grant_path(1, 3).verify(consent, grant(6).leaf()));
	assert!(store.grant_path(1, 5).verify_absent(consent));
	assert!(!store.grant_path(1, 4).verify_absent(consent));
	assert!(verify_grant_chain(&store, 1, 3));
	assert!(verify_grant_chain(&store, 1, 2));
	let mut tampered = store.grant_path(1, 3);
	tampered.siblings[11] = F::ZERO;
	assert!(!tampered.verify(consent, grant(5).leaf()));

	// Paths agree after commit and reopen (read from disk instead of the overlay).
	let before = (store.participant_path(6), store.grant_path(1, 3));
	store.commit(1).expect("commit");
	drop(store);
	let store = open(&dir);
	assert_eq!(store.participant_root(), root);
	assert_eq!((store.participant_path(6), store.grant_path(1, 3)), before);
	store.check().expect("no poison");
}

#[test]
fn commit_survives_reopen() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut mem = MemoryState::new(deployment());
	let root = {
		let mut store = open(&dir);
		for id in [1, 2, 0x12_3456] {
			store.set_participant(id, participant(id as u8, id % 10));
			mem.set_participant(id, participant(id as u8, id % 10));
			store.set_grant(id, id % 4, Some(grant(id)));
			mem.set_grant(id, id % 4, Some(grant(id)));
		}
		let mut header = Header { next_org: 130, ..Default::default() };
		header.orgs.insert(0);
		header.orgs.insert(129);
		store.set_header(header);
		mem.set_header(header);
		let root = store.commit(7).expect("commit");
		assert_eq!(store.committed_batch(), Some(7));
		root
	};
	let store = open(&dir);
	assert_eq!(store.root(), root);
	assert_eq!(store.committed_root(), root);
	assert_eq!(store.committed_batch(), Some(7));
	assert!(!store.is_dirty());
	assert_eq!(store.participant(0x12_3456), mem.participant(0x12_3456));
	assert_eq!(store.grant(0x12_3456, 0x12_3456 % 4), mem.grant(0x12_3456, 0x12_3456 % 4));
	assert_agrees(&store, &mem);
}

#[test]
fn crash_before_commit_leaves_the_last_batch() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut mem = MemoryState::new(deployment());
	let batch2 = |s: &mut dyn RollupState| {
		s.set_participant(2, participant(2, 5));
		s.set_grant(1, 0, None);
		s.set_grant(1, 1, Some(grant(9)));
		s.set_participant(1, participant(1, 8));
		s.set_grant(2, 4095, Some(grant(3)));
	};
	let (root1, mem1, crashed_root) = {
		let mut store = open(&dir);
		for s in [&mut store as &mut dyn RollupState, &mut mem] {
			s.set_participant(1, participant(1, 0));
			s.set_grant(1, 0, Some(grant(1)));
		}
		let root1 = store.commit(1).expect("commit batch 1");
		let mem1 = mem.clone();
		batch2(&mut store);
		batch2(&mut mem);
		assert!(store.is_dirty());
		assert_agrees(&store, &mem);
		(root1, mem1, store.root())
		// Dropped without commit: the crash.
	};
	assert_ne!(root1, crashed_root);
	let mut store = open(&dir);
	assert_eq!(store.committed_batch(), Some(1));
	assert_eq!(store.root(), root1);
	assert_agrees(&store, &mem1);
	batch2(&mut store);
	assert_eq!(store.commit(2).expect("commit batch 2"), crashed_root);
	assert_eq!(crashed_root, naive_root(&mem));
	assert_agrees(&store, &mem);
	drop(store);
	let store = open(&dir);
	assert_eq!(store.committed_batch(), Some(2));
	assert_agrees(&store, &mem);
}

#[test]
fn rollback_discards_the_batch() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	store.set_participant(4, participant(0, 0));
	let root1 = store.commit(1).expect("commit");
	store.set_participant(4, participant(0, 9));
	store.set_grant(4, 2, Some(grant(2)));
	assert_ne!(store.root(), root1);
	store.rollback();
	assert!(!store.is_dirty());
	assert_eq!(store.root(), root1);
	assert_eq!(store.participant(4), Some(participant(0, 0)));
	assert_eq!(store.grant(4, 2), None);
	assert_eq!(store.consent_root(4), empty_consent_root());
}

#[test]
fn batches_must_increase() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	store.commit(3).expect("first commit");
	assert!(matches!(store.commit(3), Err(StoreError::BatchOrder { last: 3, got: 3 })));
	assert!(matches!(store.commit(2), Err(StoreError::BatchOrder { .. })));
	store.commit(4).expect("next batch");
}

#[test]
fn only_non_empty_nodes_are_stored() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	let count = |store: &Store| {
		let read = store.db.begin_read().expect("read");
		let nodes = read.open_table(NODES).expect("nodes");
		let grants = read.open_table(GRANTS).expect("grants");
		(nodes.len().expect("len"), grants.len().expect("len"))
	};
	// Grant of a patient without a record: only its consent path (leaf + 12 nodes).
	store.set_grant(9, 17, Some(grant(4)));
	store.commit(1).expect("commit");
	assert_eq!(count(&store), (GRANT_LEVELS as u64 + 1, 1));
	// The patient arrives: its participant path (leaf + 24 nodes).
	store.set_participant(9, participant(0, 0));
	store.commit(2).expect("commit");
	assert_eq!(count(&store), (GRANT_LEVELS as u64 + PARTICIPANT_LEVELS as u64 + 2, 1));
	// Emptying the slot deletes the consent path and the record.
	store.set_grant(9, 17, None);
	store.commit(3).expect("commit");
	assert_eq!(count(&store), (PARTICIPANT_LEVELS as u64 + 1, 0));
	assert_eq!(store.consent_root(9), empty_consent_root());
	assert_eq!(store.participant_leaf(9), participant(0, 0).leaf(empty_consent_root()));
}

#[test]
fn out_of_range_writes_poison_the_batch() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	store.set_participant(1, participant(0, 0));
	let root1 = store.commit(1).expect("commit");
	assert_eq!(store.participant(1 << 24), None);
	assert_eq!(store.grant(1, 1 << 12), None);
	store.check().expect("reads out of range do not poison");
	store.set_participant(2, participant(1, 1));
	store.set_grant(1, 1 << 12, Some(grant(0)));
	assert!(matches!(store.check(), Err(StoreError::OutOfRange { what: "grant slot", .. })));
	store.set_participant(1 << 24, participant(1, 1));
	// The first error is kept.
	assert!(matches!(store.commit(2), Err(StoreError::OutOfRange { value: 4096, .. })));
	// The poisoned batch was discarded, with its valid writes.
	assert_eq!(store.root(), root1);
	assert_eq!(store.participant(2), None);
	store.check().expect("poison cleared");
	assert_eq!(store.committed_batch(), Some(1));
	let _ = store.participant_path(1 << 24);
	assert!(store.check().is_err());
	store.rollback();
	store.check().expect("rollback clears the poison");
}

#[test]
fn corrupt_records_poison_instead_of_panicking() {
	let dir = tempfile::tempdir().expect("tempdir");
	let path = dir.path().join("state.redb");
	{
		let mut store = Store::open(&path, deployment()).expect("open");
		store.set_participant(1, participant(0, 0));
		store.set_grant(1, 0, Some(grant(0)));
		store.commit(1).expect("commit");
		let txn = store.db.begin_write().expect("write");
		{
			let mut t = txn.open_table(PARTICIPANTS).expect("table");
			t.insert(1, &[1u8, 9, 0][..]).expect("insert");
			let mut g = txn.open_table(GRANTS).expect("table");
			g.insert((1, 0), &[0xFFu8; 65][..]).expect("insert");
		}
		txn.commit().expect("commit");
	}
	let mut store = Store::open(&path, deployment()).expect("reopen");
	let root = store.root();
	assert_eq!(store.participant(1), None);
	assert!(matches!(
		store.check(),
		Err(StoreError::CorruptParticipant { id: 1, source: RecordError::Version(1) })
	));
	store.rollback();
	assert_eq!(store.grant(1, 0), None);
	assert!(matches!(
		store.check(),
		Err(StoreError::CorruptGrant { patient: 1, slot: 0, source: RecordError::Version(0xFF) })
	));
	store.rollback();
	// A write that needs the corrupt participant record poisons too; commit refuses.
	store.set_grant(1, 1, Some(grant(1)));
	assert!(matches!(store.commit(2), Err(StoreError::CorruptParticipant { id: 1, .. })));
	assert_eq!(store.root(), root);
	assert_eq!(store.committed_batch(), Some(1));
}

#[test]
fn corrupt_meta_fails_open() {
	let dir = tempfile::tempdir().expect("tempdir");
	let path = dir.path().join("state.redb");
	let set_meta = |key: &str, value: &[u8]| {
		let db = Database::create(&path).expect("db");
		let txn = db.begin_write().expect("write");
		txn.open_table(META).expect("meta").insert(key, value).expect("insert");
		txn.commit().expect("commit");
	};
	{
		let mut store = Store::open(&path, deployment()).expect("open");
		store.set_participant(1, participant(0, 0));
		store.commit(1).expect("commit");
	}
	set_meta(META_ROOT, &field_bytes(&F::from(5u64)));
	assert!(matches!(Store::open(&path, deployment()), Err(StoreError::Corrupt(_))));
	set_meta(META_ROOT, &[0xFF; 32]);
	assert!(matches!(Store::open(&path, deployment()), Err(StoreError::Corrupt(_))));
	// Format 2 (binary trees) is not read as the 8-ary trees of format 3.
	set_meta(META_FORMAT, &2u32.to_le_bytes());
	assert!(matches!(Store::open(&path, deployment()), Err(StoreError::Format { found: 2 })));
}

#[test]
fn a_store_of_the_previous_format_is_refused_unchanged() {
	let dir = tempfile::tempdir().expect("tempdir");
	let path = dir.path().join("state.redb");
	{
		let mut store = Store::open(&path, deployment()).expect("open");
		store.set_participant(1, participant(0, 0));
		store.commit(1).expect("commit");
	}
	// Format 4 wrote records in the store's own binary layout; they are not read as SCALE.
	let format = |value: Option<u32>| {
		let db = Database::create(&path).expect("db");
		let txn = db.begin_write().expect("write");
		let mut meta = txn.open_table(META).expect("meta");
		let found = meta.get(META_FORMAT).expect("get").map(|v| v.value().to_vec());
		if let Some(v) = value {
			meta.insert(META_FORMAT, &v.to_le_bytes()[..]).expect("insert");
		}
		drop(meta);
		txn.commit().expect("commit");
		found
	};
	format(Some(4));
	let err = Store::open(&path, deployment()).expect_err("format 4 is refused");
	assert!(matches!(err, StoreError::Format { found: 4 }));
	assert!(err.to_string().contains("rebuild the prover state"), "{err}");
	assert_eq!(format(None), Some(4u32.to_le_bytes().to_vec()), "refusing changed nothing");
}
#[test]
fn a_store_of_another_deployment_is_refused() {
	let dir = tempfile::tempdir().expect("tempdir");
	let path = dir.path().join("state.redb");
	{
		let mut store = Store::open(&path, deployment()).expect("open");
		assert_eq!(store.deployment(), deployment());
		store.set_participant(1, participant(0, 0));
		store.commit(1).expect("commit");
	}
	let other = DeploymentId::named("elsewhere");
	match Store::open(&path, other) {
		Err(StoreError::Deployment { found, expected }) => {
			assert_eq!((found, expected), (deployment(), other))
		},
		r => panic!("expected a deployment mismatch, got {r:?}"),
	}
	// Refusing changed nothing: the store still opens for its own deployment, at batch 1.
	let store = Store::open(&path, deployment()).expect("reopen");
	assert_eq!(store.committed_batch(), Some(1));
}

#[test]
fn record_encoding_round_trips_and_rejects_garbage() {
	for n in 0..6 {
		let p = participant(n as u8, n);
		assert_eq!(decode_participant(&encode_participant(&p)), Ok(p));
		let g = grant(n);
		assert_eq!(decode_grant(&encode_grant(&g)), Ok(g));
	}
	// An emergency key equal to the identity (doctor key = −hospital key) still round-trips.
	let mut p = participant(0, 0);
	p.emergency_key = Some(key(1).joint(&PublicKey(-key(1).0)));
	assert_eq!(decode_participant(&encode_participant(&p)), Ok(p.clone()));

	// The record is the version byte and the SCALE encoding of the runtime's storage form.
	let good = encode_participant(&p);
	assert_eq!(good, [&[RECORD_VERSION][..], &StoredParticipant::from(&p).encode()].concat());
	// Offsets: 0 version, 1 role, 2 active, 3..67 key (x, y), 67..99 encryption key,
	// 99..103 nonce, 103..135 index head, 135..139 index version, 139..143 affiliation,
	// 143 affiliation org, 144 org, 145 emergency tag, 146..210 emergency key, 210..242 log.
	assert_eq!(good.len(), 242);
	let refused = |bytes: &[u8]| decode_participant(bytes).expect_err("refused");
	assert!(matches!(refused(&good[..good.len() - 1]), RecordError::Scale(_)), "truncated");
	assert!(
		matches!(refused(&[good.clone(), vec![0]].concat()), RecordError::Scale(_)),
		"trailing"
	);
	assert_eq!(refused(&[]), RecordError::Empty);
	let tampered = |at: std::ops::Range<usize>, bytes: &[u8]| {
		let mut bad = good.clone();
		bad[at].copy_from_slice(bytes);
		refused(&bad)
	};
	assert_eq!(tampered(0..1, &[1]), RecordError::Version(1), "the previous record version");
	assert_eq!(tampered(0..1, &[3]), RecordError::Version(3));
	assert!(matches!(tampered(1..2, &[6]), RecordError::Scale(_)), "role");
	assert!(matches!(tampered(2..3, &[2]), RecordError::Scale(_)), "bool");
	assert!(matches!(tampered(145..146, &[2]), RecordError::Scale(_)), "option tag");
	assert_eq!(tampered(67..99, &[0xFF; 32]), RecordError::NonCanonical("encryption key"));
	assert_eq!(tampered(103..135, &[0xFF; 32]), RecordError::NonCanonical("index head"));
	assert_eq!(tampered(210..242, &[0xFF; 32]), RecordError::NonCanonical("log"));
	assert_eq!(tampered(3..35, &[0xFF; 32]), RecordError::NonCanonical("key"));
	assert_eq!(tampered(178..210, &[0xFF; 32]), RecordError::NonCanonical("emergency key"));
	let five = field_bytes(&F::from(5u64));
	assert_eq!(tampered(35..67, &five), RecordError::NotOnCurve("key"), "not a point");
	assert_eq!(tampered(178..210, &five), RecordError::NotOnCurve("emergency key"));

	let g = grant(3);
	let good = encode_grant(&g);
	assert_eq!(good, [&[RECORD_VERSION][..], &StoredGrant::from(&g).encode()].concat());
	assert_eq!(good.len(), 65);
	let refused = |bytes: &[u8]| decode_grant(bytes).expect_err("refused");
	let mut bad = good.clone();
	bad[16] = 4;
	assert!(matches!(refused(&bad), RecordError::Scale(_)), "claim status");
	let mut bad = good.clone();
	bad[15] = 2;
	assert!(matches!(refused(&bad), RecordError::Scale(_)), "bool");
	let mut bad = good.clone();
	bad[17..49].copy_from_slice(&[0xFF; 32]);
	assert_eq!(refused(&bad), RecordError::NonCanonical("claim record"));
	let mut bad = good.clone();
	bad[0] = 1;
	assert_eq!(refused(&bad), RecordError::Version(1));
	assert!(matches!(refused(&good[..64]), RecordError::Scale(_)), "truncated");
	assert!(
		matches!(refused(&[good.clone(), vec![0]].concat()), RecordError::Scale(_)),
		"trailing"
	);
	assert!(decode_f(&[0u8; 31], "x").is_err());
	assert!(decode_f(&[0xFF; 32], "x").is_err());
}

/// Record sizes, printed for the docs (`cargo test -p emr-state-store record_sizes -- --nocapture`).
/// Format 4 (the store's own layout, compressed keys) wrote 146 bytes per participant, 178 with
/// an emergency key, and 65 per grant.
#[test]
fn record_sizes() {
	let plain = participant(0, 0);
	let doctor = participant(0, 1);
	assert!(plain.emergency_key.is_none() && doctor.emergency_key.is_some());
	let sizes = [
		encode_participant(&plain).len(),
		encode_participant(&doctor).len(),
		encode_grant(&grant(0)).len(),
	];
	println!(
		"record sizes: participant {} bytes, with an emergency key {}, grant {}",
		sizes[0], sizes[1], sizes[2]
	);
	assert_eq!(sizes, [178, 242, 65]);
}

#[test]
fn the_rules_run_on_the_store() {
	let dir = tempfile::tempdir().expect("tempdir");
	let mut store = open(&dir);
	let mut mem = MemoryState::new(deployment());
	let register = |seed: u8| {
		let sk = SecretKey::from_seed(&[seed; 32]);
		let pk = sk.public();
		let op = SignedOp {
			actor: 0,
			nonce: 0,
			op: Operation::Register {
				role: Role::Patient,
				public_key: pk.to_bytes(),
				encryption_key: [7; 32],
			},
			signature: [0; 64],
		}
		.sign(&sk, &deployment());
		(sk, op)
	};
	let (sk1, reg1) = register(1);
	let (_sk2, reg2) = register(2);
	// Ids in registration order.
	let (id1, id2) = (1, 2);
	let grant_op = SignedOp {
		actor: id1,
		nonce: 1,
		op: Operation::GrantConsent {
			grantee: id2,
			permissions: permission::READ | permission::WRITE,
			purposes: purpose::TREATMENT,
			scope: scope::ALL,
			expires_at: 1000,
			slot: 0,
		},
		signature: [0; 64],
	}
	.sign(&sk1, &deployment());
	let revoke_op = SignedOp {
		actor: id1,
		nonce: 2,
		op: Operation::RevokeConsent { grant: 0 },
		signature: [0; 64],
	}
	.sign(&sk1, &deployment());

	let step = |store: &mut Store, mem: &mut MemoryState, op: &SignedOp, now| {
		let ours = rules::apply(store, op, now);
		let reference = rules::apply(mem, op, now);
		assert_eq!(ours, reference);
		for id in [id1, id2] {
			assert_eq!(store.participant(id), mem.participant(id));
			for slot in 0..3 {
				assert_eq!(store.grant(id, slot), mem.grant(id, slot));
			}
		}
		assert_eq!(store.root(), naive_root(mem));
		ours
	};
	assert_eq!(step(&mut store, &mut mem, &reg1, 10).expect("register 1").actor, id1);
	assert_eq!(step(&mut store, &mut mem, &reg2, 10).expect("register 2").actor, id2);
	assert_eq!(store.header().participants, 2);
	let root = store.commit(1).expect("commit");

	let fx = step(&mut store, &mut mem, &grant_op, 20).expect("grant");
	assert_eq!(fx.grant, Some(0));
	assert!(store.grant(id1, 0).is_some());
	assert_ne!(store.consent_root(id1), empty_consent_root());
	assert!(verify_grant_chain(&store, id1, 0));
	// Replay: bad nonce, nothing changes.
	let before = store.root();
	assert_eq!(step(&mut store, &mut mem, &grant_op, 21), Err(rules::RuleError::BadNonce));
	assert_eq!(store.root(), before);
	store.commit(2).expect("commit");
	drop(store);

	let mut store = open(&dir);
	assert_eq!(store.root(), naive_root(&mem));
	step(&mut store, &mut mem, &revoke_op, 30).expect("revoke");
	assert_eq!(store.grant(id1, 0), None);
	assert_eq!(store.consent_root(id1), empty_consent_root());
	assert!(store.grant_path(id1, 0).verify_absent(store.consent_root(id1)));
	assert_ne!(store.root(), root, "nonce and log advanced");
	store.commit(3).expect("commit");
	store.check().expect("no poison");
}

#[derive(Clone, Debug)]
enum Step {
	Participant { id: usize, seed: u8, n: u32 },
	Grant { patient: usize, slot: usize, value: Option<u32> },
	Commit,
	Rollback,
	Reopen,
}

fn step() -> impl Strategy<Value = Step> {
	prop_oneof![
		4 => (0..IDS.len(), 0..4u8, 0..20u32)
			.prop_map(|(id, seed, n)| Step::Participant { id, seed, n }),
		6 => (0..IDS.len(), 0..SLOTS.len(), proptest::option::weighted(0.7, 0..50u32))
			.prop_map(|(patient, slot, value)| Step::Grant { patient, slot, value }),
		1 => Just(Step::Commit),
		1 => Just(Step::Rollback),
		1 => Just(Step::Reopen),
	]
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

	#[test]
	fn store_follows_memory_state(steps in proptest::collection::vec(step(), 1..30)) {
		let dir = tempfile::tempdir().expect("tempdir");
		let mut store = open(&dir);
		let mut mem = MemoryState::new(deployment());
		let mut committed = MemoryState::new(deployment());
		let mut batch = 0u64;
		for s in steps {
			match s {
				Step::Participant { id, seed, n } => {
					store.set_participant(IDS[id], participant(seed, n));
					mem.set_participant(IDS[id], participant(seed, n));
				},
				Step::Grant { patient, slot, value } => {
					store.set_grant(IDS[patient], SLOTS[slot], value.map(grant));
					mem.set_grant(IDS[patient], SLOTS[slot], value.map(grant));
				},
				Step::Commit => {
					batch += 1;
					prop_assert_eq!(store.commit(batch).expect("commit"), naive_root(&mem));
					committed = mem.clone();
				},
				Step::Rollback => {
					store.rollback();
					mem = committed.clone();
				},
				Step::Reopen => {
					drop(store);
					store = open(&dir);
					mem = committed.clone();
					prop_assert_eq!(store.committed_batch(), (batch > 0).then_some(batch));
				},
			}
			assert_agrees(&store, &mem);
		}
		for id in IDS {
			let leaf = store.participant_leaf(id);
			prop_assert!(store.participant_path(id).verify(store.participant_root(), leaf));
			if mem.participants.contains_key(&id) {
				for slot in SLOTS {
					prop_assert!(verify_grant_chain(&store, id, slot));
				}
			}
		}
	}
}
