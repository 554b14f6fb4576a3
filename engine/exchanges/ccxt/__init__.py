"""Gateways to Binance, Bybit, OKX and MEXC through ccxt's asyncio API."""
