package org.fitedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class CtcGreedyTest {
    static final List<String> TOKENS = Arrays.asList("<blank>", "a", "b", "c");

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static float[] onehot(int token) {
        float[] logits = new float[4];
        logits[token] = 1f;
        return logits;
    }

    static List<float[]> frames(int... argmax) {
        float[][] out = new float[argmax.length][];
        for (int i = 0; i < argmax.length; i++) {
            out[i] = onehot(argmax[i]);
        }
        return Arrays.asList(out);
    }

    @Test
    public void repeatsCollapseAndBlanksDrop() {
        assertEquals(Arrays.asList("a", "b", "a", "c"), new CtcGreedy(TOKENS).accept(frames(0, 1, 1, 2, 0, 1, 1, 0, 3, 3)));
        // A blank between two equal tokens keeps both.
        assertEquals(Arrays.asList("b", "b"), new CtcGreedy(TOKENS).accept(frames(2, 0, 2)));
    }

    @Test
    public void aRepeatSplitAcrossCallsIsOnePhoneme() {
        CtcGreedy ctc = new CtcGreedy(TOKENS);
        assertEquals(Collections.singletonList("a"), ctc.accept(frames(1, 1)));
        assertEquals(Collections.singletonList("c"), ctc.accept(frames(1, 3)));
        assertEquals(Collections.emptyList(), ctc.accept(frames(3, 0)));
        assertEquals(Collections.singletonList("c"), ctc.accept(frames(3)));
    }

    @Test
    public void tiesGoToTheFirstTokenAsInNumpy() {
        assertEquals(2, CtcGreedy.argmax(new float[] {0f, 1f, 5f, 5f}));
        assertEquals(Collections.emptyList(), new CtcGreedy(TOKENS).accept(frames(0, 0)));
        assertEquals(0, CtcGreedy.argmax(new float[] {-1f, -1f, -1f, -1f}));
    }

    @Test
    public void tokensFileHasTheBlankFirst() throws Exception {
        Path file = tmp.getRoot().toPath().resolve("tokens.txt");
        Files.write(file, "<blank>\nAA\nB\n\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(Arrays.asList("<blank>", "AA", "B"), CtcGreedy.readTokens(file));
        Files.write(file, "<blank>\n".getBytes(StandardCharsets.UTF_8));
        BundleException e = assertThrows(BundleException.class, () -> CtcGreedy.readTokens(file));
        assertTrue(e.getMessage(), e.getMessage().contains("at least one token"));
        assertThrows(IllegalArgumentException.class,
                () -> new CtcGreedy(TOKENS).accept(Collections.singletonList(new float[3])));
    }
}
