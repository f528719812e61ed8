# The development Ethereum: anvil from the npm package @foundry-rs/anvil (pinned in
# contracts/package.json), Prague hardfork (EIP-2537 BLS12-381 precompiles), anvil's well-known
# development accounts, state kept in /data/state.json. Built by docker/build.sh.
ARG BASE
FROM ${BASE}
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin emr \
	&& mkdir -p /data && chown emr:emr /data
COPY anvil /usr/local/bin/anvil
USER emr
WORKDIR /data
VOLUME /data
EXPOSE 8545
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
	CMD curl -sf -H 'Content-Type: application/json' \
	-d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' http://127.0.0.1:8545 \
	| grep -q '"result"'
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/anvil", "--host", "0.0.0.0", "--port", "8545", \
	"--chain-id", "31337", "--mnemonic", "test test test test test test test test test test test junk", \
	"--hardfork", "prague", "--block-time", "1", "--state", "/data/state.json", "--state-interval", "5"]
