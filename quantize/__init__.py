"""int8 recipes per runtime, calibration on speech, per-block sensitivity."""
