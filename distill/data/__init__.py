"""Speech and labels: audio decoding, datasets and batching, the corpus format, espeak-ng synthesis, sentences,
the phone set, the Asterisk prompts, and the MFCC front end."""
