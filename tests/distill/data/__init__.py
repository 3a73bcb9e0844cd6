"""Tests of ``fitedge.distill.data``: audio input, the espeak-ng and Asterisk corpora."""
