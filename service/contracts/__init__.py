"""The real-time contract check at registration, one contract or a batch."""
