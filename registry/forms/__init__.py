"""Forms of the registry's web pages: validation only; state changes are in services."""
