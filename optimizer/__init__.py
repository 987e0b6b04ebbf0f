"""Store-split optimizer: data (``optimizer.data``) -> model (``optimizer.model``) -> solve
(``optimizer.solve``) -> results (``optimizer.results``); ``optimizer.basket`` for the pipeline's
sample baskets and ``optimizer.cli`` for ``smartcart optimize``."""
