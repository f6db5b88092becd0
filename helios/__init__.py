"""Helios: a real-time bidding engine built as a gRPC service mesh."""
