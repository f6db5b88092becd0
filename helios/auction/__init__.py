"""The auction service: consumes bids from Kafka, decides each auction, publishes outcomes."""
