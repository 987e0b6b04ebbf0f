import dagster as dg

from orchestration.defs.optimizer.assets import sample_basket_split

defs = dg.Definitions(assets=[sample_basket_split])
