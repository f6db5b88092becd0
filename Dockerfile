# The one Helios image: every service (`helios serve <name>`), the operator tasks, and Envoy
# with the gateway templates (`helios render-gateway`, then `envoy`). Used by charts/helios.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY helios ./helios
COPY gateway ./gateway
RUN pip install --no-cache-dir ".[gateway]" && useradd --uid 10001 helios
ENV HELIOS_GATEWAY_DIR=/app/gateway
USER helios
ENTRYPOINT ["helios"]
