//! `emr-prover example-batch`: a batch file of the example story, and the story itself (which
//! `emr-prover constraints` also walks).

use crate::io::FileError;
use clap::Args;
use codec::Encode;
use emr_circuit::{
	files::{BatchFile, VERSION},
	groth16::write_file,
};
use emr_primitives::{
	inbox::InboxEntry,
	ops::{kind, permission, purpose, scope, Cid, Operation, Origin, Role, SignedOp},
	testing::{self, emergency, Actor},
};
use std::path::PathBuf;

/// Writes an example batch of the test deployment (`DeploymentId::named("test")`; the
/// emr-chain story: admissions, a patient, consent, records,
/// access, emergency, a claim).
#[derive(Debug, Args)]
pub struct ExampleBatchCmd {
	/// Output file.
	#[arg(long)]
	out: PathBuf,
	/// Batch number.
	#[arg(long, default_value_t = 1)]
	number: u64,
	/// Exactly this many entries: the story cut short, or filled up with more patients
	/// registering, granting consent and being read; default: the story alone.
	#[arg(long)]
	entries: Option<usize>,
	/// Leave out the story's first entries (those of earlier batches): the batch then holds
	/// entries `skip + 1 ..= skip + entries` of the (filled) story.
	#[arg(long, default_value_t = 0)]
	skip: usize,
}

/// Why no example batch was written.
#[derive(Debug, thiserror::Error)]
pub enum ExampleBatchError {
	/// `--skip` plus `--entries` overflows.
	#[error("--skip + --entries is too large")]
	TooLarge,
	/// `--skip` leaves nothing.
	#[error("--skip {skip} leaves no entry (the story has {len})")]
	NothingLeft {
		/// `--skip`.
		skip: usize,
		/// Entries of the (filled) story.
		len: usize,
	},
	/// Writing the file failed.
	#[error(transparent)]
	File(#[from] FileError),
}

impl ExampleBatchCmd {
	/// Writes the batch file and says how many entries it holds.
	pub fn execute(self) -> Result<(), ExampleBatchError> {
		let Self { out, number, entries, skip } = self;
		let mut all = example_entries();
		if let Some(n) = entries {
			let end = skip.checked_add(n).ok_or(ExampleBatchError::TooLarge)?;
			all.truncate(end);
			fill(&mut all, end);
		}
		if skip >= all.len() {
			return Err(ExampleBatchError::NothingLeft { skip, len: all.len() });
		}
		all.drain(..skip);
		let file =
			BatchFile { version: VERSION, deployment: testing::deployment(), number, entries: all };
		write_file(&out, &file.encode()).map_err(FileError::from)?;
		println!("{} entries written to {}", file.entries.len(), out.display());
		Ok(())
	}
}

/// The example story of the test deployment: admissions, a patient, consent, records,
/// access, emergency, a claim.
pub fn example_entries() -> Vec<InboxEntry> {
	let mut taken = vec![];
	let mut next = |seed| {
		let a = Actor::new(seed, taken.len() as u32 + 1);
		taken.push(a.id);
		a
	};
	let mut hospital = next(1);
	let mut insurer = next(2);
	let mut patient = next(3);
	let mut doctor = next(4);
	let p = patient.id;
	let mut e = vec![
		hospital.admit(Role::Hospital, 1),
		insurer.admit(Role::Insurer, 1),
		patient.register(2),
		doctor.register_as(Role::Doctor, 2),
		hospital.sign(Operation::CredentialDoctor { doctor: doctor.id }, 2),
	];
	e.push(patient.sign(
		Operation::GrantConsent {
			grantee: hospital.id,
			permissions: permission::READ | permission::WRITE,
			purposes: purpose::TREATMENT,
			scope: scope::ALL,
			expires_at: 100_000,
			slot: 0,
		},
		3,
	));
	e.push(doctor.sign(
		Operation::AppendRecord {
			patient: p,
			grant: 0,
			expected_version: 0,
			index_head: Cid(b"bafkreiexampleindexhead".to_vec()),
		},
		4,
	));
	e.push(doctor.sign(
		Operation::AccessRecord { patient: p, grant: 0, purpose: purpose::TREATMENT, scope: 1 },
		4,
	));
	e.push(emergency(&mut doctor, &hospital, p, 1, 1, 5));
	e.push(patient.sign(
		Operation::GrantConsent {
			grantee: insurer.id,
			permissions: permission::CLAIM,
			purposes: purpose::INSURANCE,
			scope: scope::ALL,
			expires_at: 100_000,
			slot: 2,
		},
		6,
	));
	e.push(
		insurer.sign(
			Operation::SubmitClaim { patient: p, grant: 2, record: [7; 32], amount: 1200 },
			6,
		),
	);
	e.push(
		insurer
			.sign(Operation::DecideClaim { patient: p, grant: 2, approve: true, settled: 1000 }, 7),
	);
	e.push(patient.sign(Operation::RevokeConsent { grant: 1 }, 7));
	e.push(hospital.sign(Operation::RevokeCredential { doctor: doctor.id }, 8));
	e.push(InboxEntry {
		op: SignedOp {
			actor: doctor.id,
			nonce: 0,
			op: Operation::RemoveMember,
			signature: [0; 64],
		},
		origin: Origin::Governance,
		block: 8,
	});
	e
}

/// Appends patients who register, grant the example hospital consent and are read by it, until
/// `n` entries.
pub fn fill(entries: &mut Vec<InboxEntry>, n: usize) {
	let mut hospital = Actor::new(1, 1);
	// The hospital's next nonce after the story.
	hospital.nonce =
		entries.iter().filter(|e| e.op.actor == hospital.id && e.origin == Origin::User).count()
			as u32;
	// Ids are assigned in order: one per registration or admission so far.
	let mut next = entries
		.iter()
		.filter(|e| matches!(e.op.op.kind(), kind::REGISTER | kind::ADMIT_MEMBER))
		.count() as u32
		+ 1;
	let mut seed = 1000;
	while entries.len() < n {
		let mut patient = Actor::new(seed, next);
		seed += 1;
		next += 1;
		let block = 10 + entries.len() as u32;
		let mut batch = vec![
			patient.register(block),
			patient.sign(
				Operation::GrantConsent {
					grantee: hospital.id,
					permissions: permission::READ,
					purposes: purpose::TREATMENT,
					scope: scope::ALL,
					expires_at: 100_000,
					slot: 0,
				},
				block,
			),
			hospital.sign(
				Operation::AccessRecord {
					patient: patient.id,
					grant: 0,
					purpose: purpose::TREATMENT,
					scope: 1,
				},
				block,
			),
		];
		batch.truncate(n - entries.len());
		entries.extend(batch);
	}
}
