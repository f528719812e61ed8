//! The record codec: participant and grant records and the meta entries.

use crate::StoreError;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use emr_primitives::{
	ops::Role,
	schnorr::PublicKey,
	state::{ClaimStatus, Grant, Header, OrgSet, Participant, MAX_ORGS},
	F,
};

/// Version byte that starts every participant and grant record.
const RECORD_VERSION: u8 = 1;

/// The 32-byte canonical little-endian encoding of a field element.
pub(crate) fn f_bytes(f: &F) -> [u8; 32] {
	let mut out = [0u8; 32];
	// An element of the 255-bit field is exactly 32 bytes compressed (checked by a test).
	f.serialize_compressed(&mut out[..]).expect("a field element fits 32 bytes");
	out
}

pub(crate) fn decode_f(bytes: &[u8], what: &str) -> Result<F, StoreError> {
	if bytes.len() != 32 {
		return Err(StoreError::Corrupt(format!("{what}: {} bytes, expected 32", bytes.len())));
	}
	F::deserialize_with_mode(bytes, Compress::Yes, Validate::Yes)
		.map_err(|e| StoreError::Corrupt(format!("{what}: not a canonical field element ({e})")))
}

pub(crate) fn decode_u32(bytes: &[u8], what: &str) -> Result<u32, StoreError> {
	let arr: [u8; 4] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 4", bytes.len())))?;
	Ok(u32::from_le_bytes(arr))
}

pub(crate) fn decode_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
	let arr: [u8; 8] = bytes
		.try_into()
		.map_err(|_| StoreError::Corrupt(format!("{what}: {} bytes, expected 8", bytes.len())))?;
	Ok(u64::from_le_bytes(arr))
}

pub(crate) fn put_f(out: &mut Vec<u8>, f: &F) {
	out.extend_from_slice(&f_bytes(f));
}

pub(crate) fn encode_participant(p: &Participant) -> Vec<u8> {
	let mut out = Vec::with_capacity(180);
	out.push(RECORD_VERSION);
	out.push(p.role.code());
	out.push(p.active as u8);
	out.extend_from_slice(&p.key.to_bytes());
	put_f(&mut out, &p.encryption_key);
	out.extend_from_slice(&p.nonce.to_le_bytes());
	put_f(&mut out, &p.index_head);
	out.extend_from_slice(&p.index_version.to_le_bytes());
	out.extend_from_slice(&p.affiliation.to_le_bytes());
	out.push(p.affiliation_org);
	out.push(p.org);
	match &p.emergency_key {
		None => out.push(0),
		Some(k) => {
			out.push(1);
			out.extend_from_slice(&k.to_bytes());
		},
	}
	put_f(&mut out, &p.log);
	out
}

pub(crate) fn encode_header(h: &Header) -> Vec<u8> {
	let mut out = Vec::with_capacity(37);
	out.extend_from_slice(&h.participants.to_le_bytes());
	out.push(h.next_org);
	for word in h.orgs.0 {
		out.extend_from_slice(&word.to_le_bytes());
	}
	out
}

pub(crate) fn decode_header(bytes: &[u8]) -> Result<Header, String> {
	let mut c = Cursor(bytes);
	let participants = c.u32()?;
	let next_org = c.u8()?;
	let mut words = [0u64; 4];
	for w in &mut words {
		*w = c.u64()?;
	}
	c.finish()?;
	let header = Header { participants, next_org, orgs: OrgSet(words) };
	// Indices are given in order: none at or beyond the next one is set (the last, 255, is
	// never given: `MAX_ORGS`).
	let beyond = (next_org as u32..=MAX_ORGS).any(|k| header.orgs.contains(k as u8));
	if beyond {
		return Err("header: an organisation at or beyond the next index".into());
	}
	Ok(header)
}

pub(crate) fn encode_grant(g: &Grant) -> Vec<u8> {
	let mut out = Vec::with_capacity(65);
	out.push(RECORD_VERSION);
	out.extend_from_slice(&g.grantee.to_le_bytes());
	out.push(g.permissions);
	out.push(g.purposes);
	out.extend_from_slice(&g.scope.to_le_bytes());
	out.extend_from_slice(&g.expires_at.to_le_bytes());
	out.push(g.emergency as u8);
	out.push(g.claim_status.code());
	put_f(&mut out, &g.claim_record);
	out.extend_from_slice(&g.claim_amount.to_le_bytes());
	out.extend_from_slice(&g.settled.to_le_bytes());
	out
}

/// Reads a record front to back; every failure is a message for [`StoreError::Corrupt`].
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
	fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
		if self.0.len() < N {
			return Err(format!("truncated ({} bytes left, {N} needed)", self.0.len()));
		}
		let (head, rest) = self.0.split_at(N);
		self.0 = rest;
		let mut out = [0u8; N];
		out.copy_from_slice(head);
		Ok(out)
	}

	fn u8(&mut self) -> Result<u8, String> {
		Ok(self.take::<1>()?[0])
	}

	fn bool(&mut self) -> Result<bool, String> {
		match self.u8()? {
			0 => Ok(false),
			1 => Ok(true),
			b => Err(format!("bad boolean {b}")),
		}
	}

	fn u32(&mut self) -> Result<u32, String> {
		Ok(u32::from_le_bytes(self.take()?))
	}

	fn u64(&mut self) -> Result<u64, String> {
		Ok(u64::from_le_bytes(self.take()?))
	}

	fn f(&mut self) -> Result<F, String> {
		let bytes = self.take::<32>()?;
		F::deserialize_with_mode(&bytes[..], Compress::Yes, Validate::Yes)
			.map_err(|e| format!("not a canonical field element ({e})"))
	}

	/// A curve point as stored. Only on-curve is checked: the store returns what the rules wrote
	/// (an emergency key is a sum of two keys and may fall outside what
	/// [`PublicKey::from_bytes`] accepts, e.g. the identity).
	fn key(&mut self) -> Result<PublicKey, String> {
		let bytes = self.take::<32>()?;
		let p = ark_ed_on_bls12_381_bandersnatch::EdwardsAffine::deserialize_with_mode(
			&bytes[..],
			Compress::Yes,
			Validate::No,
		)
		.map_err(|e| format!("not a curve point ({e})"))?;
		if !p.is_on_curve() {
			return Err("point not on the curve".into());
		}
		Ok(PublicKey(p))
	}

	fn version(&mut self) -> Result<(), String> {
		match self.u8()? {
			RECORD_VERSION => Ok(()),
			v => Err(format!("unknown record version {v}")),
		}
	}

	fn finish(self) -> Result<(), String> {
		if self.0.is_empty() {
			Ok(())
		} else {
			Err(format!("{} trailing bytes", self.0.len()))
		}
	}
}

pub(crate) fn decode_participant(bytes: &[u8]) -> Result<Participant, String> {
	let mut c = Cursor(bytes);
	c.version()?;
	let role = c.u8()?;
	let role = Role::from_code(role).ok_or_else(|| format!("bad role code {role}"))?;
	let active = c.bool()?;
	let key = c.key()?;
	let encryption_key = c.f()?;
	let nonce = c.u32()?;
	let index_head = c.f()?;
	let index_version = c.u32()?;
	let affiliation = c.u32()?;
	let affiliation_org = c.u8()?;
	let org = c.u8()?;
	let emergency_key = if c.bool()? { Some(c.key()?) } else { None };
	let log = c.f()?;
	c.finish()?;
	Ok(Participant {
		role,
		active,
		key,
		encryption_key,
		nonce,
		index_head,
		index_version,
		affiliation,
		affiliation_org,
		org,
		emergency_key,
		log,
	})
}

pub(crate) fn decode_grant(bytes: &[u8]) -> Result<Grant, String> {
	let mut c = Cursor(bytes);
	c.version()?;
	let grantee = c.u32()?;
	let permissions = c.u8()?;
	let purposes = c.u8()?;
	let scope = c.u32()?;
	let expires_at = c.u32()?;
	let emergency = c.bool()?;
	let claim_status = match c.u8()? {
		0 => ClaimStatus::None,
		1 => ClaimStatus::Open,
		2 => ClaimStatus::Approved,
		3 => ClaimStatus::Rejected,
		s => return Err(format!("bad claim status {s}")),
	};
	let claim_record = c.f()?;
	let claim_amount = c.u64()?;
	let settled = c.u64()?;
	c.finish()?;
	Ok(Grant {
		grantee,
		permissions,
		purposes,
		scope,
		expires_at,
		emergency,
		claim_status,
		claim_record,
		claim_amount,
		settled,
	})
}
