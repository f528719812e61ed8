//! `emr log`: a patient's access log.

use std::io::Write;

use clap::Args;
use emr_client::chain::NodeClient;
use emr_primitives::{
	names::{bit_names, kind_name, PURPOSES},
	ops::ParticipantId,
};

use super::access::outcome_name;
use crate::context::{CliError, Context};

/// `emr log`.
#[derive(Args, Debug)]
pub struct LogCmd {
	/// The patient's participant id.
	#[arg(long)]
	patient: Option<ParticipantId>,
	/// Show at most this many of the newest entries.
	#[arg(long, default_value_t = 50)]
	last: u32,
}

impl LogCmd {
	/// Runs it.
	pub async fn execute(self, ctx: &Context, node: &NodeClient) -> Result<(), CliError> {
		let LogCmd { patient, last } = self;
		let mut out = std::io::stdout().lock();
		let patient = match patient {
			Some(p) => p,
			None => node.me(&ctx.keystore.public(&ctx.cli_key)?).await?.id,
		};
		let total = node.access_log(patient, 0, 1).await?.total;
		let from = total.saturating_sub(last.max(1));
		let page = node.access_log(patient, from, last.clamp(1, 1000)).await?;
		let _ = writeln!(
			out,
			"access log of patient {patient}: {total} entr{}{}",
			if total == 1 { "y" } else { "ies" },
			if from > 0 { format!(", the newest {}", total - from) } else { String::new() }
		);
		let _ = writeln!(
			out,
			"  {:>5}  {:>8}  {:>6}  {:<16} {:>5}  {:<10} outcome",
			"#", "block", "who", "what", "slot", "purpose"
		);
		for (i, e) in page.entries.iter().enumerate() {
			let _ = writeln!(
				out,
				"  {:>5}  {:>8}  {:>6}  {:<16} {:>5}  {:<10} {}",
				page.from + i as u32,
				e.block,
				e.actor,
				kind_name(e.kind),
				e.grant.map_or_else(|| "-".to_owned(), |g| g.to_string()),
				bit_names(e.purpose, &PURPOSES).next().unwrap_or("-"),
				outcome_name(&e.outcome),
			);
		}
		Ok(())
	}
}
