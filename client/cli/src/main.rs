//! `emr`: the emr-chain command-line client (see `emr --help`; the logic lives in the library).

use std::process::ExitCode;

fn main() -> ExitCode {
	match emr_cli::cli::run(std::env::args_os()) {
		Ok(()) => ExitCode::SUCCESS,
		Err(e) => {
			eprintln!("error: {e}");
			ExitCode::FAILURE
		},
	}
}
