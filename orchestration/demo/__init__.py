"""Demo-only orchestration: what `smartcart demo` runs (production code never imports it)."""
