//! emr prover
pub mod circuit;
pub mod files;
pub mod groth16;
pub mod store;
pub mod witness;
