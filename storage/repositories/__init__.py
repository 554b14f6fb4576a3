"""SQL implementations of the engine's repository ports."""
