"""Publishing what the marts hold: catalog_ref into the behaviour database, quality gates, buyers' deliveries."""
