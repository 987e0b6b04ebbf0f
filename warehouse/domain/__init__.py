"""Domain rules and contracts shared by every stage (scrapers, loaders, demo, marts): the landing file
format, GTINs, prices, units, regions.

Nothing here touches a database or imports a later stage, so any stage may import it.
"""
