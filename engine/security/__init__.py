"""Security of the trading actions: the trading PIN and its guard."""
