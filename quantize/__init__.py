"""int8 recipes per runtime, calibration on speech, keep-float, and int8 auto (:mod:`fitedge.quantize.auto`)."""
