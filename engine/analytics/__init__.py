"""Performance and risk analytics: vectorised numpy figures with empyrical's conventions."""
