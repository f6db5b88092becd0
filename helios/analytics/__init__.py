"""The analytics service: auction outcomes from Kafka into PostgreSQL, and the query API."""
