"""Tests of the Android demo app (``android_demo/``): its Java core and its compile check."""
