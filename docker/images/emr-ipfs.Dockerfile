# A hospital's IPFS daemon: js-ipfs (npm ipfs@0.66.1 with mortice 3.0.6, as scripts/ipfs.sh
# installs it; it serves the Kubo RPC API) on Debian's Node.js. Built by docker/build.sh.
ARG BASE
FROM ${BASE}
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin emr \
	&& mkdir -p /data && chown emr:emr /data
COPY js-ipfs/ /opt/js-ipfs/
COPY ipfs-entrypoint.sh /usr/local/bin/emr-ipfs-entrypoint
USER emr
WORKDIR /data
VOLUME /data
# RPC API
EXPOSE 5001
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
	CMD curl -sf -X POST http://127.0.0.1:5001/api/v0/version >/dev/null
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/emr-ipfs-entrypoint"]
