package org.fitedge.core;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What the app's Live mode does with microphone audio: streams it through a {@link FrameStream} over one
 * artifact, decodes phonemes as soon as their frames are final (when the bundle has a CTC head), and measures
 * the real-time factor and the first-frame latency. Plain Java, so the screen's logic is tested off the phone.
 */
public final class LiveSession {
    private final StreamGeometry geometry;
    private final FrameStream stream;
    private final CtcGreedy decoder;
    private final String noPhonemesReason;
    private final int sampleRate;
    private final StringBuilder transcript = new StringBuilder();
    private long firstSampleNanos = -1;
    private double firstFrameMs = Double.NaN;

    /** What one piece of audio changed. */
    public static final class Update {
        /** Phonemes decided by this piece (empty without a head). */
        public final List<String> phonemes;
        /** Frames emitted so far. */
        public final long frames;

        Update(List<String> phonemes, long frames) {
            this.phonemes = phonemes;
            this.frames = frames;
        }
    }

    /** A session over {@code runner}, an opened artifact of the bundle in {@code dir} described by {@code m}. */
    public LiveSession(Manifest m, Manifest.Artifact artifact, Path dir, ModelRunner runner) throws BundleException {
        geometry = StreamGeometry.of(m);
        if (artifact.fixedLength() && m.audio.inputSamples != geometry.windowSamples()) {
            throw new BundleException(artifact.file + " takes " + m.audio.inputSamples + " samples but a stream window"
                    + " is " + geometry.windowSamples() + "; export the artifact with the streaming window length");
        }
        sampleRate = m.audio.sampleRate;
        int output = 0;
        String reason = null;
        CtcGreedy ctc = null;
        if (m.head == null) {
            reason = "no phonemes: this bundle has no CTC head (manifest `head`); frames only";
        } else {
            output = outputIndex(m, m.head.output);
            ctc = new CtcGreedy(CtcGreedy.readTokens(dir.resolve(m.head.tokens)));
        }
        decoder = ctc;
        noPhonemesReason = reason;
        // Not fillEdges: live, the first phonemes show after chunk + lookahead rather than after a whole window.
        stream = new FrameStream(geometry, runner, output, Boolean.TRUE.equals(m.streaming.shiftStart), false);
    }

    /** {@code length} new samples from {@code samples[0]}, read from the microphone at {@code nowNanos}. */
    public Update accept(float[] samples, int length, long nowNanos) throws ModelRunner.InferenceException {
        if (firstSampleNanos < 0) {
            // The piece was recorded before it was read: its first sample arrived `length` samples earlier.
            firstSampleNanos = nowNanos - length * 1_000_000_000L / sampleRate;
        }
        return update(stream.accept(samples, 0, length));
    }

    /** The end of the recording: the last frames, padded with zeros. */
    public Update flush() throws ModelRunner.InferenceException {
        return update(stream.flush());
    }

    private Update update(List<float[]> frames) {
        if (!frames.isEmpty() && Double.isNaN(firstFrameMs) && firstSampleNanos >= 0) {
            firstFrameMs = (System.nanoTime() - firstSampleNanos) / 1e6;
        }
        List<String> phonemes = decoder == null ? Collections.<String>emptyList() : decoder.accept(frames);
        for (String p : phonemes) {
            transcript.append(transcript.length() == 0 ? "" : " ").append(p);
        }
        return new Update(phonemes, stream.emitted());
    }

    /** The phonemes so far, space-separated, or why there are none. */
    public String transcript() {
        return decoder == null ? noPhonemesReason : transcript.toString();
    }

    /** Model time over audio time so far; NaN before any audio. */
    public double rtf() {
        return stream.received() == 0 ? Double.NaN
                : stream.computeNanos() / 1e9 / ((double) stream.received() / sampleRate);
    }

    /** Wall-clock ms from the first sample until frame 0 was emitted; NaN until then. */
    public double firstFrameMs() {
        return firstFrameMs;
    }

    /** What Live mode shows: the phonemes so far, then frames, RTF, first-frame and algorithmic latency. */
    public String summary() {
        String first = Double.isNaN(firstFrameMs) ? "-" : String.format(Locale.ROOT, "%.0f ms", firstFrameMs);
        return String.format(Locale.ROOT, "%s%nframes %d, RTF %.3f, first frame %s, algorithmic latency %.0f ms",
                transcript(), stream.emitted(), rtf(), first, algorithmicLatencyMs());
    }

    /** The latency the window geometry alone imposes, in ms. */
    public double algorithmicLatencyMs() {
        return geometry.algorithmicLatencyMs(sampleRate);
    }

    private static int outputIndex(Manifest m, String name) throws BundleException {
        for (int i = 0; i < m.outputs.size(); i++) {
            if (m.outputs.get(i).name.equals(name)) {
                return i;
            }
        }
        throw new BundleException("manifest field head.output names '" + name + "', which is not among the outputs");
    }
}
