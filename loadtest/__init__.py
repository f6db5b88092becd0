"""Benchmarks, load and soak runs; each is a script (see the Makefile)."""
