//! A small client for the Kubo HTTP RPC API (`/api/v0/…`), over hyper 1.
//!
//! Spoken by Kubo and js-ipfs alike. Calls used: `add` (CIDv1, raw leaves, 256 KiB chunks, pinned),
//! `cat`, `pin/add`, `block/stat` and `version`. Every call is a `POST` on a fresh HTTP/1.1
//! connection with:
//!
//! * a connect timeout and a response timeout ([`KuboConfig::timeout`], 10 s by default; an upload
//!   gets one more second per MiB sent), and the same limit for every pause while the body streams;
//! * a size limit on every response ([`KuboConfig::max_response`] for `cat`, 1 MiB for JSON);
//! * errors naming the daemon, the call and what went wrong (the daemon's own `Message` for HTTP
//!   errors).
//!
//! `Size` fields are accepted as numbers (js-ipfs) or strings (Kubo).

use std::{
	collections::VecDeque,
	convert::Infallible,
	pin::Pin,
	task::{Context, Poll},
	time::Duration,
};

use bytes::Bytes;
use cid::Cid;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::{unixfs, verify_content, Storage, StorageError};
use crate::endpoint::HttpEndpoint;

/// Limits of the client.
#[derive(Clone, Debug)]
pub struct KuboConfig {
	/// Connect timeout, response timeout and longest pause while a body streams.
	pub timeout: Duration,
	/// Extra response time allowed per MiB uploaded (the daemon answers `add` after importing).
	pub upload_allowance_per_mib: Duration,
	/// Largest response body accepted from `cat`.
	pub max_response: u64,
	/// Largest JSON response accepted.
	pub max_json: u64,
}

impl Default for KuboConfig {
	fn default() -> Self {
		Self {
			timeout: Duration::from_secs(10),
			upload_allowance_per_mib: Duration::from_secs(1),
			max_response: 1 << 30,
			max_json: 1 << 20,
		}
	}
}

/// Client of one daemon's RPC API.
#[derive(Clone, Debug)]
pub struct KuboClient {
	host: String,
	port: u16,
	endpoint: String,
	config: KuboConfig,
}

/// A request body made of a few `Bytes` (zero-copy multipart uploads).
struct Chunks(VecDeque<Bytes>);

impl Body for Chunks {
	type Data = Bytes;
	type Error = Infallible;

	fn poll_frame(
		mut self: Pin<&mut Self>,
		_cx: &mut Context<'_>,
	) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
		Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
	}

	fn is_end_stream(&self) -> bool {
		self.0.is_empty()
	}

	fn size_hint(&self) -> SizeHint {
		SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
	}
}

/// Aborts the connection task when a call ends (also on timeout or error).
struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
	fn drop(&mut self) {
		self.0.abort();
	}
}

impl KuboClient {
	/// A client for the API at `url`: `http://host:port`, `host:port` or a multiaddr such as
	/// `/ip4/127.0.0.1/tcp/5001`. Only plain HTTP is supported (run the daemon on loopback or behind
	/// a TLS-terminating proxy on the same host).
	pub fn new(url: &str, config: KuboConfig) -> Result<Self, StorageError> {
		let bad =
			|reason: &str| StorageError::BadEndpoint { url: url.into(), reason: reason.into() };
		let trimmed = url.trim();
		let endpoint = if let Some(ma) = trimmed.strip_prefix('/') {
			let parts: Vec<&str> = ma.split('/').collect();
			match parts.as_slice() {
				[proto, host, "tcp", port, rest @ ..]
					if ["ip4", "ip6", "dns", "dns4", "dns6"].contains(proto)
						&& (rest.is_empty() || rest == ["http"]) =>
				{
					HttpEndpoint::new(host, port).map_err(bad)?
				},
				_ => return Err(bad("expected a multiaddr like /ip4/127.0.0.1/tcp/5001")),
			}
		} else {
			let rest = if let Some(r) = trimmed.strip_prefix("http://") {
				r
			} else if trimmed.starts_with("https://") {
				return Err(bad("https is not supported; use http:// to a daemon on this host"));
			} else if trimmed.contains("://") {
				return Err(bad("only http:// addresses are supported"));
			} else {
				trimmed
			};
			HttpEndpoint::from_authority(rest).map_err(bad)?
		};
		let HttpEndpoint { host, port, url: endpoint } = endpoint;
		Ok(Self { host, port, endpoint, config })
	}

	/// The daemon's address as `http://host:port`.
	pub fn endpoint(&self) -> &str {
		&self.endpoint
	}

	fn secs(d: Duration) -> u64 {
		d.as_secs_f64().ceil() as u64
	}

	/// Sends `POST /api/v0/{call}?{query}` and returns the whole response body (at most `limit`
	/// bytes) if the status is 200.
	async fn call(
		&self,
		call: &str,
		query: &str,
		body: Vec<Bytes>,
		content_type: Option<String>,
		limit: u64,
	) -> Result<Vec<u8>, StorageError> {
		let endpoint = &self.endpoint;
		let timeout = self.config.timeout;
		let upload: u64 = body.iter().map(|b| b.len() as u64).sum();
		let connection_err = |reason: String| StorageError::Connection {
			endpoint: endpoint.clone(),
			call: call.into(),
			reason,
		};
		let timeout_err = |d: Duration| StorageError::Timeout {
			endpoint: endpoint.clone(),
			call: call.into(),
			seconds: Self::secs(d),
		};

		let stream = match tokio::time::timeout(
			timeout,
			TcpStream::connect((self.host.as_str(), self.port)),
		)
		.await
		{
			Err(_) => return Err(timeout_err(timeout)),
			Ok(Err(e)) => {
				return Err(StorageError::Unreachable {
					endpoint: endpoint.clone(),
					reason: e.to_string(),
				})
			},
			Ok(Ok(s)) => s,
		};
		let _ = stream.set_nodelay(true);
		let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
			.await
			.map_err(|e| connection_err(e.to_string()))?;
		let _guard = AbortOnDrop(tokio::spawn(async move {
			let _ = conn.await;
		}));

		let uri = if query.is_empty() {
			format!("/api/v0/{call}")
		} else {
			format!("/api/v0/{call}?{query}")
		};
		let mut req = http::Request::post(uri)
			.header(http::header::HOST, format!("{}:{}", self.host, self.port))
			.header(http::header::USER_AGENT, concat!("emr-cli/", env!("CARGO_PKG_VERSION")));
		if let Some(ct) = content_type {
			req = req.header(http::header::CONTENT_TYPE, ct);
		}
		let req = req.body(Chunks(body.into())).map_err(|e| connection_err(e.to_string()))?;

		let allowance = self
			.config
			.upload_allowance_per_mib
			.saturating_mul(u32::try_from(upload.div_ceil(1 << 20)).unwrap_or(u32::MAX));
		let head_timeout = timeout.saturating_add(allowance);
		let response = match tokio::time::timeout(head_timeout, sender.send_request(req)).await {
			Err(_) => return Err(timeout_err(head_timeout)),
			Ok(Err(e)) => return Err(connection_err(e.to_string())),
			Ok(Ok(r)) => r,
		};
		let status = response.status();
		let ok = status == http::StatusCode::OK;
		// An error body is read only up to 64 KiB for the message.
		let limit = if ok { limit } else { 64 << 10 };
		let body = self.read_body(call, response.into_body(), limit, ok).await?;
		if !ok {
			let text = String::from_utf8_lossy(&body);
			let message = serde_json::from_slice::<Value>(&body)
				.ok()
				.and_then(|v| v.get("Message").and_then(Value::as_str).map(str::to_owned))
				.unwrap_or_else(|| text.trim().chars().take(300).collect());
			return Err(StorageError::Http {
				endpoint: endpoint.clone(),
				call: call.into(),
				status: status.as_u16(),
				message,
			});
		}
		Ok(body)
	}

	async fn read_body(
		&self,
		call: &str,
		mut body: Incoming,
		limit: u64,
		strict: bool,
	) -> Result<Vec<u8>, StorageError> {
		let mut out = Vec::new();
		loop {
			let frame = match tokio::time::timeout(self.config.timeout, body.frame()).await {
				Err(_) => {
					return Err(StorageError::Timeout {
						endpoint: self.endpoint.clone(),
						call: call.into(),
						seconds: Self::secs(self.config.timeout),
					})
				},
				Ok(None) => return Ok(out),
				Ok(Some(Err(e))) => {
					return Err(StorageError::Connection {
						endpoint: self.endpoint.clone(),
						call: call.into(),
						reason: e.to_string(),
					})
				},
				Ok(Some(Ok(f))) => f,
			};
			if let Ok(data) = frame.into_data() {
				if out.len() as u64 + data.len() as u64 > limit {
					if !strict {
						let room = (limit as usize).saturating_sub(out.len());
						out.extend_from_slice(&data[..room.min(data.len())]);
						return Ok(out);
					}
					return Err(StorageError::TooLarge {
						endpoint: self.endpoint.clone(),
						call: call.into(),
						limit,
					});
				}
				out.extend_from_slice(&data);
			}
		}
	}

	async fn call_json(&self, call: &str, query: &str) -> Result<Value, StorageError> {
		let body = self.call(call, query, Vec::new(), None, self.config.max_json).await?;
		serde_json::from_slice(&body).map_err(|e| self.bad(call, format!("invalid JSON: {e}")))
	}

	fn bad(&self, call: &str, detail: String) -> StorageError {
		StorageError::BadResponse { endpoint: self.endpoint.clone(), call: call.into(), detail }
	}

	/// `version`: the daemon's version string.
	pub async fn version(&self) -> Result<String, StorageError> {
		let v = self.call_json("version", "").await?;
		v.get("Version")
			.and_then(Value::as_str)
			.map(str::to_owned)
			.ok_or_else(|| self.bad("version", format!("no Version field in {v}")))
	}

	/// `add` with this client's import settings, returning the CID the daemon reports (without
	/// comparing it with the locally computed one; [`Storage::put`] does compare).
	pub async fn add(&self, data: Bytes) -> Result<Cid, StorageError> {
		let boundary = format!("emr-{:032x}", rand::random::<u128>());
		let head = format!(
			"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\n\
			 Content-Type: application/octet-stream\r\n\r\n"
		);
		let tail = format!("\r\n--{boundary}--\r\n");
		let body = vec![Bytes::from(head), data, Bytes::from(tail)];
		let query = format!(
			"cid-version=1&raw-leaves=true&chunker=size-{}&hash=sha2-256&pin=true&cid-base=base32",
			unixfs::CHUNK_SIZE
		);
		let resp = self
			.call(
				"add",
				&query,
				body,
				Some(format!("multipart/form-data; boundary={boundary}")),
				self.config.max_json,
			)
			.await?;
		// NDJSON: one object per added entry; the last one with a Hash is the file.
		let mut hash = None;
		for line in resp.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
			let v: Value = serde_json::from_slice(line)
				.map_err(|e| self.bad("add", format!("invalid JSON line: {e}")))?;
			if let Some(h) = v.get("Hash").and_then(Value::as_str) {
				hash = Some(h.to_owned());
			}
		}
		let hash = hash.ok_or_else(|| self.bad("add", "no Hash in the answer".into()))?;
		Cid::try_from(hash.as_str())
			.map_err(|e| self.bad("add", format!("invalid CID {hash}: {e}")))
	}

	/// `cat`: the file's bytes (at most [`KuboConfig::max_response`]), not checked.
	pub async fn cat(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
		self.call("cat", &format!("arg={cid}"), Vec::new(), None, self.config.max_response).await
	}

	/// `block/stat`: the size of one block.
	pub async fn block_stat(&self, cid: &Cid) -> Result<u64, StorageError> {
		let v = self.call_json("block/stat", &format!("arg={cid}")).await?;
		parse_size(v.get("Size"))
			.ok_or_else(|| self.bad("block/stat", format!("no usable Size field in {v}")))
	}
}

/// Reads a `Size` field given as a number (js-ipfs) or a decimal string (Kubo).
pub fn parse_size(v: Option<&Value>) -> Option<u64> {
	match v? {
		Value::Number(n) => n.as_u64(),
		Value::String(s) => s.trim().parse().ok(),
		_ => None,
	}
}

impl Storage for KuboClient {
	async fn put(&self, data: Bytes) -> Result<Cid, StorageError> {
		let expected = unixfs::cid_of(&data);
		let got = self.add(data).await?;
		if got != expected {
			return Err(self.bad(
				"add",
				format!(
					"the daemon stored the file as {got} but this client computes {expected} for \
					 CIDv1, raw leaves, 256 KiB chunks, balanced layout"
				),
			));
		}
		Ok(got)
	}

	async fn get(&self, cid: &Cid) -> Result<Vec<u8>, StorageError> {
		let data = self.cat(cid).await?;
		verify_content(cid, &data)?;
		Ok(data)
	}

	async fn pin(&self, cid: &Cid) -> Result<(), StorageError> {
		let v = self.call_json("pin/add", &format!("arg={cid}")).await?;
		match v.get("Pins").and_then(Value::as_array) {
			Some(pins) if !pins.is_empty() => Ok(()),
			_ => Err(self.bad("pin/add", format!("no Pins in {v}"))),
		}
	}

	async fn block_size(&self, cid: &Cid) -> Result<u64, StorageError> {
		self.block_stat(cid).await
	}

	fn describe(&self) -> String {
		format!("IPFS daemon at {}", self.endpoint)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn endpoints() {
		let c = |u| KuboClient::new(u, KuboConfig::default()).map(|c| c.endpoint().to_owned());
		assert_eq!(c("http://127.0.0.1:5001").unwrap(), "http://127.0.0.1:5001");
		assert_eq!(c("http://localhost:5001/").unwrap(), "http://localhost:5001");
		assert_eq!(c("127.0.0.1:5001").unwrap(), "http://127.0.0.1:5001");
		assert_eq!(c("/ip4/127.0.0.1/tcp/5001").unwrap(), "http://127.0.0.1:5001");
		assert_eq!(c("http://[::1]:5001").unwrap(), "http://[::1]:5001");
		assert!(matches!(c("https://x:1"), Err(StorageError::BadEndpoint { .. })));
		assert!(matches!(c("http://x"), Err(StorageError::BadEndpoint { .. })));
		assert!(matches!(c("http://x:port"), Err(StorageError::BadEndpoint { .. })));
		assert!(matches!(c("/ip4/1.2.3.4/udp/1"), Err(StorageError::BadEndpoint { .. })));
	}

	#[test]
	fn sizes_as_number_or_string() {
		let v: Value = serde_json::from_str(r#"{"a": 12, "b": "34", "c": "x", "d": -1}"#).unwrap();
		assert_eq!(parse_size(v.get("a")), Some(12));
		assert_eq!(parse_size(v.get("b")), Some(34));
		assert_eq!(parse_size(v.get("c")), None);
		assert_eq!(parse_size(v.get("d")), None);
		assert_eq!(parse_size(v.get("e")), None);
	}
}
