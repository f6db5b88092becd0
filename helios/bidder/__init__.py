"""The bidder: validates an ad request, enriches it with the user's profile, prices it,
publishes the bid to Kafka and answers with it."""
