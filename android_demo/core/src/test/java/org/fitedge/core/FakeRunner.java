package org.fitedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A plain-Java stand-in for a runtime (the real ones exist only on a phone): returns the test bundle's golden
 * output, perturbed by {@code ±offset}, in the given shape, and records what it was fed and whether it was closed.
 */
final class FakeRunner implements ModelRunner {
    final float offset;
    final long[] shape;
    final List<Integer> fedLengths = new ArrayList<>();
    boolean closed;

    FakeRunner(float offset, long[] shape) {
        this.offset = offset;
        this.shape = shape;
    }

    @Override
    public List<FloatTensor> run(float[] wav) {
        fedLengths.add(wav.length);
        float[] out = TestBundles.OUTPUT.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += offset * (i % 2 == 0 ? 1 : -1);
        }
        return Collections.singletonList(new FloatTensor(out, shape));
    }

    @Override
    public String runtime() {
        return "executorch";
    }

    @Override
    public void close() {
        closed = true;
    }
}
