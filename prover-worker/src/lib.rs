//! emr prover
pub mod circuit;
pub mod store;
pub mod witness;
