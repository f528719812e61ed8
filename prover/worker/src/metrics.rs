//! Prometheus metrics of the standalone worker: a `/metrics` endpoint on a plain TCP listener,
//! and `emr-prover status`, which reads the `emr_prover_*` series of a worker (standalone or
//! inside a node: both use the same names) and prints them.

use prometheus::{Encoder, Registry, TextEncoder};
use std::{
	io::{Read, Write},
	net::TcpListener,
};

/// Serves `registry` in the Prometheus text format on `addr` (`host:port`) from a background
/// thread; returns the bound address.
pub fn serve(registry: Registry, addr: &str) -> Result<std::net::SocketAddr, String> {
	let listener = TcpListener::bind(addr).map_err(|e| format!("metrics on {addr}: {e}"))?;
	let local = listener.local_addr().map_err(|e| format!("metrics on {addr}: {e}"))?;
	std::thread::Builder::new()
		.name("emr-prover-metrics".into())
		.spawn(move || {
			for stream in listener.incoming() {
				let Ok(mut stream) = stream else { continue };
				let mut request = [0u8; 1024];
				let _ = stream.read(&mut request);
				let mut body = Vec::new();
				let status = match TextEncoder::new().encode(&registry.gather(), &mut body) {
					Ok(()) => "200 OK",
					Err(_) => "500 Internal Server Error",
				};
				let head = format!(
					"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
					body.len()
				);
				let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
			}
		})
		.map_err(|e| format!("metrics thread: {e}"))?;
	Ok(local)
}

/// One `emr_prover_*` value read back from an endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
	/// Series name (histograms: `_sum` and `_count`).
	pub name: String,
	/// Value.
	pub value: f64,
}

/// The `emr_prover_*` samples of a Prometheus text page (bucket lines left out; labels, such
/// as the `chain` label a node adds, dropped).
pub fn parse(page: &str) -> Vec<Sample> {
	page.lines()
		.filter(|l| l.starts_with("emr_prover_") && !l.contains("_bucket"))
		.filter_map(|l| {
			let (series, value) = l.rsplit_once(' ')?;
			let name = series.split('{').next()?;
			Some(Sample { name: name.to_string(), value: value.parse().ok()? })
		})
		.collect()
}

/// The status report of `emr-prover status`: the samples of `url` (`http://host:port[/path]`,
/// path default `/metrics`) in readable form.
pub fn status(url: &str) -> Result<String, String> {
	let addr = crate::http::authority(url)?;
	let path = url
		.split_once("://")
		.map_or(url, |(_, r)| r)
		.split_once('/')
		.map_or("/metrics".to_string(), |(_, p)| format!("/{p}"));
	let page = crate::http::get(&addr, &path).map_err(|e| e.to_string())?;
	let samples = parse(&page);
	if samples.is_empty() {
		return Err(format!(
			"{url} serves no emr_prover_* metrics: is a worker running there (emr-node --prover or emr-prover run)?"
		));
	}
	let get = |n: &str| samples.iter().find(|s| s.name == n).map(|s| s.value);
	let mut out = String::new();
	let line = |out: &mut String, label: &str, v: Option<f64>| {
		out.push_str(&format!("{label:<34} {}\n", v.map_or("?".to_string(), |v| format!("{v}"))));
	};
	let committed = get("emr_prover_last_committed_batch").filter(|v| *v >= 0.0);
	out.push_str(&format!(
		"{:<34} {}\n",
		"last proven batch (in its state)",
		committed.map_or("none".to_string(), |v| format!("{v}"))
	));
	line(&mut out, "sealed, not proven (finalized)", get("emr_prover_lag_batches"));
	line(&mut out, "proofs produced", get("emr_prover_batches_proven_total"));
	line(&mut out, "our proofs final on chain", get("emr_prover_batches_accepted_total"));
	line(&mut out, "batches proven by another prover", get("emr_prover_batches_lost_total"));
	line(&mut out, "failures", get("emr_prover_failures_total"));
	let (sum, count) =
		(get("emr_prover_proving_seconds_sum"), get("emr_prover_proving_seconds_count"));
	if let (Some(sum), Some(count)) = (sum, count) {
		let mean = if count > 0.0 { format!("{:.1} s", sum / count) } else { "-".into() };
		out.push_str(&format!("{:<34} {mean} over {count} proofs\n", "mean proving time"));
	}
	Ok(out)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::Metrics;

	#[test]
	fn served_metrics_read_back_as_the_status_report() {
		let registry = Registry::new();
		let m = Metrics::register(&registry).expect("fresh registry");
		m.batches_proven.inc_by(3);
		m.last_committed.set(7);
		m.lag_batches.set(2);
		m.proving_seconds.observe(4.0);
		m.proving_seconds.observe(6.0);
		let addr = serve(registry, "127.0.0.1:0").expect("bind");
		let report = status(&format!("http://{addr}")).expect("status");
		let row = |label: &str, v: u32| format!("{label:<34} {v}\n");
		assert!(report.contains(&row("last proven batch (in its state)", 7)), "{report}");
		assert!(report.contains(&row("proofs produced", 3)), "{report}");
		assert!(report.contains(&row("sealed, not proven (finalized)", 2)), "{report}");
		assert!(report.contains("5.0 s over 2 proofs"), "{report}");
	}

	#[test]
	fn labelled_series_are_read_by_name() {
		let page = "# HELP x\nemr_prover_lag_batches{chain=\"emr_dev\"} 4\n\
			emr_prover_proving_seconds_bucket{le=\"1\"} 0\nother_metric 1\n";
		assert_eq!(parse(page), vec![Sample { name: "emr_prover_lag_batches".into(), value: 4.0 }]);
	}

	#[test]
	fn an_endpoint_without_worker_metrics_is_refused() {
		let addr = serve(Registry::new(), "127.0.0.1:0").expect("bind");
		let e = status(&format!("http://{addr}/metrics")).expect_err("no worker");
		assert!(e.contains("no emr_prover_* metrics"), "{e}");
	}
}
