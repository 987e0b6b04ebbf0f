"""``python -m scrapers.demo_market``: serve the demo market until SIGTERM/SIGINT."""

import sys

from scrapers.demo_market.server import main

sys.exit(main())
