package org.fitedge.core;

import com.google.gson.JsonObject;
import com.google.gson.annotations.SerializedName;

import java.util.List;
import java.util.Map;

/**
 * The bundle manifest ({@code manifest.json}, schema {@code fitedge.bundle} version 1; cross-team contract 2),
 * as plain data filled by gson. JSON keys are snake_case; {@link ManifestReader} maps them onto these
 * camelCase fields and checks the parts the app relies on. Treat instances as read-only.
 */
public final class Manifest {
    public static final String SCHEMA = "fitedge.bundle";
    public static final int SCHEMA_VERSION = 1;
    public static final String FILE_NAME = "manifest.json";

    public String schema;
    public Integer schemaVersion;
    public String fitedgeVersion;
    public String created;
    public Model model;
    public Audio audio;
    public List<Output> outputs;
    public Integer timeReductionFactor;
    public Map<String, Thresholds> thresholds;
    public Golden golden;
    public List<Artifact> artifacts;
    /** Optional: how the artifacts' window is streamed (Live mode); absent in a bundle that is not streamed. */
    public Streaming streaming;
    /** Optional: a phoneme (CTC) head on the encoder; absent when the artifacts output features only. */
    public Head head;

    /** The encoder the artifacts were exported from. */
    public static final class Model {
        public String name;
        public String source;
        public Boolean trained;
        public JsonObject config;
        public String weightsSha256;
        public Long parameters;
    }

    /** What the model expects as input: a float32 waveform at {@code sampleRate}. */
    public static final class Audio {
        public int sampleRate;
        public Integer inputSamples;
        public boolean dynamic;
        public Integer minSamples;
        public Integer maxSamples;
        public String normalization;
        public String dtype;
        public String inputName;
        public long[] inputShape;
    }

    /** One named output tensor, in the order the runtimes return them. */
    public static final class Output {
        public String name;
        public long[] shape;
        public Integer layer;
        public Double frameHopMs;
    }

    /** Parity limits for one precision; a null limit is not checked. */
    public static final class Thresholds {
        public Double minCosine;
        public Double maxAbsDiff;
    }

    /** One golden tensor stored twice: {@code .npy} for Python and raw little-endian float32 {@code .bin}. */
    public static final class GoldenArray {
        public String npy;
        public String bin;
        public long[] shape;
        public String sha256;
    }

    /** The golden input waveform and the fp32 eager outputs it produced. */
    public static final class Golden {
        public GoldenArray input;
        public Map<String, GoldenArray> outputs;
    }

    /** Host-side parity of an artifact against fp32 eager, as measured at export time. */
    public static final class Parity {
        public Double cosine;
        public Double maxAbsDiff;
        public Double snrDb;
        public String against;
        public String audio;
    }

    /** One exported model file: runtime x precision. */
    public static final class Artifact {
        public String file;
        public String runtime;
        public String runtimeVersion;
        public String precision;
        public String recipe;
        public List<String> keepFloat;
        // "static" is a Java keyword; absent means a fixed-length input, as on the Python side.
        @SerializedName("static")
        public Boolean isStatic;
        public Long bytes;
        public String sha256;
        public Parity parity;
        public Double latencyMs;
        /** Set only for an artifact exported with {@code --integer-io}: its input is int8, not float32. */
        public InputQuantization inputQuantization;

        public boolean fixedLength() {
            return isStatic == null || isStatic;
        }

        /** A short label for pickers and logs, e.g. {@code executorch int8 (model_int8.pte)}. */
        public String label() {
            return runtime + " " + precision + " (" + file + ")";
        }
    }

    /** The streaming contract's numbers, in output frames and samples; see {@link StreamGeometry}. */
    public static final class Streaming {
        public Integer chunkFrames;
        public Integer leftFrames;
        public Integer rightFrames;
        public Integer frameHopSamples;
        public Integer receptiveFieldSamples;
        public Integer windowSamples;
        /** Optional (absent: false): windows that would start before the audio start at its first sample. */
        public Boolean shiftStart;
    }

    /** A CTC head: its vocabulary file in the bundle (blank first) and the output that holds its logits. */
    public static final class Head {
        public String tokens = "tokens.txt";
        public String output = "logits";
    }
}
