"""punie_eval: run a model on the eval queries, score its code, compare, report."""
