# The one Helios image: every service (`helios serve <name>`), the operator tasks (migrate,
# create-topics, seed-profiles, wait-healthy), and Envoy with the gateway templates
# (`helios render-gateway`, then `envoy`). Used by charts/helios; built by `make image`.

# The build stage: pip (the base's) installs Helios into a virtualenv that has no pip of its
# own, so what the runtime stage copies holds only what runs: no pip, setuptools, sources or
# build leftovers. Every dependency is a wheel, so no compiler is ever installed.
FROM python:3.11-slim AS build
RUN python3 -m venv --without-pip /opt/helios
WORKDIR /src
COPY pyproject.toml README.md ./
COPY helios ./helios
# Bytecode is compiled here, as the runtime user cannot write it (read-only root filesystem).
# unchecked-hash: the .pyc stay valid after COPY --from, which need not keep the sources' mtimes.
RUN pip --python /opt/helios/bin/python install --no-cache-dir --no-compile ".[gateway]" \
 && /opt/helios/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/helios

FROM python:3.11-slim
COPY --from=build /opt/helios /opt/helios
COPY gateway /opt/helios/gateway
# The official base image ships its standard library without .pyc: compile it too, or every
# process start compiles it again in memory. The user's home is /tmp in /etc/passwd as well as
# in HOME, since some runtimes take HOME from the one, some from the other.
RUN python3 -m compileall -q -j 0 "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" \
 && groupadd --gid 10001 helios \
 && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin helios
# Nothing writes outside /tmp (an emptyDir in a pod) and /etc/envoy (the rendered config):
# HOME and temporary files go to /tmp, Python never writes .pyc at run time.
ENV PATH=/opt/helios/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    HELIOS_GATEWAY_DIR=/opt/helios/gateway
# Numeric, so the kubelet can check runAsNonRoot against the image itself.
USER 10001:10001
ENTRYPOINT ["helios"]
