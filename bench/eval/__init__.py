"""Task accuracy: phoneme error rate with a CTC probe on frozen features, its bootstrap interval, and the
export's PER gate."""
