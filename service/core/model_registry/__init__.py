"""The reviewer's side of the MLflow model registry: the catalog, review reports, promotion
through the gate and drift-alert acknowledgement."""
