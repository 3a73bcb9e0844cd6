"""Benchmarks on an Android phone over adb, and the phone's results turned into bench records."""
