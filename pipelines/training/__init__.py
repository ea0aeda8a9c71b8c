"""Training: the training flows, one training run (fit, review, log, register) and the
month-end panel both production models train on."""
