"""The Envoy gateway: its settings and the rendering of `gateway/envoy.yaml.j2`."""
