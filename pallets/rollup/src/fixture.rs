//! A real batch proof for the benchmarks, made by `emr-prover` with the mock's deterministic
//! test keys: batch 0 of the mock chain (two admissions), proven over the empty state. The test
//! `bench_fixture_is_fresh` remakes it and compares; `EMR_WRITE_FIXTURE=1` rewrites it.

use alloc::vec::Vec;
use codec::{Decode, Encode};

/// The fixture.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Fixture {
	/// The verifying key (compressed).
	pub vk: Vec<u8>,
	/// Its batch size.
	pub batch_size: u32,
	/// Public input: the state root before the batch.
	pub old_root: [u8; 32],
	/// Public input: the state root after it.
	pub new_root: [u8; 32],
	/// Public input: the inbox commitment.
	pub commitment: [u8; 32],
	/// Public input: the batch number.
	pub batch: u64,
	/// The proof (compressed).
	pub proof: Vec<u8>,
}

/// Where the fixture lives, relative to this crate.
pub const PATH: &str = "fixtures/proof.scale";

/// The committed fixture.
pub fn fixture() -> Fixture {
	Fixture::decode(&mut &include_bytes!("../fixtures/proof.scale")[..]).expect("fixture decodes")
}
