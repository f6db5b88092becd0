"""The user-profile service: interest scores per user, kept in Redis, served over gRPC.

``model`` and ``validation`` hold the rules, ``layout`` the Redis key layout, ``store`` the
Redis adapter, ``servicer`` the gRPC adapter, ``service`` the process, ``seed`` the demo set.
"""
