"""Demo-only orchestration: the `smartcart demo` runner and the files it drops (not production code)."""
