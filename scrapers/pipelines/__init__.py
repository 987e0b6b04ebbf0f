"""Ordered item pipelines, one class per module; the order lives in ``scrapers.settings.ITEM_PIPELINES``.

Invalid items are never dropped silently: a pipeline calls ``item.reject(reason)`` and later
cleaning pipelines pass the item through untouched until ``QuarantinePipeline`` writes it, with
its reason and raw payload, to ``rejected_items.jsonl``.
"""
