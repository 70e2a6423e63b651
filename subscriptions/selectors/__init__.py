"""Read queries, one module per concept. Nothing here writes, and nothing calls NetSuite."""
