"""Model monitoring records: monthly drift checks, alerts and calibration by grade,
written by the monitoring flow (:mod:`pipelines.monitor`)."""
