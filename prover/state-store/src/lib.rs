//! # emr-state-store
//!
//! The prover's copy of the rollup state: what it owns is the state on disk and its Merkle
//! paths. The circuit's witness builder reads it through
//! [`emr_circuit::witness::ProvableState`], which [`Store`] implements.
//!
//! The rollup state as a persistent Poseidon sparse Merkle store ([`Store`]), crash-safe through
//! redb transactions.
//!
//! # Layout of the rollup state
//!
//! The state is one 8-ary **participant tree** of [`PARTICIPANT_LEVELS`] (8) levels, 2^24 ids,
//! and, under every participant, an 8-ary **consent subtree** of [`GRANT_LEVELS`] (4) levels,
//! 4,096 slots ([`emr_primitives::tree`] defines both). The state root is the participant
//! tree's root under the [`Header`] ([`Header::state_root`]: the organisations).
//!
//! ```text
//!      state root = Poseidon(StateRoot, [participant root, header])
//!                         participant tree root                                level 8
//!                    /     /     /     /     \     \     \     \
//!                  node  node   ...                            node           level 7
//!                  ...
//!   leaf 0    leaf 1    ...    leaf id = Participant::leaf(consent_root(id))   ...   level 0
//!                                              |                 (0 when slot id is empty)
//!                                              | consent_root(id)
//!                               consent subtree of id (4 levels)          level 4
//!                              /  /  /  /  \  \  \  \
//!                            ...                              ...
//!                  slot 0  slot 1  ...  slot s = Grant::leaf()  ...  slot 4095    level 0
//!                                              (0 when grant slot s is empty)
//! ```
//!
//! * A leaf's index selects its path in base 8: digit `l` of the index (bits `3l..3l+3`) is the
//!   position of its ancestor among the eight children at level `l` (counted from the leaves).
//! * Inner node: `node = tree::node(children)`, one wide Poseidon permutation.
//! * An empty subtree of height `k` has root `empty_roots(k)[k]` (`EMPTY[0] = 0`,
//!   `EMPTY[k+1] = node([EMPTY[k]; 8])`); the root of an empty store is
//!   [`emr_primitives::state::empty_state_root`] and the consent root of a participant without grants is
//!   [`empty_consent_root`].
//! * Participant leaf `id`: `Participant::leaf(consent_root(id))` when slot `id` holds a
//!   participant, else 0. Grant leaf `(p, s)`: `Grant::leaf()` or 0.
//! * Grants of a slot without a participant: [`RollupState::set_grant`] on such a patient is
//!   accepted: the grant is stored and its consent subtree updated, but the participant leaf stays
//!   0 (it commits to nothing) until a participant is written to the slot, whose leaf then covers
//!   the existing consent root. The rules only write grants of existing patients, so this only
//!   keeps the store total; it never panics.
//!
//! # Storage
//!
//! One redb file with four tables:
//!
//! | table | key | value |
//! |---|---|---|
//! | `participants` | `id: u32` | participant record (format below) |
//! | `grants` | `(patient: u32, slot: u32)` | grant record (format below) |
//! | `nodes` | `(tree: u8, owner: u32, level: u8, index: u32)` | node, 32 bytes |
//! | `meta` | `&str` | `format` (u32 LE), `batch` (u64 LE), `root` (the participant tree's, 32 bytes), `header` (participants u32 LE, next organisation u8, organisations 4 × u64 LE), `deployment` (32 bytes) |
//!
//! `tree` is 0 for the participant tree (`owner` 0) and 1 for the consent subtree of patient
//! `owner`. Level 0 holds the leaves, level `depth` the root (index 0). Only nodes that differ from
//! the empty root of their height are stored: a missing node is `EMPTY[level]`.
//!
//! Field elements are 32 bytes, little-endian, canonical (ark-serialize, compressed); public keys
//! are 32 bytes compressed ([`PublicKey::to_bytes`]); integers are little-endian. Records start
//! with a format byte (1):
//!
//! ```text
//! participant: 1 | role u8 | active u8 | key [32] | encryption_key F | nonce u32 | index_head F
//!              | index_version u32 | affiliation u32
//!              | 0 or (1 | emergency_key [32]) | log F
//! grant:       1 | grantee u32 | permissions u8 | purposes u8 | scope u32 | expires_at u32
//!              | emergency u8 | claim_status u8 | claim_record F | claim_amount u64 | settled u64
//! ```
//!
//! # Batches, crashes and errors
//!
//! Writes through [`RollupState`] go to an in-memory overlay (records and nodes) over the last
//! committed state; reads consult the overlay first. [`Store::commit`] writes the overlay and the
//! meta entries in one durable redb write transaction; [`Store::rollback`] drops the overlay. A
//! process that dies (or a [`Store`] dropped) before `commit` leaves the file at the last committed
//! batch, and a commit is all or nothing.
//!
//! [`RollupState`] methods and the queries cannot return errors. When one of them hits a
//! database error, a corrupt record or a slot outside the trees, the store is **poisoned**: the
//! failed read answers "empty" (`None`, or the empty node), the error is kept, [`Store::check`]
//! reports it, and the next [`Store::commit`] refuses, discards the whole batch (as
//! [`Store::rollback`]) and returns that error, so a batch computed on a failed read never
//! reaches the disk. Reads of slots outside the trees (`id ≥ 2^24`, `slot ≥ 2^12`) answer empty
//! without poisoning; writes there and paths for them poison.
//!
//! Every update costs one hash per level: a participant write recomputes its leaf and the 8
//! nodes above it; a grant write recomputes the 4 nodes above its slot, then (when the patient
//! exists) the patient's leaf and its 8 nodes.

use ark_ff::AdditiveGroup;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use emr_primitives::{
	ops::{DeploymentId, GrantId, ParticipantId, Role, GRANT_DEPTH, PARTICIPANT_DEPTH},
	schnorr::PublicKey,
	state::{
		empty_consent_root, ClaimStatus, Grant, Header, OrgSet, Participant, RollupState, MAX_ORGS,
	},
	tree::{self, empty_roots, ARITY, ARITY_BITS, GRANT_LEVELS, PARTICIPANT_LEVELS, SIBLINGS},
	F,
};
use redb::{Database, ReadOnlyTable, ReadableTable, TableDefinition};
use std::{
	collections::BTreeMap,
	path::Path,
	sync::{Arc, Mutex},
};

mod provable;

/// Version of the on-disk format (the `format` meta entry; 2: participants without a next grant
/// slot, since grants name their slot; 3: 8-ary trees; 4: the header, organisation indices in
/// participant records).
pub const FORMAT_VERSION: u32 = 4;

/// Version byte that starts every participant and grant record.
const RECORD_VERSION: u8 = 1;

const PARTICIPANTS: TableDefinition<u32, &[u8]> = TableDefinition::new("participants");
const GRANTS: TableDefinition<(u32, u32), &[u8]> = TableDefinition::new("grants");
const NODES: TableDefinition<(u8, u32, u8, u32), [u8; 32]> = TableDefinition::new("nodes");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const META_FORMAT: &str = "format";
const META_BATCH: &str = "batch";
const META_ROOT: &str = "root";
const META_DEPLOYMENT: &str = "deployment";
const META_HEADER: &str = "header";

/// Tree tag of the participant tree in node keys.
const TREE_PARTICIPANTS: u8 = 0;
/// Tree tag of a consent subtree in node keys.
const TREE_CONSENT: u8 = 1;

/// Why the store failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
	/// The database (or the file system under it) failed.
	#[error("database error: {0}")]
	Db(Arc<redb::Error>),
	/// Data on disk does not decode or is inconsistent.
	#[error("corrupt store: {0}")]
	Corrupt(String),
	/// The file was written in another format version.
	#[error("unsupported store format {found} (this build reads format {FORMAT_VERSION})")]
	Format {
		/// The version found in the file.
		found: u32,
	},
	/// A participant id or grant slot does not fit its tree.
	#[error("{what} {value} is outside its tree (depth {depth})")]
	OutOfRange {
		/// "participant" or "grant slot".
		what: &'static str,
		/// The offending id or slot.
		value: u32,
		/// Depth of the tree.
		depth: usize,
	},
	/// The store holds the state of another deployment.
	#[error(
		"the store holds the state of deployment {}, not of {}",
		hex::encode(found.0),
		hex::encode(expected.0)
	)]
	Deployment {
		/// The deployment recorded in the store.
		found: DeploymentId,
		/// The deployment it was opened for.
		expected: DeploymentId,
	},
	/// Batch numbers must increase.
	#[error("batch {got} does not follow the last committed batch {last}")]
	BatchOrder {
		/// The last committed batch.
		last: u64,
		/// The batch passed to commit.
		got: u64,
	},
}

macro_rules! from_redb {
	($($t:ty),*) => {$(
		impl From<$t> for StoreError {
			fn from(e: $t) -> Self {
				StoreError::Db(Arc::new(e.into()))
			}
		}
	)*};
}
from_redb!(
	redb::Error,
	redb::DatabaseError,
	redb::TransactionError,
	redb::TableError,
	redb::StorageError,
	redb::CommitError
);

/// A Merkle path: the leaf's index and its siblings from the leaf level upward, seven per
/// level in the order of [`tree::children`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
	/// Index of the leaf (base-8 digit `l` = position at level `l`).
	pub index: u32,
	/// Siblings, `siblings[7l..7l + 7]` at level `l` (the leaves are level 0).
	pub siblings: Vec<F>,
}

impl MerklePath {
	/// Levels of the tree this path belongs to.
	pub fn levels(&self) -> usize {
		self.siblings.len() / SIBLINGS
	}

	/// The root this path gives for `leaf`.
	pub fn root(&self, leaf: F) -> F {
		tree::root(leaf, self.index, &self.siblings)
	}

	/// Membership: `leaf` sits at `index` under `root` (the index must fit the levels).
	pub fn verify(&self, root: F, leaf: F) -> bool {
		self.siblings.len().is_multiple_of(SIBLINGS)
			&& (self.index as u64) >> (ARITY_BITS * self.levels()).min(63) == 0
			&& self.root(leaf) == root
	}

	/// Non-membership: slot `index` under `root` is empty (its leaf is 0).
	pub fn verify_absent(&self, root: F) -> bool {
		self.verify(root, F::ZERO)
	}
}

/// Key of a node in the `nodes` table: `(tree, owner, level, index)`.
type NodeKey = (u8, u32, u8, u32);

fn participant_node(level: usize, index: u32) -> NodeKey {
	(TREE_PARTICIPANTS, 0, level as u8, index)
}

fn consent_node(patient: ParticipantId, level: usize, index: u32) -> NodeKey {
	(TREE_CONSENT, patient, level as u8, index)
}

/// Uncommitted writes of the current batch.
#[derive(Default)]
struct Overlay {
	participants: BTreeMap<ParticipantId, Participant>,
	/// `None`: the slot was emptied.
	grants: BTreeMap<(ParticipantId, GrantId), Option<Grant>>,
	nodes: BTreeMap<NodeKey, F>,
	/// The header, when the batch changed it.
	header: Option<Header>,
}

/// Read handles on the committed state (one read transaction).
struct Snapshot {
	participants: ReadOnlyTable<u32, &'static [u8]>,
	grants: ReadOnlyTable<(u32, u32), &'static [u8]>,
	nodes: ReadOnlyTable<NodeKey, [u8; 32]>,
}

/// The persistent rollup state (module docs).
pub struct Store {
	db: Database,
	deployment: DeploymentId,
	/// `empty_roots(PARTICIPANT_LEVELS)`; its prefix serves the consent subtrees.
	empty: Vec<F>,
	overlay: Overlay,
	/// Current participant tree root (overlay included).
	root: F,
	/// Participant tree root of the last committed batch (of the empty tree before the first
	/// commit).
	committed_root: F,
	/// Header of the last committed batch.
	committed_header: Header,
	committed_batch: Option<u64>,
	poisoned: Mutex<Option<StoreError>>,
}

impl std::fmt::Debug for Store {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.debug_struct("Store")
			.field("root", &self.root)
			.field("committed_batch", &self.committed_batch)
			.field("dirty_nodes", &self.overlay.nodes.len())
			.finish_non_exhaustive()
	}
}

impl Store {
	/// Opens (or creates) the store of `deployment` in the file `path`, at its last committed
	/// batch; refuses a store created for another deployment.
	pub fn open(path: impl AsRef<Path>, deployment: DeploymentId) -> Result<Store, StoreError> {
		let db = Database::create(path)?;
		let txn = db.begin_write()?;
		{
			txn.open_table(PARTICIPANTS)?;
			txn.open_table(GRANTS)?;
			txn.open_table(NODES)?;
			let mut meta = txn.open_table(META)?;
			let found = match meta.get(META_FORMAT)? {
				Some(v) => Some(decode_u32(v.value(), "format entry")?),
				None => None,
			};
			match found {
				Some(FORMAT_VERSION) => {},
				Some(found) => return Err(StoreError::Format { found }),
				None => {
					meta.insert(META_FORMAT, &FORMAT_VERSION.to_le_bytes()[..])?;
				},
			}
			let recorded = match meta.get(META_DEPLOYMENT)? {
				Some(v) => Some(DeploymentId(v.value().try_into().map_err(|_| {
					StoreError::Corrupt("the deployment entry is not 32 bytes".into())
				})?)),
				None => None,
			};
			match recorded {
				Some(found) if found != deployment => {
					return Err(StoreError::Deployment { found, expected: deployment })
				},
				Some(_) => {},
				None => {
					meta.insert(META_DEPLOYMENT, &deployment.0[..])?;
				},
			}
		}
		txn.commit()?;

		let read = db.begin_read()?;
		let meta = read.open_table(META)?;
		let batch = match meta.get(META_BATCH)? {
			Some(v) => Some(decode_u64(v.value(), "batch entry")?),
			None => None,
		};
		let meta_root = match meta.get(META_ROOT)? {
			Some(v) => Some(decode_f(v.value(), "root entry")?),
			None => None,
		};
		let header = match meta.get(META_HEADER)? {
			Some(v) => decode_header(v.value()).map_err(StoreError::Corrupt)?,
			None => Header::default(),
		};
		let empty = empty_roots(PARTICIPANT_LEVELS);
		let nodes = read.open_table(NODES)?;
		let root = match nodes.get(participant_node(PARTICIPANT_LEVELS, 0))? {
			Some(v) => decode_f(&v.value(), "state root node")?,
			None => empty[PARTICIPANT_LEVELS],
		};
		if batch.is_some() != meta_root.is_some() {
			return Err(StoreError::Corrupt("meta has only one of batch and root".into()));
		}
		if let Some(meta_root) = meta_root {
			if meta_root != root {
				return Err(StoreError::Corrupt(
					"the root in meta differs from the root node of the tree".into(),
				));
			}
		}
		drop((nodes, meta, read));
		Ok(Store {
			db,
			deployment,
			empty,
			overlay: Overlay::default(),
			root,
			committed_root: root,
			committed_header: header,
			committed_batch: batch,
			poisoned: Mutex::new(None),
		})
	}

	/// The state root, uncommitted writes included.
	pub fn root(&self) -> F {
		self.header().state_root(self.root)
	}

	/// The participant tree's root, uncommitted writes included.
	pub fn participant_root(&self) -> F {
		self.root
	}

	/// The state root of the last committed batch (the empty state's before the first commit).
	pub fn committed_root(&self) -> F {
		self.committed_header.state_root(self.committed_root)
	}

	/// The last committed batch number, `None` before the first commit.
	pub fn committed_batch(&self) -> Option<u64> {
		self.committed_batch
	}

	/// True when the current batch has uncommitted writes.
	pub fn is_dirty(&self) -> bool {
		!self.overlay.nodes.is_empty()
			|| !self.overlay.participants.is_empty()
			|| !self.overlay.grants.is_empty()
			|| self.overlay.header.is_some()
	}

	/// The error that poisoned the current batch, if any (module docs); it stays until
	/// [`Store::commit`] or [`Store::rollback`] ends the batch.
	pub fn check(&self) -> Result<(), StoreError> {
		match self.poison_slot().as_ref() {
			Some(e) => Err(e.clone()),
			None => Ok(()),
		}
	}

	/// Writes the current batch and the meta entries (`batch`, `root`) in one durable
	/// transaction, and returns the root. Batch numbers must increase. A poisoned batch is
	/// discarded and its error returned; on a database error nothing is written and the batch
	/// stays pending (retry the commit or roll back).
	pub fn commit(&mut self, batch: u64) -> Result<F, StoreError> {
		let poison = self.poison_slot().take();
		if let Some(e) = poison {
			self.discard();
			return Err(e);
		}
		if let Some(last) = self.committed_batch {
			if batch <= last {
				return Err(StoreError::BatchOrder { last, got: batch });
			}
		}
		let txn = self.db.begin_write()?;
		{
			let mut participants = txn.open_table(PARTICIPANTS)?;
			for (id, p) in &self.overlay.participants {
				participants.insert(*id, encode_participant(p).as_slice())?;
			}
			let mut grants = txn.open_table(GRANTS)?;
			for (key, g) in &self.overlay.grants {
				match g {
					Some(g) => {
						grants.insert(*key, encode_grant(g).as_slice())?;
					},
					None => {
						grants.remove(*key)?;
					},
				}
			}
			let mut nodes = txn.open_table(NODES)?;
			for (key, value) in &self.overlay.nodes {
				if *value == self.empty[key.2 as usize] {
					nodes.remove(*key)?;
				} else {
					nodes.insert(*key, f_bytes(value))?;
				}
			}
			let mut meta = txn.open_table(META)?;
			meta.insert(META_BATCH, &batch.to_le_bytes()[..])?;
			meta.insert(META_ROOT, &f_bytes(&self.root)[..])?;
			meta.insert(META_HEADER, &encode_header(&self.header())[..])?;
		}
		txn.commit()?;
		self.committed_header = self.header();
		self.overlay = Overlay::default();
		self.committed_batch = Some(batch);
		self.committed_root = self.root;
		Ok(self.committed_root())
	}

	/// Drops the current batch (and its poison): back to the last committed state.
	pub fn rollback(&mut self) {
		*self.poison_slot() = None;
		self.discard();
	}

	/// Leaf `id` of the participant tree (0 when empty).
	pub fn participant_leaf(&self, id: ParticipantId) -> F {
		if !in_range(id, PARTICIPANT_DEPTH) {
			return F::ZERO;
		}
		self.read(|s, snap| s.node(snap, participant_node(0, id)))
	}

	/// Leaf `slot` of `patient`'s consent subtree (0 when empty).
	pub fn grant_leaf(&self, patient: ParticipantId, slot: GrantId) -> F {
		if !in_range(patient, PARTICIPANT_DEPTH) || !in_range(slot, GRANT_DEPTH) {
			return F::ZERO;
		}
		self.read(|s, snap| s.node(snap, consent_node(patient, 0, slot)))
	}

	/// Root of `patient`'s consent subtree ([`empty_consent_root`] when it has no grant).
	pub fn consent_root(&self, patient: ParticipantId) -> F {
		if !in_range(patient, PARTICIPANT_DEPTH) {
			return empty_consent_root();
		}
		self.read(|s, snap| s.node(snap, consent_node(patient, GRANT_LEVELS, 0)))
	}

	/// Path of participant slot `id` to [`Store::root`]; with [`Store::participant_leaf`] a
	/// membership proof, and for an empty slot a non-membership proof
	/// ([`MerklePath::verify_absent`]).
	pub fn participant_path(&self, id: ParticipantId) -> MerklePath {
		self.path(id, PARTICIPANT_DEPTH, "participant", participant_node)
	}

	/// Path of grant slot `slot` to [`Store::consent_root`] of `patient`; with
	/// [`Store::grant_leaf`] a membership proof, for an empty slot a non-membership proof.
	pub fn grant_path(&self, patient: ParticipantId, slot: GrantId) -> MerklePath {
		if !in_range(patient, PARTICIPANT_DEPTH) {
			self.poison(StoreError::OutOfRange {
				what: "participant",
				value: patient,
				depth: PARTICIPANT_DEPTH,
			});
		}
		self.path(slot, GRANT_DEPTH, "grant slot", |level, index| {
			consent_node(patient, level, index)
		})
	}

	/// A path for slot `index` (siblings read through `key`), or an all-empty path with the
	/// store poisoned when the index does not fit.
	fn path(
		&self,
		index: u32,
		depth: usize,
		what: &'static str,
		key: impl Fn(usize, u32) -> NodeKey,
	) -> MerklePath {
		if !in_range(index, depth) {
			self.poison(StoreError::OutOfRange { what, value: index, depth });
			return MerklePath { index: 0, siblings: self.empty_path(depth) };
		}
		let snap = match self.snapshot() {
			Ok(snap) => snap,
			Err(e) => {
				self.poison(e);
				return MerklePath { index, siblings: self.empty_path(depth) };
			},
		};
		let mut siblings = Vec::with_capacity(depth / ARITY_BITS * SIBLINGS);
		for level in 0..depth / ARITY_BITS {
			let i = index >> (ARITY_BITS * level);
			for j in (0..ARITY as u32).filter(|j| *j != i % ARITY as u32) {
				let k = key(level, i - i % ARITY as u32 + j);
				siblings.push(self.node(&snap, k).unwrap_or_else(|e| {
					self.poison(e);
					self.empty[level]
				}));
			}
		}
		MerklePath { index, siblings }
	}

	/// The siblings of an all-empty path in a tree of `depth` index bits.
	fn empty_path(&self, depth: usize) -> Vec<F> {
		self.empty[..depth / ARITY_BITS].iter().flat_map(|e| [*e; SIBLINGS]).collect()
	}

	// --- internals ---

	fn poison_slot(&self) -> std::sync::MutexGuard<'_, Option<StoreError>> {
		// The guarded value is a plain Option; a panic elsewhere cannot leave it half-written.
		self.poisoned.lock().unwrap_or_else(|e| e.into_inner())
	}

	/// Records the first error of the batch.
	fn poison(&self, e: StoreError) {
		let mut slot = self.poison_slot();
		if slot.is_none() {
			*slot = Some(e);
		}
	}

	fn discard(&mut self) {
		self.overlay = Overlay::default();
		self.root = self.committed_root;
	}

	fn snapshot(&self) -> Result<Snapshot, StoreError> {
		let read = self.db.begin_read()?;
		Ok(Snapshot {
			participants: read.open_table(PARTICIPANTS)?,
			grants: read.open_table(GRANTS)?,
			nodes: read.open_table(NODES)?,
		})
	}

	/// Runs a read of a node on a fresh snapshot; on error poisons and answers the empty leaf.
	fn read(&self, f: impl FnOnce(&Self, &Snapshot) -> Result<F, StoreError>) -> F {
		match self.snapshot().and_then(|snap| f(self, &snap)) {
			Ok(v) => v,
			Err(e) => {
				self.poison(e);
				F::ZERO
			},
		}
	}

	fn node(&self, snap: &Snapshot, key: NodeKey) -> Result<F, StoreError> {
		if let Some(v) = self.overlay.nodes.get(&key) {
			return Ok(*v);
		}
		match snap.nodes.get(key)? {
			Some(v) => decode_f(&v.value(), "node"),
			None => Ok(self.empty[key.2 as usize]),
		}
	}

	fn load_participant(
		&self,
		snap: &Snapshot,
		id: ParticipantId,
	) -> Result<Option<Participant>, StoreError> {
		if let Some(p) = self.overlay.participants.get(&id) {
			return Ok(Some(p.clone()));
		}
		match snap.participants.get(id)? {
			Some(v) => decode_participant(v.value())
				.map(Some)
				.map_err(|e| StoreError::Corrupt(format!("participant {id}: {e}"))),
			None => Ok(None),
		}
	}

	fn load_grant(
		&self,
		snap: &Snapshot,
		patient: ParticipantId,
		slot: GrantId,
	) -> Result<Option<Grant>, StoreError> {
		if let Some(g) = self.overlay.grants.get(&(patient, slot)) {
			return Ok(g.clone());
		}
		match snap.grants.get((patient, slot))? {
			Some(v) => decode_grant(v.value())
				.map(Some)
				.map_err(|e| StoreError::Corrupt(format!("grant {patient}/{slot}: {e}"))),
			None => Ok(None),
		}
	}

	/// Sets leaf `index` of a tree to `leaf` and recomputes the `levels` nodes above it (into
	/// the overlay); returns the tree's new root.
	fn update_path(
		&mut self,
		snap: &Snapshot,
		index: u32,
		levels: usize,
		leaf: F,
		key: impl Fn(usize, u32) -> NodeKey,
	) -> Result<F, StoreError> {
		let mut nodes = Vec::with_capacity(levels + 1);
		let mut cur = leaf;
		nodes.push((key(0, index), cur));
		for level in 0..levels {
			let i = index >> (ARITY_BITS * level);
			let first = i - i % ARITY as u32;
			let mut children = [F::ZERO; ARITY];
			for (j, child) in children.iter_mut().enumerate() {
				let at = first + j as u32;
				*child = if at == i { cur } else { self.node(snap, key(level, at))? };
			}
			cur = tree::node(&children);
			nodes.push((key(level + 1, i >> ARITY_BITS), cur));
		}
		self.overlay.nodes.extend(nodes);
		Ok(cur)
	}

	/// Recomputes participant leaf `id` from its record (if any) and consent root.
	fn refresh_participant(
		&mut self,
		snap: &Snapshot,
		id: ParticipantId,
		participant: Option<&Participant>,
	) -> Result<(), StoreError> {
		let Some(p) = participant else { return Ok(()) };
		let consent = self.node(snap, consent_node(id, GRANT_LEVELS, 0))?;
		let leaf = p.leaf(consent);
		self.root = self.update_path(snap, id, PARTICIPANT_LEVELS, leaf, participant_node)?;
		Ok(())
	}

	fn try_set_participant(
		&mut self,
		id: ParticipantId,
		participant: Participant,
	) -> Result<(), StoreError> {
		check_range(id, PARTICIPANT_DEPTH, "participant")?;
		let snap = self.snapshot()?;
		self.refresh_participant(&snap, id, Some(&participant))?;
		self.overlay.participants.insert(id, participant);
		Ok(())
	}

	fn try_set_grant(
		&mut self,
		patient: ParticipantId,
		slot: GrantId,
		value: Option<Grant>,
	) -> Result<(), StoreError> {
		check_range(patient, PARTICIPANT_DEPTH, "participant")?;
		check_range(slot, GRANT_DEPTH, "grant slot")?;
		let snap = self.snapshot()?;
		let owner = self.load_participant(&snap, patient)?;
		let leaf = value.as_ref().map(Grant::leaf).unwrap_or(F::ZERO);
		self.update_path(&snap, slot, GRANT_LEVELS, leaf, |l, i| consent_node(patient, l, i))?;
		self.refresh_participant(&snap, patient, owner.as_ref())?;
		self.overlay.grants.insert((patient, slot), value);
		Ok(())
	}
}

impl RollupState for Store {
	fn deployment(&self) -> DeploymentId {
		self.deployment
	}

	fn header(&self) -> Header {
		self.overlay.header.unwrap_or(self.committed_header)
	}

	fn set_header(&mut self, header: Header) {
		self.overlay.header = Some(header);
	}

	fn participant(&self, id: ParticipantId) -> Option<Participant> {
		if !in_range(id, PARTICIPANT_DEPTH) {
			return None;
		}
		match self.snapshot().and_then(|snap| self.load_participant(&snap, id)) {
			Ok(p) => p,
			Err(e) => {
				self.poison(e);
				None
			},
		}
	}

	fn set_participant(&mut self, id: ParticipantId, participant: Participant) {
		if let Err(e) = self.try_set_participant(id, participant) {
			self.poison(e);
		}
	}

	fn grant(&self, patient: ParticipantId, grant: GrantId) -> Option<Grant> {
		if !in_range(patient, PARTICIPANT_DEPTH) || !in_range(grant, GRANT_DEPTH) {
			return None;
		}
		match self.snapshot().and_then(|snap| self.load_grant(&snap, patient, grant)) {
			Ok(g) => g,
			Err(e) => {
				self.poison(e);
				None
			},
		}
	}

	fn set_grant(&mut self, patient: ParticipantId, grant: GrantId, value: Option<Grant>) {
		if let Err(e) = self.try_set_grant(patient, grant, value) {
			self.poison(e);
		}
	}
}

fn in_range(index: u32, depth: usize) -> bool {
	(index as u64) < (1u64 << depth)
}

fn check_range(index: u32, depth: usize, what: &'static str) -> Result<(), StoreError> {
	if in_range(index, depth) {
		Ok(())
	} else {
		Err(StoreError::OutOfRange { what, value: index, depth })
	}
}

// --- record encoding ---

/// The 32-byte canonical little-endian encoding of a field element.
fn f_bytes(f: &F) -> [u8; 32] {
	let mut out = [0u8; 32];
	// An element of the 255-bit field is exactly 32 bytes compressed (checked by a test).
	f.serialize_compressed(&mut out[..]).expect("a field element fits 32 bytes");
	out
}

fn decode_f(bytes: &[u8], what: &str) -> Result<F, StoreError> {
	if bytes.len() != 32 {
		return Err(StoreError::Corrupt(format!("{what}: {} bytes, expected 32", bytes.len())));
	}
	F::deserialize_with_mode(bytes, Compress::Yes, Validate::Yes)
		.map_err(|e| StoreError::Corrupt(format!("{what}: not a canonical field element ({e})")))
}

fn decode_u32(bytes: &[u8], what: &str) -> Result<u32, StoreError> {
	let arr: [u8; 4] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 4", bytes.len())))?;
	Ok(u32::from_le_bytes(arr))
}

fn decode_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
	let arr: [u8; 8] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 8", bytes.len())))?;
	Ok(u64::from_le_bytes(arr))
}

fn put_f(out: &mut Vec<u8>, f: &F) {
	out.extend_from_slice(&f_bytes(f));
}

fn encode_participant(p: &Participant) -> Vec<u8> {
	let mut out = Vec::with_capacity(180);
	out.push(RECORD_VERSION);
	out.push(p.role.code());
	out.push(p.active as u8);
	out.extend_from_slice(&p.key.to_bytes());
	put_f(&mut out, &p.encryption_key);
	out.extend_from_slice(&p.nonce.to_le_bytes());
	put_f(&mut out, &p.index_head);
	out.extend_from_slice(&p.index_version.to_le_bytes());
	out.extend_from_slice(&p.affiliation.to_le_bytes());
	out.push(p.affiliation_org);
	out.push(p.org);
	match &p.emergency_key {
		None => out.push(0),
		Some(k) => {
			out.push(1);
			out.extend_from_slice(&k.to_bytes());
		},
	}
	put_f(&mut out, &p.log);
	out
}

fn encode_header(h: &Header) -> Vec<u8> {
	let mut out = Vec::with_capacity(37);
	out.extend_from_slice(&h.participants.to_le_bytes());
	out.push(h.next_org);
	for word in h.orgs.0 {
		out.extend_from_slice(&word.to_le_bytes());
	}
	out
}

fn decode_header(bytes: &[u8]) -> Result<Header, String> {
	let mut c = Cursor(bytes);
	let participants = c.u32()?;
	let next_org = c.u8()?;
	let mut words = [0u64; 4];
	for w in &mut words {
		*w = c.u64()?;
	}
	c.finish()?;
	let header = Header { participants, next_org, orgs: OrgSet(words) };
	// Indices are given in order: none at or beyond the next one is set (the last, 255, is
	// never given: `MAX_ORGS`).
	let beyond = (next_org as u32..=MAX_ORGS).any(|k| header.orgs.contains(k as u8));
	if beyond {
		return Err("header: an organisation at or beyond the next index".into());
	}
	Ok(header)
}

fn encode_grant(g: &Grant) -> Vec<u8> {
	let mut out = Vec::with_capacity(65);
	out.push(RECORD_VERSION);
	out.extend_from_slice(&g.grantee.to_le_bytes());
	out.push(g.permissions);
	out.push(g.purposes);
	out.extend_from_slice(&g.scope.to_le_bytes());
	out.extend_from_slice(&g.expires_at.to_le_bytes());
	out.push(g.emergency as u8);
	out.push(g.claim_status.code());
	put_f(&mut out, &g.claim_record);
	out.extend_from_slice(&g.claim_amount.to_le_bytes());
	out.extend_from_slice(&g.settled.to_le_bytes());
	out
}

/// Reads a record front to back; every failure is a message for [`StoreError::Corrupt`].
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
	fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
		if self.0.len() < N {
			return Err(format!("truncated ({} bytes left, {N} needed)", self.0.len()));
		}
		let (head, rest) = self.0.split_at(N);
		self.0 = rest;
		let mut out = [0u8; N];
		out.copy_from_slice(head);
		Ok(out)
	}

	fn u8(&mut self) -> Result<u8, String> {
		Ok(self.take::<1>()?[0])
	}

	fn bool(&mut self) -> Result<bool, String> {
		match self.u8()? {
			0 => Ok(false),
			1 => Ok(true),
			b => Err(format!("bad boolean {b}")),
		}
	}

	fn u32(&mut self) -> Result<u32, String> {
		Ok(u32::from_le_bytes(self.take()?))
	}

	fn u64(&mut self) -> Result<u64, String> {
		Ok(u64::from_le_bytes(self.take()?))
	}

	fn f(&mut self) -> Result<F, String> {
		let bytes = self.take::<32>()?;
		F::deserialize_with_mode(&bytes[..], Compress::Yes, Validate::Yes)
			.map_err(|e| format!("not a canonical field element ({e})"))
	}

	/// A curve point as stored. Only on-curve is checked: the store returns what the rules wrote
	/// (an emergency key is a sum of two keys and may fall outside what
	/// [`PublicKey::from_bytes`] accepts, e.g. the identity).
	fn key(&mut self) -> Result<PublicKey, String> {
		let bytes = self.take::<32>()?;
		let p = ark_ed_on_bls12_381_bandersnatch::EdwardsAffine::deserialize_with_mode(
			&bytes[..],
			Compress::Yes,
			Validate::No,
		)
		.map_err(|e| format!("not a curve point ({e})"))?;
		if !p.is_on_curve() {
			return Err("point not on the curve".into());
		}
		Ok(PublicKey(p))
	}

	fn version(&mut self) -> Result<(), String> {
		match self.u8()? {
			RECORD_VERSION => Ok(()),
			v => Err(format!("unknown record version {v}")),
		}
	}

	fn finish(self) -> Result<(), String> {
		if self.0.is_empty() {
			Ok(())
		} else {
			Err(format!("{} trailing bytes", self.0.len()))
		}
	}
}

fn decode_participant(bytes: &[u8]) -> Result<Participant, String> {
	let mut c = Cursor(bytes);
	c.version()?;
	let role = c.u8()?;
	let role = Role::from_code(role).ok_or_else(|| format!("bad role code {role}"))?;
	let active = c.bool()?;
	let key = c.key()?;
	let encryption_key = c.f()?;
	let nonce = c.u32()?;
	let index_head = c.f()?;
	let index_version = c.u32()?;
	let affiliation = c.u32()?;
	let affiliation_org = c.u8()?;
	let org = c.u8()?;
	let emergency_key = if c.bool()? { Some(c.key()?) } else { None };
	let log = c.f()?;
	c.finish()?;
	Ok(Participant {
		role,
		active,
		key,
		encryption_key,
		nonce,
		index_head,
		index_version,
		affiliation,
		affiliation_org,
		org,
		emergency_key,
		log,
	})
}

fn decode_grant(bytes: &[u8]) -> Result<Grant, String> {
	let mut c = Cursor(bytes);
	c.version()?;
	let grantee = c.u32()?;
	let permissions = c.u8()?;
	let purposes = c.u8()?;
	let scope = c.u32()?;
	let expires_at = c.u32()?;
	let emergency = c.bool()?;
	let claim_status = match c.u8()? {
		0 => ClaimStatus::None,
		1 => ClaimStatus::Open,
		2 => ClaimStatus::Approved,
		3 => ClaimStatus::Rejected,
		s => return Err(format!("bad claim status {s}")),
	};
	let claim_record = c.f()?;
	let claim_amount = c.u64()?;
	let settled = c.u64()?;
	c.finish()?;
	Ok(Grant {
		grantee,
		permissions,
		purposes,
		scope,
		expires_at,
		emergency,
		claim_status,
		claim_record,
		claim_amount,
		settled,
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use emr_primitives::{
		memory::MemoryState,
		ops::{permission, purpose, scope, Operation, Role, SignedOp},
		poseidon, rules,
		schnorr::SecretKey,
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
				let children: Vec<F> =
					(0..8).map(|j| sub(leaves, level - 1, 8 * index + j)).collect();
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
			claim_status: [ClaimStatus::None, ClaimStatus::Open, ClaimStatus::Approved]
				[n as usize % 3],
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
		assert!(
			matches!(store.check(), Err(StoreError::Corrupt(m)) if m.contains("participant 1"))
		);
		store.rollback();
		assert_eq!(store.grant(1, 0), None);
		assert!(matches!(store.check(), Err(StoreError::Corrupt(_))));
		store.rollback();
		// A write that needs the corrupt participant record poisons too; commit refuses.
		store.set_grant(1, 1, Some(grant(1)));
		assert!(matches!(store.commit(2), Err(StoreError::Corrupt(_))));
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
		set_meta(META_ROOT, &f_bytes(&F::from(5u64)));
		assert!(matches!(Store::open(&path, deployment()), Err(StoreError::Corrupt(_))));
		set_meta(META_ROOT, &[0xFF; 32]);
		assert!(matches!(Store::open(&path, deployment()), Err(StoreError::Corrupt(_))));
		// Format 2 (binary trees) is not read as the 8-ary trees of format 3.
		set_meta(META_FORMAT, &2u32.to_le_bytes());
		assert!(matches!(Store::open(&path, deployment()), Err(StoreError::Format { found: 2 })));
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
		assert_eq!(F::from(1u64).compressed_size(), 32);
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

		let good = encode_participant(&p);
		assert!(decode_participant(&good[..good.len() - 1]).is_err(), "truncated");
		assert!(decode_participant(&[good.clone(), vec![0]].concat()).is_err(), "trailing");
		assert!(decode_participant(&[]).is_err(), "empty");
		let mut bad = good.clone();
		bad[0] = 2;
		assert!(decode_participant(&bad).is_err(), "version");
		let mut bad = good.clone();
		bad[1] = 0;
		assert!(decode_participant(&bad).is_err(), "role");
		let mut bad = good.clone();
		bad[2] = 2;
		assert!(decode_participant(&bad).is_err(), "bool");
		let mut bad = good.clone();
		bad[35..67].copy_from_slice(&[0xFF; 32]);
		assert!(decode_participant(&bad).is_err(), "non-canonical field element");
		let mut bad = good.clone();
		bad[3..35].copy_from_slice(&[0xFF; 32]);
		assert!(decode_participant(&bad).is_err(), "not a point");

		let good = encode_grant(&grant(3));
		assert_eq!(good.len(), 65);
		let mut bad = good.clone();
		bad[16] = 4;
		assert!(decode_grant(&bad).is_err(), "claim status");
		assert!(decode_grant(&good[..64]).is_err(), "truncated");
		assert!(decode_f(&[0u8; 31], "x").is_err());
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
}
