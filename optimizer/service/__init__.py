"""HTTP service for apps: product search and basket splits (FastAPI; `smartcart serve`)."""
