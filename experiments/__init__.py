"""The loops that run agents on environments, their evaluation, and results."""
