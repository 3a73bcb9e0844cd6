package org.fitedge.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Greedy CTC over frames of logits as they arrive: argmax per frame, repeats collapsed, the blank (token 0)
 * dropped. It remembers the last frame's argmax, so a repeat split across two calls is still one phoneme.
 */
public final class CtcGreedy {
    private final List<String> tokens;
    private int previous = -1;

    /** {@code tokens[i]} is the label of logit {@code i}; {@code tokens[0]} is the blank. */
    public CtcGreedy(List<String> tokens) {
        if (tokens.size() < 2) {
            throw new IllegalArgumentException("a CTC vocabulary needs the blank and at least one token, got " + tokens);
        }
        this.tokens = new ArrayList<>(tokens);
    }

    /** A tokens file: one token per line, the blank first (blank lines at the end ignored). */
    public static List<String> readTokens(Path file) throws BundleException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BundleException(file + ": unreadable tokens file (" + e.getMessage() + ")", e);
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).trim().isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        if (lines.size() < 2) {
            throw new BundleException(file + ": a tokens file needs the blank and at least one token");
        }
        return lines;
    }

    /** The phonemes decided by {@code frames} (each one frame of logits), following the frames before them. */
    public List<String> accept(List<float[]> frames) {
        List<String> decided = new ArrayList<>();
        for (float[] logits : frames) {
            if (logits.length != tokens.size()) {
                throw new IllegalArgumentException("a frame has " + logits.length + " logits for " + tokens.size()
                        + " tokens");
            }
            int best = argmax(logits);
            if (best != previous && best != 0) {
                decided.add(tokens.get(best));
            }
            previous = best;
        }
        return decided;
    }

    /** The first index of the largest value (as NumPy's argmax). */
    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
