import dagster as dg

from orchestration.defs.optimizer.assets import sample_basket_split
from orchestration.defs.optimizer.batch import (
    basket_splits_batch,
    optimizer_batch_job,
    optimizer_batch_schedule,
    product_search_index,
    product_search_job,
    product_search_schedule,
)
from orchestration.defs.optimizer.jobs import optimize_basket_job

defs = dg.Definitions(
    assets=[sample_basket_split, basket_splits_batch, product_search_index],
    jobs=[optimize_basket_job, optimizer_batch_job, product_search_job],
    schedules=[optimizer_batch_schedule, product_search_schedule],
)
