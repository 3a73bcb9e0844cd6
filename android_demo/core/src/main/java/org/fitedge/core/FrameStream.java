package org.fitedge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns audio that arrives in pieces of any size into the encoder's output frames, each emitted once and in
 * order, by running a window-sized model (a static artifact of {@link StreamGeometry#windowSamples()} samples)
 * on overlapping windows: a window runs as soon as its last sample has arrived, and {@link #flush()} runs the
 * rest with zero padding, emitting only the {@code T} frames the whole utterance has. Only the samples the next
 * window still needs are kept, so memory stays bounded however long the stream runs. Not thread-safe.
 *
 * <p>With {@code shiftStart} (the manifest's {@code streaming.shift_start}: a chunked-attention model), a window
 * that would start before the audio starts at its first sample instead, so its zeros fall after the samples that
 * have arrived, where no emitted frame looks; the Python stream's {@code shift_start} does the same.
 *
 * <p>With {@code fillEdges} (Python's {@code fill_edges}), no window holds made-up silence once the utterance is
 * a window long: the first windows wait for a whole window and start at the first sample, and at the flush the last
 * ones end at the last sample. A model that attends to everything needs this to match its full-utterance output;
 * the first frame then waits for a whole window.
 */
public final class FrameStream {
    private final StreamGeometry geometry;
    private final ModelRunner runner;
    private final int output;
    private final boolean shiftStart;
    private final boolean fillEdges;
    private float[] buffer = new float[0];
    private long bufferStart;   // global index of buffer[0]; samples before it are no longer needed
    private int buffered;
    private long received;
    private long nextWindow;
    private long emitted;
    private long computeNanos;
    private boolean flushed;

    /** Frames are the {@code output}-th tensor the runner returns, shaped {@code [1, F, D]} or {@code [F, D]}. */
    public FrameStream(StreamGeometry geometry, ModelRunner runner, int output) {
        this(geometry, runner, output, false, false);
    }

    /**
     * As above; {@code shiftStart}: windows that would start before the audio start at its first sample;
     * {@code fillEdges}: windows hold only audio that was heard (see the class comment).
     */
    public FrameStream(StreamGeometry geometry, ModelRunner runner, int output, boolean shiftStart,
            boolean fillEdges) {
        this.geometry = geometry;
        this.runner = runner;
        this.output = output;
        this.shiftStart = shiftStart;
        this.fillEdges = fillEdges;
    }

    /** Adds {@code length} samples from {@code samples[offset]}; returns the frames this completes. */
    public List<float[]> accept(float[] samples, int offset, int length) throws ModelRunner.InferenceException {
        if (flushed) {
            throw new IllegalStateException("the stream was flushed; start a new one");
        }
        append(samples, offset, length);
        List<float[]> frames = new ArrayList<>();
        while (ready(nextWindow) <= received) {
            runWindow(frames, Long.MAX_VALUE);
        }
        return frames;
    }

    /** Ends the input: runs the remaining windows on zero padding and returns the last frames. */
    public List<float[]> flush() throws ModelRunner.InferenceException {
        flushed = true;
        long total = geometry.totalFrames(received);
        List<float[]> frames = new ArrayList<>();
        while (emitted < total) {
            runWindow(frames, total);
        }
        return frames;
    }

    /** Frames emitted so far. */
    public long emitted() {
        return emitted;
    }

    /** Samples accepted so far. */
    public long received() {
        return received;
    }

    /** Time spent inside the model so far, in ns (for the real-time factor). */
    public long computeNanos() {
        return computeNanos;
    }

    private void append(float[] samples, int offset, int length) {
        if (buffered + length > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffered + length, 2 * buffer.length));
        }
        System.arraycopy(samples, offset, buffer, buffered, length);
        buffered += length;
        received += length;
    }

    /** How many samples must have arrived before window {@code k} runs. */
    private long ready(long k) {
        long ready = geometry.windowStart(k) + geometry.windowSamples();
        return fillEdges ? Math.max(ready, geometry.windowSamples()) : ready;
    }

    /** The start of the last window that fits in the audio so far, on the frame grid (negative: none fits). */
    private long lastFittingStart() {
        return Math.floorDiv(received - geometry.windowSamples(), geometry.hopSamples) * geometry.hopSamples;
    }

    /** Runs window {@link #nextWindow}, adds its frames below {@code limit} to {@code frames}, drops old samples. */
    private void runWindow(List<float[]> frames, long limit) throws ModelRunner.InferenceException {
        long start = geometry.windowStart(nextWindow);
        if (fillEdges) {
            if (flushed && start + geometry.windowSamples() > received) {
                start = lastFittingStart();  // ends at the last frame's samples
            }
            start = Math.max(start, 0);  // shorter than a window: from the first sample, zeros after the last
        } else if (shiftStart && start < 0) {
            start = 0;  // same length, on the frame grid: the zeros move to the end
        }
        float[] window = new float[geometry.windowSamples()];
        long from = Math.max(start, bufferStart);
        long to = Math.min(start + window.length, received);
        if (to > from) {
            System.arraycopy(buffer, (int) (from - bufferStart), window, (int) (from - start), (int) (to - from));
        }
        long began = System.nanoTime();
        List<FloatTensor> outputs = runner.run(window);
        computeNanos += System.nanoTime() - began;
        float[][] local = frames(outputs);
        // The window-local index of the first frame it emits: L, or less in a window shifted to the audio's start.
        int skip = (int) (nextWindow * geometry.chunkFrames - start / geometry.hopSamples);
        for (int j = skip; j < skip + geometry.chunkFrames; j++) {
            if (emitted >= limit) {
                break;
            }
            frames.add(local[j]);
            emitted++;
        }
        nextWindow++;
        long keep = geometry.windowStart(nextWindow);
        // A filled stream's last window ends at the audio's end: keep all it could need (the end only grows).
        discardBefore(fillEdges ? Math.min(keep, lastFittingStart()) : keep);
    }

    private float[][] frames(List<FloatTensor> outputs) throws ModelRunner.InferenceException {
        if (output >= outputs.size()) {
            throw new ModelRunner.InferenceException("the model returned " + outputs.size() + " outputs; the stream"
                    + " reads output " + output, null);
        }
        FloatTensor t = outputs.get(output);
        long[] shape = t.shape();
        int count = geometry.windowFrames();
        if (shape.length < 2 || shape[shape.length - 2] != count || (shape.length == 3 && shape[0] != 1)
                || shape.length > 3) {
            throw new ModelRunner.InferenceException("the model returned " + t.shapeText() + " for a window; the"
                    + " manifest's streaming section means [1, " + count + ", D]", null);
        }
        int dim = (int) shape[shape.length - 1];
        float[][] local = new float[count][];
        for (int j = 0; j < count; j++) {
            local[j] = Arrays.copyOfRange(t.data, j * dim, (j + 1) * dim);
        }
        return local;
    }

    private void discardBefore(long sample) {
        int drop = (int) Math.min(Math.max(sample - bufferStart, 0), buffered);
        if (drop > 0) {
            System.arraycopy(buffer, drop, buffer, 0, buffered - drop);
            buffered -= drop;
            bufferStart += drop;
        }
    }
}
