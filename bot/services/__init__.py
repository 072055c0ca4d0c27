"""Domain rules and SQL. Nothing here imports discord: services take ids and return models."""
