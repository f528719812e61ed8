//! `emr record …`: encrypted records (put, get, share, rotate), with `--chain` the consent-gated
//! workflows of `emr_client::records_on_chain`.

use std::{fs, io::Write, path::PathBuf};

use clap::Subcommand;
use emr_client::{
	chain::NodeClient,
	client::{human_bytes, Client},
	ids::{PatientId, RecordRef},
	records_on_chain::{self, describe, participant_reader},
	storage::{Storage, Store},
};
use emr_primitives::ops::ParticipantId;

use super::{access::access, print_submitted};
use crate::context::{io_err, parse_cid, parse_id, parse_reader, CliError, Context, Stderr};

/// `emr record …`
#[derive(Subcommand, Debug)]
pub enum RecordCmd {
	/// Encrypt a file, store it and append it to the patient's index.
	Put {
		/// The file.
		file: PathBuf,
		/// Patient id (1-64 of A-Z a-z 0-9 . _ -).
		#[arg(long)]
		patient: String,
		/// Media type: a FHIR resource type (Observation, DiagnosticReport, …) or a MIME type.
		#[arg(long = "type", value_name = "T", default_value = "application/octet-stream")]
		media_type: String,
		/// Also readable by (repeatable): name=<hex X25519 key>, <hex>, a key card file, or
		/// `participant:ID` (its encryption key read from the chain's registry).
		#[arg(long, value_name = "READER")]
		reader: Vec<String>,
		/// The patient is a participant id: read the index head from the chain, make the record
		/// readable by the patient, and append the new head on chain (refused if someone wrote
		/// meanwhile).
		#[arg(long)]
		chain: bool,
		/// With --chain: write only if the patient's index is still at version N, the one you
		/// read (`record get --chain` and `index show --chain` print it); the chain refuses the
		/// write if anyone wrote since (default: the version read when this command starts).
		#[arg(long, value_name = "N", requires = "chain")]
		if_version: Option<u32>,
	},
	/// Fetch, decrypt and verify a record.
	Get {
		/// Record id as printed by `put` (<patient>/<32 hex>).
		id: String,
		/// Where to write the plaintext (written only if everything verifies).
		#[arg(long, value_name = "FILE")]
		out: PathBuf,
		/// Version to fetch (default: the newest you can read).
		#[arg(long)]
		version: Option<u32>,
		/// Start from this index head instead of the one stored on this machine.
		#[arg(long, value_name = "CID")]
		head: Option<String>,
		/// Start from the index head on the chain (the patient is a participant id); someone
		/// else's record is read only after a logged access attempt the chain GRANTED.
		#[arg(long, conflicts_with = "head")]
		chain: bool,
		/// The purpose of the access attempt (with --chain): treatment, research, insurance,
		/// emergency or audit.
		#[arg(long, default_value = "treatment")]
		purpose: String,
	},
	/// Give another reader the key of the newest version (appends an index entry).
	Share {
		/// Record id.
		id: String,
		/// The reader: name=<hex X25519 key>, <hex>, or a key card file from `emr keys export`.
		#[arg(long = "with", value_name = "READER")]
		with: String,
	},
	/// Re-encrypt the newest version under a new key for its current readers (minus --remove).
	/// This stops removed readers from opening new versions; it cannot unread old ones.
	Rotate {
		/// Record id.
		id: String,
		/// Reader to drop (repeatable), as for --with.
		#[arg(long, value_name = "READER")]
		remove: Vec<String>,
	},
}

/// Makes the chain's head of `id`'s index the one `client` starts from, saying which; returns
/// the index version it had (0: no record yet).
pub async fn adopt_chain_head<S: Storage>(
	node: &NodeClient,
	client: &Client<S>,
	patient: &PatientId,
	id: ParticipantId,
) -> Result<u32, CliError> {
	let h = records_on_chain::adopt_chain_head(node, client, patient, id).await?;
	eprintln!(
		"… index head of patient {id} from the chain: {}",
		h.head.map(|c| format!("{c} (version {})", h.version)).unwrap_or_else(|| "none yet".into())
	);
	Ok(h.version)
}

impl RecordCmd {
	/// Runs it.
	pub async fn execute(
		self,
		ctx: &Context,
		client: &Client<Store>,
		node: &NodeClient,
	) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		let p = &mut Stderr;
		match self {
			RecordCmd::Put { file, patient, media_type, reader, chain: on_chain, if_version } => {
				let patient = PatientId::new(&patient)?;
				let mut readers = Vec::new();
				for r in &reader {
					readers.push(match r.strip_prefix("participant:") {
						Some(id) => participant_reader(node, parse_id(id)?).await?,
						None => parse_reader(r)?,
					});
				}
				let keys = ctx.open_keys()?;
				let on_chain = match on_chain {
					false => None,
					true => {
						let id = parse_id(patient.as_str())?;
						readers.push(participant_reader(node, id).await?);
						let seen = adopt_chain_head(node, client, &patient, id).await?;
						// The chain checks it (`VersionMismatch`): not checked here twice.
						Some((id, if_version.unwrap_or(seen)))
					},
				};
				let f = fs::File::open(&file).map_err(io_err("opening", &file))?;
				let len = f.metadata().map_err(io_err("reading", &file))?.len();
				let mut input = std::io::BufReader::new(f);
				let r =
					client.put(&keys, &patient, &mut input, len, &media_type, &readers, p).await?;
				let _ = writeln!(out, "record:      {}", r.record);
				let _ = writeln!(out, "version:     {}", r.version);
				let _ = writeln!(out, "cid:         {}", r.ciphertext);
				let _ = writeln!(out, "sha256:      {}", hex::encode(r.content_hash));
				let _ = writeln!(
					out,
					"readers:     {}",
					r.readers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
				);
				let _ = writeln!(out, "index head:  {}", r.head);
				if let Some((id, seen)) = on_chain {
					let s =
						records_on_chain::append_head(node, &keys, id, seen, &r.head, ctx.wait, p)
							.await?;
					print_submitted(&mut out, describe(&s.signed.op), &s);
				}
			},
			RecordCmd::Get { id, out: path, version, head, chain: on_chain, purpose } => {
				let rref: RecordRef = id.parse()?;
				let head = head.as_deref().map(parse_cid).transpose()?;
				let keys = ctx.open_keys()?;
				if on_chain {
					let pid = parse_id(rref.patient.as_str())?;
					if node.me(&keys.public).await?.id != pid {
						let mut err = std::io::stderr().lock();
						access(ctx, node, &mut err, &keys, pid, &purpose, None).await?;
					}
					adopt_chain_head(node, client, &rref.patient, pid).await?;
				}
				let r = client.get_to_file(&keys, &rref, version, head, &path, p).await?;
				if r.newer_hidden > 0 {
					eprintln!(
						"note: {} newer index entr{} of this record {} not shared with you; if the record was rotated without you, you no longer have access to its newer versions",
						r.newer_hidden,
						if r.newer_hidden == 1 { "y" } else { "ies" },
						if r.newer_hidden == 1 { "is" } else { "are" }
					);
				}
				let _ = writeln!(out, "record:      {rref}");
				let _ = writeln!(out, "version:     {}", r.version);
				let _ = writeln!(out, "type:        {}", r.metadata.media_type);
				let _ = writeln!(
					out,
					"size:        {} ({} bytes)",
					human_bytes(r.metadata.content_length),
					r.metadata.content_length
				);
				let _ = writeln!(
					out,
					"sha256:      {} (verified)",
					hex::encode(r.metadata.content_hash)
				);
				let _ = writeln!(out, "written to:  {}", path.display());
			},
			RecordCmd::Share { id, with } => {
				let rref: RecordRef = id.parse()?;
				let reader = parse_reader(&with)?;
				let keys = ctx.open_keys()?;
				let r = client.share(&keys, &rref, &reader, p).await?;
				let _ = writeln!(
					out,
					"shared:      {} version {} with {}",
					r.record, r.version, reader
				);
				let _ = writeln!(out, "index head:  {}", r.head);
			},
			RecordCmd::Rotate { id, remove } => {
				let rref: RecordRef = id.parse()?;
				let remove = remove
					.iter()
					.map(|r| parse_reader(r).map(|r| r.key))
					.collect::<Result<Vec<_>, _>>()?;
				let keys = ctx.open_keys()?;
				let r = client.rotate(&keys, &rref, &remove, p).await?;
				let _ = writeln!(out, "record:      {}", r.record);
				let _ = writeln!(out, "version:     {}", r.version);
				let _ = writeln!(out, "cid:         {}", r.ciphertext);
				let _ = writeln!(
					out,
					"readers:     {}",
					r.readers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
				);
				let _ = writeln!(out, "index head:  {}", r.head);
				eprintln!("note: removed readers cannot open this version; they keep access to what they could already read (revocation cannot unread)");
			},
		}
		Ok(())
	}
}
