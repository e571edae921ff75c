"""Figures: progression over years and one day in detail. Matplotlib is imported only here."""
