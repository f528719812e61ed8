//! `emr store …`: plain content-addressed storage.

use std::{
	fs,
	io::Write,
	path::{Path, PathBuf},
};

use clap::Subcommand;
use emr_client::{
	client::{human_bytes, Client, Progress},
	storage::{Storage, Store},
};

use crate::context::{io_err, parse_cid, CliError, Stderr};

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

impl StoreCmd {
	/// Runs it.
	pub async fn execute(self, client: &Client<Store>) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		match self {
			StoreCmd::Add { file } => {
				let data = fs::read(&file).map_err(io_err("reading", &file))?;
				Stderr.step(&format!(
					"storing {} in the {}",
					human_bytes(data.len() as u64),
					client.store.describe()
				));
				let cid = client.store.put(data.into()).await?;
				let _ = writeln!(out, "{cid}");
			},
			StoreCmd::Cat { cid, out: path } => {
				let cid = parse_cid(&cid)?;
				let data = client.store.get(&cid).await?;
				match path {
					Some(path) => fs::write(&path, &data).map_err(io_err("writing", &path))?,
					None => out
						.write_all(&data)
						.map_err(io_err("writing", Path::new("standard output")))?,
				}
			},
		}
		Ok(())
	}
}
