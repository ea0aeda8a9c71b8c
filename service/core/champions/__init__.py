"""The champion models being served: loaded from the MLflow registry and swapped whole when
the alias moves."""
