"""Model monitoring: drift of the champion's score and top features, month by month,
against a reference fixed on its training window, and observed against predicted bad rates by
grade once a month's labels arrive. Pure functions and dataclasses; the flow that reads the
data, writes the database and starts retraining is :mod:`pipelines.monitor`."""
