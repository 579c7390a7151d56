"""Usage: who calls which version, counted in memory, written in batches, and reported."""
