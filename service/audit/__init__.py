"""Reading the hash-chained audit log over the API (auditors)."""
