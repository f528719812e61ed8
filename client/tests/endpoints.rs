//! Bad IPFS endpoints give clear errors within the timeout: a closed port, a listener that never
//! answers, a stalled body, HTTP errors with the daemon's message, oversized answers (the `emr` binary's words for them: `client/cli/tests/cli.rs`).
#![allow(clippy::unwrap_used)]

use std::{
	io::{Read, Write},
	net::TcpListener,
	time::{Duration, Instant},
};

use emr_client::storage::{unixfs, KuboClient, KuboConfig, Storage, StorageError};

fn client(port: u16, timeout: Duration) -> KuboClient {
	client_at("127.0.0.1", port, timeout)
}

fn client_at(host: &str, port: u16, timeout: Duration) -> KuboClient {
	KuboClient::new(
		&format!("http://{host}:{port}"),
		KuboConfig { timeout, max_response: 1000, ..KuboConfig::default() },
	)
	.unwrap()
}

/// Serves one canned answer per connection (reads the request head first), `count` times.
fn serve(answer: Vec<u8>, count: usize) -> u16 {
	serve_holding(answer, count, Duration::from_millis(50))
}

/// As [`serve`], keeping each connection open for `hold` after answering.
fn serve_holding(answer: Vec<u8>, count: usize, hold: Duration) -> u16 {
	let l = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = l.local_addr().unwrap().port();
	std::thread::spawn(move || {
		for _ in 0..count {
			let Ok((mut s, _)) = l.accept() else { return };
			let mut buf = [0u8; 4096];
			let mut seen = Vec::new();
			while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
				match s.read(&mut buf) {
					Ok(0) | Err(_) => break,
					Ok(n) => seen.extend_from_slice(&buf[..n]),
				}
			}
			let _ = s.write_all(&answer);
			std::thread::sleep(hold);
		}
	});
	port
}

#[tokio::test]
async fn dead_endpoint() {
	// A loopback address of its own: the other tests of this binary listen on 127.0.0.1 with
	// ports the system picks, and could be handed this port once it is closed again.
	let host = "127.0.0.86";
	let port = {
		let l = TcpListener::bind((host, 0)).unwrap();
		l.local_addr().unwrap().port()
	}; // closed again: nothing listens there
	let start = Instant::now();
	let err = client_at(host, port, Duration::from_secs(10)).version().await.unwrap_err();
	assert!(start.elapsed() < Duration::from_secs(5));
	assert!(matches!(err, StorageError::Unreachable { .. }), "{err:?}");
	let msg = err.to_string();
	assert!(msg.contains(&format!("{host}:{port} could not be reached")), "{msg}");
}

#[tokio::test]
async fn silent_endpoint_times_out() {
	// Accepts connections (the kernel does, via the backlog) but never answers.
	let l = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = l.local_addr().unwrap().port();
	let timeout = Duration::from_secs(2);
	let c = client(port, timeout);
	let start = Instant::now();
	let err = c.version().await.unwrap_err();
	let took = start.elapsed();
	assert!(took >= timeout && took < timeout + Duration::from_secs(2), "{took:?}");
	assert!(matches!(err, StorageError::Timeout { seconds: 2, .. }), "{err:?}");
	assert_eq!(
		err.to_string(),
		format!("the IPFS daemon at http://127.0.0.1:{port} did not answer version within 2 s")
	);
	// The same for a whole put (upload accepted into socket buffers, no answer).
	let err = c.put(bytes::Bytes::from(vec![1u8; 1000])).await.unwrap_err();
	assert!(matches!(err, StorageError::Timeout { .. }), "{err:?}");
	drop(l);
}

#[tokio::test]
async fn stalled_body_times_out() {
	// Answers the head, sends part of the body, then stalls (keeps the connection open).
	let port = serve_holding(
		b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec(),
		1,
		Duration::from_secs(6),
	);
	let start = Instant::now();
	let err = client(port, Duration::from_secs(1)).cat(&unixfs::cid_of(b"x")).await.unwrap_err();
	let took = start.elapsed();
	assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(3), "{took:?}");
	assert!(matches!(err, StorageError::Timeout { seconds: 1, .. }), "{err:?}");
}

#[tokio::test]
async fn http_error_carries_the_daemon_message() {
	let body = r#"{"Message":"invalid path \"nope\": selected encoding not supported","Code":0,"Type":"error"}"#;
	let answer = format!(
		"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
		body.len()
	);
	let port = serve(answer.into_bytes(), 1);
	let err = client(port, Duration::from_secs(5)).cat(&unixfs::cid_of(b"x")).await.unwrap_err();
	match &err {
		StorageError::Http { status, message, call, .. } => {
			assert_eq!(*status, 500);
			assert_eq!(call, "cat");
			assert_eq!(message, "invalid path \"nope\": selected encoding not supported");
		},
		other => panic!("{other:?}"),
	}
}

#[tokio::test]
async fn oversized_and_garbled_answers() {
	let big = vec![b'a'; 5000];
	let mut answer =
		format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", big.len()).into_bytes();
	answer.extend_from_slice(&big);
	let port = serve(answer, 1);
	let err = client(port, Duration::from_secs(5)).cat(&unixfs::cid_of(b"x")).await.unwrap_err();
	assert!(matches!(err, StorageError::TooLarge { limit: 1000, .. }), "{err:?}");

	let body = "not json";
	let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
	let port = serve(answer.into_bytes(), 1);
	let err = client(port, Duration::from_secs(5)).version().await.unwrap_err();
	assert!(matches!(err, StorageError::BadResponse { .. }), "{err:?}");

	// Kubo's string Size and js-ipfs' number Size are both accepted by block/stat.
	for size in ["\"262158\"", "262158"] {
		let body = format!(
			r#"{{"Key":"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku","Size":{size}}}"#
		);
		let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
		let port = serve(answer.into_bytes(), 1);
		let n =
			client(port, Duration::from_secs(5)).block_size(&unixfs::cid_of(b"")).await.unwrap();
		assert_eq!(n, 262_158);
	}

	// A daemon answering with bytes that do not match the CID is caught.
	let body = "hello";
	let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
	let port = serve(answer.into_bytes(), 1);
	let err =
		client(port, Duration::from_secs(5)).get(&unixfs::cid_of(b"other")).await.unwrap_err();
	assert!(matches!(err, StorageError::Corrupt { .. }), "{err:?}");
}
