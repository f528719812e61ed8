//! `emr keys …`: create, show and export key sets.

use std::{fs, io::Write, path::PathBuf};

use clap::Subcommand;
use emr_client::keys::{KeySet, KeystoreError, PublicKeys};

use crate::context::{io_err, CliError, Context};

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

/// The public key card (JSON) of a key set.
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

fn print_public(out: &mut impl Write, p: &PublicKeys) {
	let _ = writeln!(out, "name:            {}", p.name);
	let _ = writeln!(out, "account (ss58):  {}", p.account_ss58());
	let _ = writeln!(out, "account (hex):   0x{}", hex::encode(p.account));
	let _ = writeln!(out, "encryption key:  {}", hex::encode(p.encryption));
	let _ = writeln!(out, "reader:          {}={}", p.name, hex::encode(p.encryption));
	let _ = writeln!(out, "rollup key:      {}", hex::encode(p.rollup.to_bytes()));
}

impl KeysCmd {
	/// Runs it.
	pub fn execute(self, ctx: &Context) -> Result<(), CliError> {
		let mut out = std::io::stdout().lock();
		match self {
			KeysCmd::New { dev } => {
				let keys = match dev {
					Some(identity) => KeySet::dev(&ctx.cli_key, &identity)?,
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
				let _ = writeln!(out, "created key set {:?} in {}", ctx.cli_key, path.display());
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
						fs::write(&path, format!("{card}\n")).map_err(io_err("writing", &path))?;
						eprintln!(
							"wrote the public key card of {:?} to {}",
							public.name,
							path.display()
						);
					},
					None => {
						let _ = writeln!(out, "{card}");
					},
				}
			},
		}
		Ok(())
	}
}
