"""Plumbing every Helios service shares: settings, logging, errors, metrics, the gRPC server
runner and the Kafka helpers. Nothing here knows about bids or auctions."""
