"""SQL of the warehouse, one statement per file, loaded with `importlib.resources`."""
