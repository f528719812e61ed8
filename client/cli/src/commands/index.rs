//! `emr index show`: walk a patient's index.

use std::io::Write;

use clap::Subcommand;
use emr_client::{
	chain::NodeClient,
	client::{human_bytes, Client, WalkItem},
	ids::PatientId,
	index::EntryKind,
	keys::{ss58, SS58_PREFIX},
	storage::{Cid, Store},
};

use super::record::adopt_chain_head;
use crate::context::{parse_cid, parse_id, CliError, Context, Stderr};

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

impl IndexCmd {
	/// Runs it.
	pub async fn execute(
		self,
		ctx: &Context,
		client: &Client<Store>,
		node: &NodeClient,
	) -> Result<(), CliError> {
		let IndexCmd::Show { patient, head, chain: on_chain } = self;
		let mut out = std::io::stdout().lock();
		let patient = PatientId::new(&patient)?;
		let head = head.as_deref().map(parse_cid).transpose()?;
		if on_chain {
			let pid = parse_id(patient.as_str())?;
			adopt_chain_head(node, client, &patient, pid).await?;
		}
		let keys = ctx.open_keys()?;
		let items = client.walk(&patient, head, &keys, &mut Stderr).await?;
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
						ss58(&m.author.account, SS58_PREFIX),
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
						m.readers.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
					);
				},
				WalkItem::Hidden { cid, record } => {
					let _ = writeln!(out, "#{n} {cid}");
					let _ = writeln!(out, "    record {patient}/{record}: not shared with you");
				},
			}
		}
		Ok(())
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
}
