//! emr primitives
#![cfg_attr(not(feature = "std"), no_std)]
extern crate alloc;

/// The BLS12-381 scalar field (Bandersnatch's base field): every rollup value lives here.
pub type F = ark_ed_on_bls12_381_bandersnatch::Fq;

pub mod inbox;
pub mod memory;
pub mod ops;
pub mod poseidon;
pub mod rules;
pub mod schnorr;
pub mod state;
pub mod testing;
