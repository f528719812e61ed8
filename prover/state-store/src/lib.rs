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
//! Field elements are 32 bytes, little-endian, canonical
//! ([`emr_primitives::stored::field_bytes`]); integers are little-endian. The `format` entry is
//! [`FORMAT_VERSION`]; [`Store::open`] refuses a file of another format
//! ([`StoreError::Format`]) without reading or changing it: such a store is deleted and rebuilt
//! from the inbox history.
//!
//! A participant or grant record is one version byte (2) followed by the SCALE encoding of the
//! form the runtime stores, [`StoredParticipant`](emr_primitives::stored::StoredParticipant) or
//! [`StoredGrant`](emr_primitives::stored::StoredGrant), converted from and to the rules' types by
//! the conversions of [`emr_primitives::stored`] (one format for the chain and the prover). Keys
//! are stored uncompressed (`x`, `y`), so a read rebuilds them without a square root:
//!
//! ```text
//! participant (178 bytes, 242 with an emergency key):
//!     2 | role u8 | active u8 | key (x, y) [64] | encryption_key F | nonce u32 | index_head F
//!       | index_version u32 | affiliation u32 | affiliation_org u8 | org u8
//!       | 0 or (1 | emergency_key (x, y) [64]) | log F
//! grant (65 bytes):
//!     2 | grantee u32 | permissions u8 | purposes u8 | scope u32 | expires_at u32
//!       | emergency u8 | claim_status u8 | claim_record F | claim_amount u64 | settled u64
//! ```
//!
//! A record is refused ([`StoreError::CorruptParticipant`], [`StoreError::CorruptGrant`], with
//! the [`RecordError`]) when its version byte is another, it is not exactly one SCALE value (an
//! unknown enum or boolean byte, truncated, trailing bytes), a field element is not canonical or
//! a key is not a point of the curve.
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
use emr_primitives::{
	ops::{DeploymentId, GrantId, ParticipantId, GRANT_DEPTH, PARTICIPANT_DEPTH},
	state::{empty_consent_root, Grant, Header, Participant, RollupState},
	stored::field_bytes,
	tree::{empty_roots, GRANT_LEVELS, PARTICIPANT_LEVELS},
	F,
};
use redb::{Database, ReadOnlyTable, ReadableTable, TableDefinition};
use std::{
	collections::BTreeMap,
	path::Path,
	sync::{Arc, Mutex},
};

pub use self::codec::RecordError;
use self::codec::{
	decode_f, decode_grant, decode_header, decode_participant, decode_u32, decode_u64,
	encode_grant, encode_header, encode_participant,
};

mod codec;
mod paths;
mod provable;
#[cfg(test)]
mod tests;

/// Version of the on-disk format (the `format` meta entry; 2: participants without a next grant
/// slot, since grants name their slot; 3: 8-ary trees; 4: the header, organisation indices in
/// participant records; 5: records as SCALE of the runtime's storage form).
pub const FORMAT_VERSION: u32 = 5;

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
	/// A participant record does not decode.
	#[error("corrupt store: participant {id}: {source}")]
	CorruptParticipant {
		/// The participant id.
		id: ParticipantId,
		/// Why the record does not decode.
		source: RecordError,
	},
	/// A grant record does not decode.
	#[error("corrupt store: grant {patient}/{slot}: {source}")]
	CorruptGrant {
		/// The patient.
		patient: ParticipantId,
		/// The grant slot.
		slot: GrantId,
		/// Why the record does not decode.
		source: RecordError,
	},
	/// The file was written in another format version; nothing was read or changed. The state
	/// is rebuilt by replaying the rollup's inbox history into a new store.
	#[error(
		"the store was written in format {found} and this build reads format {FORMAT_VERSION}: \
		 delete the store file to rebuild the prover state from the inbox history"
	)]
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

pub use paths::MerklePath;

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
			Some(v) => decode_header(v.value())?,
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
					nodes.insert(*key, field_bytes(value))?;
				}
			}
			let mut meta = txn.open_table(META)?;
			meta.insert(META_BATCH, &batch.to_le_bytes()[..])?;
			meta.insert(META_ROOT, &field_bytes(&self.root)[..])?;
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
				.map_err(|source| StoreError::CorruptParticipant { id, source }),
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
				.map_err(|source| StoreError::CorruptGrant { patient, slot, source }),
			None => Ok(None),
		}
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
