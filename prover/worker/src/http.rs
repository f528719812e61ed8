//! A minimal HTTP/1.1 client on `std::net`: JSON-RPC 2.0 calls to a node and `GET` of a
//! Prometheus endpoint. Enough for the worker, `emr-prover status` and the end-to-end tests,
//! without an async HTTP stack. The node's server answers with `Content-Length` or chunked
//! bodies; both are handled.

use serde_json::{json, Value};
use std::{
	io::{Read, Write},
	net::TcpStream,
	time::Duration,
};

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HttpError {
	/// The server could not be reached or answered something that is not HTTP/JSON.
	#[error("{0}")]
	Transport(String),
	/// The server answered with a JSON-RPC error.
	#[error("{method}: JSON-RPC error {code}: {message}{}", data.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
	Rpc {
		/// The method called.
		method: String,
		/// The error code.
		code: i64,
		/// The message.
		message: String,
		/// Extra data (e.g. the pool's reason).
		data: Option<Value>,
	},
}

/// `host:port` of an `http://`, `https://`, `ws://` or `wss://` URL, or of `host:port` itself
/// (the node serves HTTP and WebSocket JSON-RPC on one port; the path is ignored).
pub fn authority(url: &str) -> Result<String, String> {
	let rest = url.split_once("://").map_or(url, |(_, r)| r);
	let host = rest.split('/').next().unwrap_or_default();
	if host.is_empty() || !host.contains(':') {
		return Err(format!("{url}: expected a URL with host and port, e.g. ws://127.0.0.1:9944"));
	}
	Ok(host.to_string())
}

/// One JSON-RPC 2.0 call over HTTP to `addr` (`host:port`).
pub fn rpc_call(addr: &str, method: &str, params: Value) -> Result<Value, HttpError> {
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
	let request = format!(
		"POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	);
	let response = exchange(addr, request.as_bytes())?;
	let value: Value = serde_json::from_str(&response).map_err(|e| {
		HttpError::Transport(format!("{method}: response is not JSON ({e}): {response}"))
	})?;
	if let Some(error) = value.get("error") {
		return Err(HttpError::Rpc {
			method: method.into(),
			code: error.get("code").and_then(Value::as_i64).unwrap_or_default(),
			message: error.get("message").and_then(Value::as_str).unwrap_or_default().into(),
			data: error.get("data").cloned(),
		});
	}
	value.get("result").cloned().ok_or_else(|| {
		HttpError::Transport(format!("{method}: response has neither result nor error: {value}"))
	})
}

/// JSON-RPC calls to `addr` (`host:port`) with the error in words: the one function shape
/// through which the settlement readers, the relayer and the binary call a node.
pub fn caller(addr: String) -> impl Fn(&str, Value) -> Result<Value, String> {
	move |method, params| rpc_call(&addr, method, params).map_err(|e| e.to_string())
}

/// `GET path` on `addr` (`host:port`), returning the body.
pub fn get(addr: &str, path: &str) -> Result<String, HttpError> {
	let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
	exchange(addr, request.as_bytes())
}

fn transport(e: impl Into<String>) -> HttpError {
	HttpError::Transport(e.into())
}

fn exchange(addr: &str, request: &[u8]) -> Result<String, HttpError> {
	let mut stream = TcpStream::connect(addr)
		.map_err(|e| transport(format!("cannot connect to {addr}: {e}")))?;
	let timeout = Some(Duration::from_secs(30));
	stream
		.set_read_timeout(timeout)
		.and_then(|_| stream.set_write_timeout(timeout))
		.map_err(|e| transport(format!("cannot set socket timeouts: {e}")))?;
	stream.write_all(request).map_err(|e| transport(format!("cannot send request: {e}")))?;
	let mut raw = Vec::new();
	stream.read_to_end(&mut raw).map_err(|e| transport(format!("cannot read response: {e}")))?;
	let text = String::from_utf8_lossy(&raw).into_owned();
	let (head, body) = text
		.split_once("\r\n\r\n")
		.ok_or_else(|| transport(format!("malformed HTTP response from {addr}: {text}")))?;
	let status = head.lines().next().unwrap_or_default();
	if !status.contains(" 200 ") {
		return Err(transport(format!("{addr}: HTTP error: {status}")));
	}
	if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
		return decode_chunked(body);
	}
	Ok(body.to_string())
}

fn decode_chunked(mut body: &str) -> Result<String, HttpError> {
	let mut out = String::new();
	loop {
		let (size_line, rest) =
			body.split_once("\r\n").ok_or_else(|| transport("truncated chunked body"))?;
		let size = usize::from_str_radix(size_line.trim(), 16)
			.map_err(|e| transport(format!("bad chunk size {size_line:?}: {e}")))?;
		if size == 0 {
			return Ok(out);
		}
		let chunk = rest.get(..size).ok_or_else(|| transport("truncated chunk"))?;
		out.push_str(chunk);
		body = rest.get(size + 2..).unwrap_or_default();
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn authority_accepts_node_urls_and_refuses_others() {
		assert_eq!(authority("ws://127.0.0.1:9944").as_deref(), Ok("127.0.0.1:9944"));
		assert_eq!(authority("http://node:9944/rpc").as_deref(), Ok("node:9944"));
		assert_eq!(authority("localhost:1").as_deref(), Ok("localhost:1"));
		assert!(authority("ws://127.0.0.1").is_err());
	}

	#[test]
	fn chunked_bodies_are_joined_and_truncation_is_refused() {
		assert_eq!(decode_chunked("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(), Ok("abcde"));
		assert!(decode_chunked("5\r\nab").is_err());
	}
}
