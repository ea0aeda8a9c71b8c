"""Risk warnings (风险预警) written by the batch runs."""
