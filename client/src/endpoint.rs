//! Plain-HTTP service addresses, shared by the IPFS daemon client and the chain client.

/// A host and port reached over plain HTTP, with its `http://host:port` form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpEndpoint {
	/// The host name or address (an IPv6 address without brackets).
	pub host: String,
	/// The TCP port.
	pub port: u16,
	/// `http://host:port` (`http://[v6]:port`).
	pub url: String,
}

impl HttpEndpoint {
	/// From a host and a port still in text; the error says what is wrong.
	pub fn new(host: &str, port: &str) -> Result<Self, &'static str> {
		if host.is_empty() {
			return Err("the host is missing");
		}
		let port: u16 = port.parse().map_err(|_| "the port is not a number")?;
		let url = if host.contains(':') {
			format!("http://[{host}]:{port}")
		} else {
			format!("http://{host}:{port}")
		};
		Ok(Self { host: host.to_owned(), port, url })
	}

	/// From what follows an address's scheme: `host:port[/…]` or `[v6]:port[/…]`.
	pub fn from_authority(rest: &str) -> Result<Self, &'static str> {
		let authority = rest.split('/').next().unwrap_or_default();
		let (host, port) = match authority.strip_prefix('[') {
			Some(v6) => v6.split_once("]:").ok_or("expected [address]:port")?,
			None => authority.rsplit_once(':').ok_or("the port is missing")?,
		};
		Self::new(host, port)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn authorities_parse_or_say_why_not() {
		let e = HttpEndpoint::from_authority("node.local:9944/x").unwrap();
		assert_eq!(
			(e.host.as_str(), e.port, e.url.as_str()),
			("node.local", 9944, "http://node.local:9944")
		);
		assert_eq!(HttpEndpoint::from_authority("[::1]:5001").unwrap().url, "http://[::1]:5001");
		assert_eq!(HttpEndpoint::from_authority("host"), Err("the port is missing"));
		assert_eq!(HttpEndpoint::from_authority(":1"), Err("the host is missing"));
		assert_eq!(HttpEndpoint::from_authority("h:99999"), Err("the port is not a number"));
		assert_eq!(HttpEndpoint::from_authority("[::1]5001"), Err("expected [address]:port"));
	}
}
