"""Pure domain rules shared by every stage (scrapers, loaders, demo, marts): GTINs, prices, units.

Nothing here does I/O or imports another SmartCart package, so any stage may import it.
"""
