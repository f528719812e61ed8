//! The `emr` command line (parsing, passphrases, output). `main.rs` only calls [`run`].

use std::{
	ffi::OsString,
	fs,
	io::Write,
	path::{Path, PathBuf},
	time::Duration,
};

use clap::{Parser, Subcommand};

mod chain_commands;
pub use chain_commands::{ChainCmd, ClaimCmd, ConsentCmd, DoctorCmd, PersonRole, WaitArgs};

use crate::{
	chain::{ChainError, NodeClient, DEFAULT_NODE},
	client::{human_bytes, Client, ClientError, Progress, WalkItem},
	ids::{IdError, PatientId, Reader, RecordRef},
	index::EntryKind,
	keys::{KeySet, Keystore, KeystoreError, PublicKeys},
	state::ChainState,
	storage::{Cid, EmbeddedStore, KuboClient, KuboConfig, Storage, StorageError, Store},
};

/// emr-chain client: encrypted medical records on IPFS behind a per-patient index.
#[derive(Parser, Debug)]
#[command(name = "emr", version, about, long_about = None)]
pub struct Cli {
	/// Data directory (embedded block store, index heads, default keystore).
	/// Default: $EMR_DATA_DIR, else $XDG_DATA_HOME/emr, else ~/.local/share/emr.
	#[arg(long, global = true, value_name = "DIR")]
	pub data_dir: Option<PathBuf>,
	/// Keystore directory. Default: <data-dir>/keystore.
	#[arg(long, global = true, value_name = "DIR")]
	pub keystore: Option<PathBuf>,
	/// Key set to use. Default: $EMR_KEY, else "default".
	#[arg(long, global = true, value_name = "NAME")]
	pub key: Option<String>,
	/// Read the keystore passphrase from this file (first line). Otherwise $EMR_PASSPHRASE, else a
	/// prompt on the terminal.
	#[arg(long, global = true, value_name = "FILE")]
	pub passphrase_file: Option<PathBuf>,
	/// Use the IPFS daemon with this RPC API address (Kubo or js-ipfs) instead of the embedded
	/// store, e.g. http://127.0.0.1:5001.
	#[arg(long, global = true, value_name = "URL")]
	pub ipfs_api: Option<String>,
	/// Seconds to wait for the IPFS daemon (connect, answer, each pause while streaming).
	#[arg(long, global = true, value_name = "SECS", default_value_t = 10)]
	pub ipfs_timeout: u64,
	/// The emr-chain node to talk to (a full node you trust; its JSON-RPC address).
	/// Default: $EMR_NODE, else http://127.0.0.1:9944.
	#[arg(long, global = true, value_name = "URL")]
	pub node: Option<String>,
	/// Seconds to wait for each answer of the node.
	#[arg(long, global = true, value_name = "SECS", default_value_t = 30)]
	pub node_timeout: u64,
	/// Read the chain through a light client in this process (smoldot: GRANDPA finality,
	/// storage proofs; no node trusted), started from this raw chain spec. Operations are still
	/// submitted through --node. Default: $EMR_CHAIN_SPEC (set it empty to read from the node).
	#[arg(long, global = true, value_name = "CHAIN_SPEC")]
	pub light: Option<PathBuf>,
	/// A node the light client connects to first (a libp2p multiaddress ending in /p2p/PEER_ID;
	/// repeatable). Default: $EMR_BOOTNODES (space-separated), else the chain spec's boot nodes.
	#[arg(long, global = true, value_name = "MULTIADDR")]
	pub bootnode: Vec<String>,
	/// Seconds the light client may take to join the network and follow finality.
	#[arg(long, global = true, value_name = "SECS", default_value_t = 120)]
	pub light_timeout: u64,
	/// How long commands that submit an operation wait.
	#[command(flatten)]
	pub wait: WaitArgs,
	/// What to do.
	#[command(subcommand)]
	pub command: Command,
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
pub enum Command {
	/// Key sets: chain account (sr25519), rollup key, encryption key (X25519).
	#[command(subcommand)]
	Keys(KeysCmd),
	/// Encrypted records.
	#[command(subcommand)]
	Record(RecordCmd),
	/// Plain content-addressed storage (for operators; CIDs match `ipfs add --cid-version=1 --raw-leaves`).
	#[command(subcommand)]
	Store(StoreCmd),
	/// Patient indexes.
	#[command(subcommand)]
	Index(IndexCmd),
	/// Operations on the chain.
	#[command(flatten)]
	Chain(ChainCmd),
}

/// `emr keys …`
#[derive(Subcommand, Debug)]
pub enum KeysCmd {
	/// Create a new key set, encrypted with a passphrase.
	New {
		/// Use the INSECURE published keys of a development identity (Alice, Bob, Charlie,
		/// Dave, Eve, Ferdie), which the dev chains admit as organisations. Never on a network
		/// others use.
		#[arg(long, value_name = "NAME")]
		dev: Option<String>,
	},
	/// Show the public keys of a key set (no passphrase needed).
	Show,
	/// Write the public key card (JSON) others use to share records with you.
	Export {
		/// Write to this file instead of standard output.
		#[arg(long, value_name = "FILE")]
		out: Option<PathBuf>,
	},
}

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

/// `emr store …`
#[derive(Subcommand, Debug)]
pub enum StoreCmd {
	/// Store a file as is (not encrypted) and print its CID.
	Add {
		/// The file.
		file: PathBuf,
	},
	/// Print the content of a CID (or write it to --out).
	Cat {
		/// The CID.
		cid: String,
		/// Write to this file instead of standard output.
		#[arg(long, value_name = "FILE")]
		out: Option<PathBuf>,
	},
}

/// `emr index …`
#[derive(Subcommand, Debug)]
pub enum IndexCmd {
	/// Walk a patient's index from its head and list what you may see.
	Show {
		/// Patient id.
		#[arg(long)]
		patient: String,
		/// Start from this index head instead of the one stored on this machine.
		#[arg(long, value_name = "CID")]
		head: Option<String>,
		/// Start from the index head on the chain (the patient is a participant id).
		#[arg(long, conflicts_with = "head")]
		chain: bool,
	},
}

/// Everything `emr` can report.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
	/// Client operation failed.
	#[error(transparent)]
	Client(#[from] ClientError),
	/// Storage failed.
	#[error(transparent)]
	Storage(#[from] StorageError),
	/// Keystore failed.
	#[error(transparent)]
	Keystore(#[from] KeystoreError),
	/// Bad identifier.
	#[error(transparent)]
	Id(#[from] IdError),
	/// Bad CID.
	#[error("invalid CID {0:?}")]
	BadCid(String),
	/// No passphrase available.
	#[error("no passphrase: use --passphrase-file FILE, set EMR_PASSPHRASE, or run in a terminal")]
	NoPassphrase,
	/// Passphrases differ.
	#[error("the two passphrases differ")]
	PassphraseMismatch,
	/// Local file error.
	#[error("{action} {path}: {source}")]
	Io {
		/// What was being done.
		action: &'static str,
		/// The file.
		path: PathBuf,
		/// The operating system's error.
		source: std::io::Error,
	},
	/// The async runtime could not start.
	#[error("could not start the I/O runtime: {0}")]
	Runtime(std::io::Error),
	/// Talking to the chain failed, or the chain refused.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// A request that cannot be carried out as given.
	#[error("{0}")]
	Usage(String),
	/// An audit found a disagreement (or could not gather its evidence).
	#[error(transparent)]
	Audit(#[from] crate::audit::AuditError),
}

/// Prints progress on standard error.
struct Stderr;
impl Progress for Stderr {
	fn step(&mut self, message: &str) {
		eprintln!("… {message}");
	}
}

fn io_err<'a>(
	action: &'static str,
	path: &'a Path,
) -> impl FnOnce(std::io::Error) -> CliError + 'a {
	move |source| CliError::Io { action, path: path.to_owned(), source }
}

/// The default data directory.
pub fn default_data_dir() -> PathBuf {
	if let Some(d) = std::env::var_os("EMR_DATA_DIR").filter(|d| !d.is_empty()) {
		return PathBuf::from(d);
	}
	if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
		return PathBuf::from(d).join("emr");
	}
	let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
	home.join(".local/share/emr")
}

/// Civil date of a Unix time, as `YYYY-MM-DD hh:mm:ss UTC`.
pub fn format_time(secs: u64) -> String {
	let days = (secs / 86_400) as i64;
	let rem = secs % 86_400;
	// Howard Hinnant's civil_from_days.
	let z = days + 719_468;
	let era = z.div_euclid(146_097);
	let doe = z.rem_euclid(146_097);
	let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
	let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	let mp = (5 * doy + 2) / 153;
	let d = doy - (153 * mp + 2) / 5 + 1;
	let m = if mp < 10 { mp + 3 } else { mp - 9 };
	let y = yoe + era * 400 + i64::from(m <= 2);
	format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

struct Context {
	cli_key: String,
	keystore: Keystore,
	data_dir: PathBuf,
	passphrase_file: Option<PathBuf>,
}

impl Context {
	fn passphrase(&self, confirm: bool) -> Result<Vec<u8>, CliError> {
		if let Some(path) = &self.passphrase_file {
			let text =
				fs::read_to_string(path).map_err(io_err("reading the passphrase file", path))?;
			return Ok(text.lines().next().unwrap_or_default().as_bytes().to_vec());
		}
		if let Some(p) = std::env::var_os("EMR_PASSPHRASE") {
			return Ok(p.to_string_lossy().as_bytes().to_vec());
		}
		let prompt = format!("passphrase for key set {:?}: ", self.cli_key);
		let first = rpassword::prompt_password(prompt).map_err(|_| CliError::NoPassphrase)?;
		if confirm {
			let again = rpassword::prompt_password("repeat the passphrase: ")
				.map_err(|_| CliError::NoPassphrase)?;
			if again != first {
				return Err(CliError::PassphraseMismatch);
			}
		}
		Ok(first.into_bytes())
	}

	fn open_keys(&self) -> Result<KeySet, CliError> {
		self.open_named_keys(&self.cli_key)
	}

	fn open_named_keys(&self, name: &str) -> Result<KeySet, CliError> {
		// Fail on a missing key set before asking for a passphrase.
		self.keystore.public(name)?;
		let pass = self.passphrase(false)?;
		Ok(self.keystore.open(name, &pass)?)
	}
}

fn parse_reader(s: &str) -> Result<Reader, CliError> {
	let path = Path::new(s);
	if !s.contains('=') && path.is_file() {
		let text = fs::read_to_string(path).map_err(io_err("reading the key card", path))?;
		let v: serde_json::Value =
			serde_json::from_str(&text).map_err(|_| CliError::Id(IdError::Reader(s.to_owned())))?;
		let name = v.get("name").and_then(|n| n.as_str()).unwrap_or_default();
		let key = v.get("encryption_x25519").and_then(|n| n.as_str()).unwrap_or_default();
		return Ok(
			Reader::parse(&format!("{name}={key}")).map_err(|_| IdError::Reader(s.to_owned()))?
		);
	}
	Ok(Reader::parse(s)?)
}

fn parse_id(s: &str) -> Result<emr_primitives::ops::ParticipantId, CliError> {
	s.trim().parse().map_err(|_| {
		CliError::Usage(format!("{s:?} is not a participant id (a number the chain assigned)"))
	})
}

fn parse_cid(s: &str) -> Result<Cid, CliError> {
	Cid::try_from(s.trim()).map_err(|_| CliError::BadCid(s.to_owned()))
}

fn key_card(keys: &PublicKeys) -> String {
	serde_json::json!({
		"name": keys.name,
		"account_ss58": keys.account_ss58(),
		"account_sr25519": hex::encode(keys.account),
		"encryption_x25519": hex::encode(keys.encryption),
		"rollup": hex::encode(keys.rollup.to_bytes()),
	})
	.to_string()
}

/// Runs `emr` with the given arguments (the first is the program name). Results go to standard
/// output, progress to standard error.
pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<(), CliError> {
	let cli = match Cli::try_parse_from(args) {
		Ok(c) => c,
		Err(e) => e.exit(),
	};
	let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
	let keystore = Keystore::new(cli.keystore.clone().unwrap_or_else(|| data_dir.join("keystore")));
	let cli_key = cli
		.key
		.clone()
		.or_else(|| std::env::var("EMR_KEY").ok().filter(|k| !k.is_empty()))
		.unwrap_or_else(|| "default".to_owned());
	let ctx = Context { cli_key, keystore, data_dir, passphrase_file: cli.passphrase_file.clone() };

	if let Command::Keys(cmd) = &cli.command {
		return keys_command(&ctx, cmd);
	}
	let rt = || {
		tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.map_err(CliError::Runtime)
	};
	let url = cli
		.node
		.clone()
		.or_else(|| std::env::var("EMR_NODE").ok().filter(|n| !n.is_empty()))
		.unwrap_or_else(|| DEFAULT_NODE.to_owned());
	let node = NodeClient::new(&url, Duration::from_secs(cli.node_timeout.max(1)))?;
	let light = cli.light.clone().or_else(|| {
		std::env::var_os("EMR_CHAIN_SPEC").filter(|s| !s.is_empty()).map(PathBuf::from)
	});
	let mut bootnodes = cli.bootnode.clone();
	if bootnodes.is_empty() {
		if let Ok(list) = std::env::var("EMR_BOOTNODES") {
			bootnodes = list.split_whitespace().map(str::to_owned).collect();
		}
	}
	if let Ok(level) = std::env::var("EMR_LOG") {
		crate::state::log_to_stderr(&level);
	}
	let runtime = rt()?;
	// The light client's tasks run on this runtime: it lives as long as the command.
	let node = match light {
		Some(spec) => runtime.block_on(start_light(node, &spec, &bootnodes, cli.light_timeout))?,
		None => node,
	};
	if let Command::Chain(cmd) = cli.command {
		return runtime.block_on(chain_commands::run(&ctx, &node, &cli.wait, cmd));
	}
	let store = match &cli.ipfs_api {
		Some(url) => Store::Kubo(KuboClient::new(
			url,
			KuboConfig {
				timeout: Duration::from_secs(cli.ipfs_timeout.max(1)),
				..KuboConfig::default()
			},
		)?),
		None => Store::Embedded(EmbeddedStore::open(ctx.data_dir.join("ipfs"))?),
	};
	let chain = OnChain { node, wait: cli.wait.clone() };
	runtime.block_on(async_command(&ctx, store, &chain, cli.command))
}

/// Starts the light client from the raw chain spec at `spec` and makes `node` read through it.
async fn start_light(
	node: NodeClient,
	spec: &Path,
	bootnodes: &[String],
	timeout_secs: u64,
) -> Result<NodeClient, CliError> {
	let text = fs::read_to_string(spec).map_err(io_err("reading the chain spec", spec))?;
	eprintln!(
		"… light client: joining the chain of {} (GRANDPA finality, storage proofs)",
		spec.display()
	);
	let state =
		ChainState::light(&text, bootnodes, Duration::from_secs(timeout_secs.max(1))).await?;
	let at = state.finalized().await?;
	eprintln!("… light client: following the chain, finalized block #{}", at.number);
	Ok(node.with_light(state))
}

fn keys_command(ctx: &Context, cmd: &KeysCmd) -> Result<(), CliError> {
	let mut out = std::io::stdout().lock();
	let w = |out: &mut std::io::StdoutLock, s: String| {
		let _ = writeln!(out, "{s}");
	};
	match cmd {
		KeysCmd::New { dev } => {
			let keys = match dev {
				Some(identity) => KeySet::dev(&ctx.cli_key, identity)?,
				None => KeySet::generate(&ctx.cli_key),
			};
			if ctx.keystore.public(&ctx.cli_key).is_ok() {
				return Err(KeystoreError::Exists {
					name: ctx.cli_key.clone(),
					dir: ctx.keystore.dir().to_owned(),
				}
				.into());
			}
			let pass = ctx.passphrase(true)?;
			eprintln!("… deriving the file key (Argon2id, 64 MiB)");
			let path = ctx.keystore.create(&keys, &pass)?;
			w(&mut out, format!("created key set {:?} in {}", ctx.cli_key, path.display()));
			print_public(&mut out, &keys.public);
		},
		KeysCmd::Show => {
			let public = ctx.keystore.public(&ctx.cli_key)?;
			print_public(&mut out, &public);
		},
		KeysCmd::Export { out: file } => {
			let public = ctx.keystore.public(&ctx.cli_key)?;
			let card = key_card(&public);
			match file {
				Some(path) => {
					fs::write(path, format!("{card}\n")).map_err(io_err("writing", path))?;
					eprintln!(
						"wrote the public key card of {:?} to {}",
						public.name,
						path.display()
					);
				},
				None => w(&mut out, card),
			}
		},
	}
	Ok(())
}

fn print_public(out: &mut impl Write, p: &PublicKeys) {
	let _ = writeln!(out, "name:            {}", p.name);
	let _ = writeln!(out, "account (ss58):  {}", p.account_ss58());
	let _ = writeln!(out, "account (hex):   0x{}", hex::encode(p.account));
	let _ = writeln!(out, "encryption key:  {}", hex::encode(p.encryption));
	let _ = writeln!(out, "reader:          {}={}", p.name, hex::encode(p.encryption));
	let _ = writeln!(out, "rollup key:      {}", hex::encode(p.rollup.to_bytes()));
}

/// The node and wait level for record commands run with `--chain`.
struct OnChain {
	node: NodeClient,
	wait: WaitArgs,
}

async fn async_command(
	ctx: &Context,
	store: Store,
	chain: &OnChain,
	command: Command,
) -> Result<(), CliError> {
	let client = Client::new(store, &ctx.data_dir);
	let mut out = std::io::stdout().lock();
	let mut p = Stderr;
	match command {
		Command::Keys(_) | Command::Chain(_) => Ok(()),
		Command::Record(RecordCmd::Put {
			file,
			patient,
			media_type,
			reader,
			chain: on_chain,
			if_version,
		}) => {
			let patient = PatientId::new(&patient)?;
			let mut readers = Vec::new();
			for r in &reader {
				readers.push(match r.strip_prefix("participant:") {
					Some(id) => {
						chain_commands::participant_reader(&chain.node, parse_id(id)?).await?
					},
					None => parse_reader(r)?,
				});
			}
			let keys = ctx.open_keys()?;
			let on_chain = match on_chain {
				false => None,
				true => {
					let id = parse_id(patient.as_str())?;
					readers.push(chain_commands::participant_reader(&chain.node, id).await?);
					let seen = chain_commands::adopt_chain_head(&chain.node, &client, &patient, id)
						.await?;
					// The chain checks it (`VersionMismatch`): not checked here twice.
					Some((id, if_version.unwrap_or(seen)))
				},
			};
			let f = fs::File::open(&file).map_err(io_err("opening", &file))?;
			let len = f.metadata().map_err(io_err("reading", &file))?.len();
			let mut input = std::io::BufReader::new(f);
			let r =
				client.put(&keys, &patient, &mut input, len, &media_type, &readers, &mut p).await?;
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
				chain_commands::append_head(
					&chain.node,
					&chain.wait,
					&mut out,
					&keys,
					id,
					seen,
					&r.head,
				)
				.await?;
			}
			Ok(())
		},
		Command::Record(RecordCmd::Get {
			id,
			out: path,
			version,
			head,
			chain: on_chain,
			purpose,
		}) => {
			let rref: RecordRef = id.parse()?;
			let head = head.as_deref().map(parse_cid).transpose()?;
			let keys = ctx.open_keys()?;
			if on_chain {
				let pid = parse_id(rref.patient.as_str())?;
				if chain.node.me(&keys.public).await?.id != pid {
					let mut err = std::io::stderr().lock();
					chain_commands::access(
						&chain.node,
						&chain.wait,
						&mut err,
						&keys,
						pid,
						&purpose,
						None,
					)
					.await?;
				}
				chain_commands::adopt_chain_head(&chain.node, &client, &rref.patient, pid).await?;
			}
			let r = client.get_to_file(&keys, &rref, version, head, &path, &mut p).await?;
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
			let _ =
				writeln!(out, "sha256:      {} (verified)", hex::encode(r.metadata.content_hash));
			let _ = writeln!(out, "written to:  {}", path.display());
			Ok(())
		},
		Command::Record(RecordCmd::Share { id, with }) => {
			let rref: RecordRef = id.parse()?;
			let reader = parse_reader(&with)?;
			let keys = ctx.open_keys()?;
			let r = client.share(&keys, &rref, &reader, &mut p).await?;
			let _ =
				writeln!(out, "shared:      {} version {} with {}", r.record, r.version, reader);
			let _ = writeln!(out, "index head:  {}", r.head);
			Ok(())
		},
		Command::Record(RecordCmd::Rotate { id, remove }) => {
			let rref: RecordRef = id.parse()?;
			let remove = remove
				.iter()
				.map(|r| parse_reader(r).map(|r| r.key))
				.collect::<Result<Vec<_>, _>>()?;
			let keys = ctx.open_keys()?;
			let r = client.rotate(&keys, &rref, &remove, &mut p).await?;
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
			Ok(())
		},
		Command::Store(StoreCmd::Add { file }) => {
			let data = fs::read(&file).map_err(io_err("reading", &file))?;
			p.step(&format!(
				"storing {} in the {}",
				human_bytes(data.len() as u64),
				client.store.describe()
			));
			let cid = client.store.put(data.into()).await?;
			let _ = writeln!(out, "{cid}");
			Ok(())
		},
		Command::Store(StoreCmd::Cat { cid, out: path }) => {
			let cid = parse_cid(&cid)?;
			let data = client.store.get(&cid).await?;
			match path {
				Some(path) => fs::write(&path, &data).map_err(io_err("writing", &path))?,
				None => {
					out.write_all(&data).map_err(io_err("writing", Path::new("standard output")))?
				},
			}
			Ok(())
		},
		Command::Index(IndexCmd::Show { patient, head, chain: on_chain }) => {
			let patient = PatientId::new(&patient)?;
			let head = head.as_deref().map(parse_cid).transpose()?;
			if on_chain {
				let pid = parse_id(patient.as_str())?;
				chain_commands::adopt_chain_head(&chain.node, &client, &patient, pid).await?;
			}
			let keys = ctx.open_keys()?;
			let items = client.walk(&patient, head, &keys, &mut p).await?;
			let visible = items.iter().filter(|i| matches!(i, WalkItem::Visible { .. })).count();
			let head_cid = match items.first() {
				Some(WalkItem::Visible { cid, .. }) | Some(WalkItem::Hidden { cid, .. }) => {
					cid.to_string()
				},
				None => String::new(),
			};
			let _ = writeln!(
				out,
				"patient {patient}: {} entries, {visible} visible to {} (head {head_cid})",
				items.len(),
				keys.public.name
			);
			for (i, item) in items.iter().enumerate() {
				let n = items.len() - i;
				match item {
					WalkItem::Visible { cid, envelope, metadata: m, .. } => {
						let kind = match m.kind {
							EntryKind::Put => "put",
							EntryKind::Share => "share",
							EntryKind::Rotate => "rotate",
						};
						let ct = Cid::try_from(m.ciphertext.as_slice())
							.map(|c| c.to_string())
							.unwrap_or_else(|_| "?".into());
						let _ = writeln!(out, "#{n} {cid}");
						let _ = writeln!(
							out,
							"    {kind} {patient}/{} version {}, {}, {}",
							envelope.record,
							m.version,
							m.media_type,
							human_bytes(m.content_length)
						);
						let _ = writeln!(
							out,
							"    by {} ({}) at {}",
							m.author.name,
							crate::keys::ss58(&m.author.account, crate::keys::SS58_PREFIX),
							format_time(m.time)
						);
						let _ = writeln!(
							out,
							"    ciphertext {ct}, sha256 {}",
							hex::encode(m.content_hash)
						);
						let _ = writeln!(
							out,
							"    readers: {}",
							m.readers
								.iter()
								.map(|r| r.name.as_str())
								.collect::<Vec<_>>()
								.join(", ")
						);
					},
					WalkItem::Hidden { cid, record } => {
						let _ = writeln!(out, "#{n} {cid}");
						let _ = writeln!(out, "    record {patient}/{record}: not shared with you");
					},
				}
			}
			Ok(())
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn times() {
		assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
		assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13:20 UTC");
		assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 UTC");
	}

	#[test]
	fn cli_parses() {
		use clap::CommandFactory;
		Cli::command().debug_assert();
	}
}
