//! One file per command: a clap struct (or enum of subcommands) with `execute`.

pub mod access;
pub mod audit;
pub mod claim;
pub mod consent;
pub mod doctor;
pub mod emergency;
pub mod index;
pub mod keys;
pub mod log;
pub mod record;
pub mod register;
pub mod status;
pub mod store;
pub mod whoami;

use std::io::Write;

use emr_client::records_on_chain::Submitted;

use crate::context::CliError;

/// The two lines every submitting command prints: `<what>: <status>` and the operation's
/// actor and nonce.
pub fn print_submitted(out: &mut impl Write, what: &str, s: &Submitted) {
	let _ = writeln!(out, "{what}: {}", s.status);
	let _ = writeln!(out, "operation:   {} {}", s.signed.actor, s.signed.nonce);
}

/// The bits of the names in the comma-separated `list` (`table`: `emr_primitives::names`).
pub fn names_to_bits(list: &str, table: &[(&str, u8)], what: &str) -> Result<u8, CliError> {
	let mut bits = 0;
	for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
		let bit =
			table.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, b)| *b).ok_or_else(
				|| {
					CliError::Usage(format!(
						"unknown {what} {name:?}: expected {}",
						table.iter().map(|(n, _)| n.to_lowercase()).collect::<Vec<_>>().join(", ")
					))
				},
			)?;
		bits |= bit;
	}
	if bits == 0 {
		return Err(CliError::Usage(format!("name at least one {what}")));
	}
	Ok(bits)
}

#[cfg(test)]
mod tests {
	use super::*;
	use emr_primitives::{
		names::{PERMISSIONS, PURPOSES},
		ops::purpose,
	};

	#[test]
	fn permission_and_purpose_names() {
		assert_eq!(names_to_bits("read,claim", &PERMISSIONS, "permission").unwrap(), 5);
		assert_eq!(names_to_bits("Treatment", &PURPOSES, "purpose").unwrap(), purpose::TREATMENT);
		assert!(names_to_bits("read,fly", &PERMISSIONS, "permission").is_err());
		assert!(names_to_bits("", &PERMISSIONS, "permission").is_err());
	}
}
