"""Landing loaders: crawl landings, crowd price reports and app events into the raw schemas, each whole or rejected whole."""
