# The emr-chain validator: `emr-node` (the prover worker inside with `--prover`), the chain specs,
# the development chains' proving keys (INSECURE, seeded; for the dev and consortium-local chains)
# and the `emr` client. Built by docker/build.sh on its Debian base (no registry).
ARG BASE
FROM ${BASE}
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin emr \
	&& mkdir -p /data && chown emr:emr /data
COPY bin/emr-node bin/emr /usr/local/bin/
COPY chain-specs/ /emr/chain-specs/
COPY dev-keys/ /emr/dev-keys/
COPY node-entrypoint.sh /usr/local/bin/emr-node-entrypoint
USER emr
WORKDIR /data
VOLUME /data
# p2p, JSON-RPC (HTTP and WebSocket on one port), Prometheus
EXPOSE 30333 9944 9615
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
	CMD curl -sf -H 'Content-Type: application/json' \
	-d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' http://127.0.0.1:9944 \
	| grep -q '"result"'
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/emr-node-entrypoint"]
