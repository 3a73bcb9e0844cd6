"""Size, speed, memory and task-accuracy benchmarks, reports, Android device runs."""
