"""The real-time contract check: the contract ledger (every registration so far, kept
incrementally), the checker and its micro-batcher, the entity directory, and the one check
function the API, the fast lane and the command line call."""
