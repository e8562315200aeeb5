"""Channel availability endpoints: by sku, change feed, full feed. (Filled in by the availability work.)"""
