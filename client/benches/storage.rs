//! Throughput of the client's storage path (`cargo bench -p emr-client`): encrypt+store and
//! fetch+decrypt, with the embedded store and with a real js-ipfs daemon (started through
//! `scripts/ipfs.sh`, stopped when the benchmark exits), plus the pieces on their own.
//!
//! Each figure is the median of several runs; MB/s are 10^6 bytes of plaintext per second.
//! `EMR_BENCH_QUICK=1` runs fewer, smaller cases.
#![allow(clippy::unwrap_used)]

use std::{
	path::Path,
	process::Command,
	time::{Duration, Instant},
};

use bytes::Bytes;
use emr_client::{
	client::{Client, Quiet},
	crypto::{self, RecordContext, SymmetricKey},
	ids::{PatientId, RecordId},
	keys::KeySet,
	storage::{unixfs, EmbeddedStore, KuboClient, KuboConfig, Storage, Store},
};
use rand::rngs::OsRng;

fn data(len: usize) -> Vec<u8> {
	let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
	let mut out = Vec::with_capacity(len + 8);
	while out.len() < len {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		out.extend_from_slice(&x.to_le_bytes());
	}
	out.truncate(len);
	out
}

fn median(mut v: Vec<Duration>) -> Duration {
	v.sort();
	v[v.len() / 2]
}

fn mbps(bytes: usize, d: Duration) -> f64 {
	bytes as f64 / 1e6 / d.as_secs_f64()
}

fn report(what: &str, size: usize, times: Vec<Duration>) {
	let m = median(times);
	println!(
		"| {what} | {} MiB | {:.1} ms | {:.0} MB/s |",
		size >> 20,
		m.as_secs_f64() * 1e3,
		mbps(size, m)
	);
}

async fn bench_client(label: &str, client: &Client<Store>, sizes: &[usize], runs: usize) {
	let keys = KeySet::generate("bench");
	let p = PatientId::new(&format!("bench-{}", label.replace(' ', "-"))).unwrap();
	for &size in sizes {
		let bytes = data(size);
		let (mut put, mut get) = (Vec::new(), Vec::new());
		for _ in 0..runs {
			let t = Instant::now();
			let r = client
				.put(&keys, &p, &mut bytes.as_slice(), size as u64, "Binary", &[], &mut Quiet)
				.await
				.unwrap();
			put.push(t.elapsed());
			let mut out = Vec::with_capacity(size);
			let t = Instant::now();
			client.get(&keys, &r.record, None, None, &mut out, &mut Quiet).await.unwrap();
			get.push(t.elapsed());
			assert!(out == bytes);
		}
		report(&format!("encrypt + store, {label}"), size, put);
		report(&format!("fetch + decrypt, {label}"), size, get);
	}
}

fn start_daemon(dir: &Path) -> String {
	let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
	let out = Command::new(root.join("scripts/ipfs.sh"))
		.arg("start")
		.env("EMR_IPFS_DIR", dir)
		.env("EMR_IPFS_WATCH_PID", std::process::id().to_string())
		.env("EMR_IPFS_REMOVE_DIR", "1")
		.output()
		.unwrap();
	assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
	String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().to_owned()
}

fn main() {
	// `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special: run quickly.
	let quick =
		std::env::var_os("EMR_BENCH_QUICK").is_some() || !std::env::args().any(|a| a == "--bench");
	let (sizes, runs): (Vec<usize>, usize) =
		if quick { (vec![1 << 20], 1) } else { (vec![1 << 20, 16 << 20, 50 << 20], 5) };
	let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

	println!("| what | size | median time | throughput |");
	println!("|---|---|---|---|");
	// The pieces on their own.
	let ctx = RecordContext {
		patient: PatientId::new("p").unwrap(),
		record: RecordId([1; 16]),
		version: 1,
	};
	for &size in &sizes {
		let bytes = data(size);
		let key = SymmetricKey::random(&mut OsRng);
		let (mut enc, mut dec, mut cid) = (Vec::new(), Vec::new(), Vec::new());
		for _ in 0..runs {
			let t = Instant::now();
			let (ct, _) = crypto::encrypt_bytes(&key, &ctx, &bytes, &mut OsRng).unwrap();
			enc.push(t.elapsed());
			let mut out = Vec::with_capacity(size);
			let t = Instant::now();
			crypto::decrypt_record(&key, &ctx, &ct, &mut out).unwrap();
			dec.push(t.elapsed());
			let t = Instant::now();
			std::hint::black_box(unixfs::cid_of(&ct));
			cid.push(t.elapsed());
		}
		report("encrypt only (XChaCha20-Poly1305 STREAM + SHA-256)", size, enc);
		report("decrypt only", size, dec);
		report("UnixFS CID of the ciphertext", size, cid);
	}

	let dir = tempfile::tempdir().unwrap();
	let embedded = Client::new(
		Store::Embedded(EmbeddedStore::open(dir.path().join("ipfs")).unwrap()),
		dir.path(),
	);
	rt.block_on(bench_client("embedded store", &embedded, &sizes, runs));

	let daemon_dir = std::env::temp_dir().join(format!("emr-ipfs-bench-{}", std::process::id()));
	let url = start_daemon(&daemon_dir);
	let kubo = KuboClient::new(&url, KuboConfig::default()).unwrap();
	let version = rt.block_on(kubo.version()).unwrap();
	eprintln!("js-ipfs daemon {version} at {url}");
	let daemon = Client::new(Store::Kubo(kubo.clone()), dir.path());
	rt.block_on(bench_client("js-ipfs daemon", &daemon, &sizes, runs));
	// Raw add / cat through the daemon (no encryption), for comparison.
	for &size in &sizes {
		let bytes = Bytes::from(data(size));
		let (mut add, mut cat) = (Vec::new(), Vec::new());
		for i in 0..runs {
			let mut b = bytes.to_vec();
			b[0] = i as u8; // new content each run
			let b = Bytes::from(b);
			let t = Instant::now();
			let cid = rt.block_on(kubo.put(b)).unwrap();
			add.push(t.elapsed());
			let t = Instant::now();
			rt.block_on(kubo.get(&cid)).unwrap();
			cat.push(t.elapsed());
		}
		report("add (plain), js-ipfs daemon", size, add);
		report("cat + CID check (plain), js-ipfs daemon", size, cat);
	}
}
