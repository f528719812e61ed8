//! The BLS12-381 scalar field every rollup value lives in, and the one way each crate turns
//! bytes and small integers into its elements.
//!
//! * Stored values are 32 canonical little-endian bytes ([`field_bytes`], read back with
//!   [`field_from_bytes`], or [`field_le`] for bytes this code wrote itself).
//! * Byte strings of any length (CIDs, record references, X25519 keys) enter the field as
//!   [`digest_to_field`]: Blake2b-256 truncated to 248 bits, so always canonical.
//! * Small fields share one element by bit packing ([`pack_at`]); the layouts are
//!   tables of `(offset, width)` pairs (`ops::layout`, `state::layout`) that the native code
//!   and the circuit both read.

use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField};
use blake2::{digest::consts::U32, Blake2b, Digest};

/// The BLS12-381 scalar field (Bandersnatch's base field): every rollup value lives here.
pub type F = ark_ed_on_bls12_381_bandersnatch::Fq;

/// A part of a packed field element: `(offset, width)` in bits, lowest bit first.
pub type Part = (usize, usize);

/// 32 canonical little-endian bytes of a field element.
pub fn field_bytes(value: &F) -> [u8; 32] {
	let mut out = [0u8; 32];
	out.copy_from_slice(&value.into_bigint().to_bytes_le());
	out
}

/// The field element of 32 little-endian bytes, reduced modulo `r` (for values this crate
/// stored itself, which are canonical).
pub fn field_le(bytes: &[u8; 32]) -> F {
	F::from_le_bytes_mod_order(bytes)
}

/// The field element of 32 little-endian bytes, or `None` when they are not canonical (`≥ r`).
pub fn field_from_bytes(bytes: &[u8; 32]) -> Option<F> {
	let value = F::from_le_bytes_mod_order(bytes);
	(field_bytes(&value) == *bytes).then_some(value)
}

/// Blake2b-256 of `bytes` truncated to 31 bytes, as a field element (always canonical).
pub fn digest_to_field(bytes: &[u8]) -> F {
	let d = Blake2b::<U32>::digest(bytes);
	F::from_le_bytes_mod_order(&d[..31])
}

/// `2^n` in the field.
pub fn two_pow(n: u64) -> F {
	F::from(2u64).pow([n])
}

/// Packs values at the parts of a layout table: `Σ value · 2^offset`. The caller keeps each
/// value below `2^width` (the rules and the circuit check the widths where they matter).
pub fn pack_at(parts: &[(u64, Part)]) -> F {
	parts
		.iter()
		.fold(F::ZERO, |acc, (value, (offset, _))| acc + F::from(*value) * two_pow(*offset as u64))
}

/// The bit range of a part (for slicing a bit decomposition).
pub const fn bits(part: Part) -> core::ops::Range<usize> {
	part.0..part.0 + part.1
}

/// The bit just above a layout's last part: its total width.
pub const fn end(part: Part) -> usize {
	part.0 + part.1
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn pack_at_places_each_value_at_its_offset() {
		let packed = pack_at(&[(3, (0, 8)), (1, (8, 8)), (0xdead_beef, (16, 32))]);
		assert_eq!(packed, F::from(3u64 | 1 << 8 | 0xdead_beef << 16));
		assert_eq!(bits((16, 32)), 16..48);
		assert_eq!(end((16, 32)), 48);
	}

	#[test]
	fn field_bytes_round_trip_and_refuse_non_canonical() {
		let v = F::from(123_456_789u64);
		assert_eq!(field_from_bytes(&field_bytes(&v)), Some(v));
		assert_eq!(field_from_bytes(&[0xff; 32]), None);
		assert_eq!(field_le(&field_bytes(&v)), v);
	}
}
