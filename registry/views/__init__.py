"""Registry web pages, split by topic."""
