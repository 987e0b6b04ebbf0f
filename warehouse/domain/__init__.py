"""Domain rules and contracts shared by every stage (landing file format, GTINs, prices, units, regions); no I/O to databases."""
