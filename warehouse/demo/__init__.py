"""Demo-only code (the shopper simulator); production code never imports it."""
