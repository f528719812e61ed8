# `emr-prover`: the relayer to Ethereum (`relay`), the standalone prover worker (`run`) and the
# one-shot deployment of the settlement contracts (`emr-l1-deploy-once`), with the development
# chains' proving keys (INSECURE, seeded) and the `emr` client. Built by docker/build.sh.
ARG BASE
FROM ${BASE}
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin emr \
	&& mkdir -p /data && chown emr:emr /data
COPY bin/emr-prover bin/emr /usr/local/bin/
COPY dev-keys/ /emr/dev-keys/
COPY l1-deploy-once.sh /usr/local/bin/emr-l1-deploy-once
USER emr
WORKDIR /data
VOLUME /data
# Prometheus metrics of the standalone worker
EXPOSE 9616
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/emr-prover"]
CMD ["--help"]
