"""What the service holds in memory: the loaded champion models (swapped whole when the alias
moves) and the real-time registry state the contract check reads and follows."""
