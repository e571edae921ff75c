"""Analysis: clinical markers, the daily table, the yearly summary and ADA staging."""
