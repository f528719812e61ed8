//! `emr`: the emr-chain command line (see `emr --help`). [`cli`] parses the global options and
//! dispatches; each command is one file in [`commands`], a struct with `execute`; the work is
//! done by the `emr-client` library.

// Tests may unwrap; the binary may not (workspace lint `clippy::unwrap_used`).
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::process::ExitCode;

mod cli;
mod commands;
mod context;

fn main() -> ExitCode {
	match cli::run(std::env::args_os()) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e}");
			ExitCode::FAILURE
		},
	}
}
