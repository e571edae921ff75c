"""Writing results: summary.json, the daily table and figures."""
