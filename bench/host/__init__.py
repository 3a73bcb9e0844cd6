"""Size, latency, memory and efficiency: the benchmark matrix, isolated cells, timing, statistics, peaks,
targets, comparisons, and distillation throughput."""
