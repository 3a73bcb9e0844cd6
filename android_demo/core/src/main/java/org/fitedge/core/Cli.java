package org.fitedge.core;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Command line over the core, so the host can check a bundle exactly as the phone will and produce a
 * results file exactly as the phone does (the cross-language tests drive it).
 *
 * <pre>
 *   verify BUNDLE                      manifest + sha256 of every file + golden tensors (.bin vs .npy), JSON
 *   compare REF.(bin|npy) X.(bin|npy)  cosine, max abs diff, SNR of two float32 tensors, JSON
 *   bench-json BUNDLE ARTIFACT --timings MS,MS,.. --load-ms X --first-ms Y [--threads N] [--warmup W]
 *              [--seconds S] --out DIR     results.json + DONE from given timings (contract 3)
 * </pre>
 * Exit status 0 on success, 1 for a bundle problem (one line on stderr), 2 for a usage error.
 */
public final class Cli {
    public static final String APP_VERSION = "0.1.0";
    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .serializeSpecialFloatingPointValues()  // SNR of identical tensors is Infinity; Python's json reads it
            .create();

    private Cli() {
    }

    public static void main(String[] args) {
        try {
            System.out.println(run(args));
        } catch (UsageException e) {
            System.err.println("usage: " + e.getMessage());
            System.exit(2);
        } catch (BundleException | IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Runs one command and returns what it prints. */
    static String run(String[] args) throws UsageException, BundleException, IOException {
        if (args.length < 1) {
            throw new UsageException("verify BUNDLE | compare REF X | quantize-input BUNDLE ARTIFACT"
                    + " | bench-json BUNDLE ARTIFACT --timings ... --out DIR");
        }
        switch (args[0]) {
            case "verify":
                need(args, 2, "verify BUNDLE");
                return GSON.toJson(verify(Paths.get(args[1])));
            case "compare":
                need(args, 3, "compare REF.(bin|npy) X.(bin|npy)");
                return GSON.toJson(compare(readAny(Paths.get(args[1])), readAny(Paths.get(args[2]))));
            case "quantize-input":
                need(args, 3, "quantize-input BUNDLE ARTIFACT");
                return quantizeInput(Paths.get(args[1]), args[2]);
            case "bench-json":
                need(args, 3, "bench-json BUNDLE ARTIFACT --timings MS,.. --load-ms X --first-ms Y --out DIR");
                return benchJson(Paths.get(args[1]), args[2], options(args, 3)).toString();
            default:
                throw new UsageException("unknown command " + args[0]);
        }
    }

    /** The golden input as ARTIFACT's integer input (what the app feeds an {@code --integer-io} model). */
    private static String quantizeInput(Path dir, String file) throws BundleException {
        Manifest m = ManifestReader.read(dir);
        Manifest.Artifact artifact = m.artifacts.stream().filter(a -> a.file.equals(file)).findFirst()
                .orElseThrow(() -> new BundleException(file + ": not an artifact of " + dir));
        if (artifact.inputQuantization == null) {
            throw new BundleException(file + " takes float32 audio; it has no input_quantization");
        }
        byte[] q = artifact.inputQuantization.quantize(Float32Files.readBin(dir.resolve(m.golden.input.bin),
                m.golden.input.shape).data);
        JsonArray values = new JsonArray();
        boolean unsigned = "uint8".equals(artifact.inputQuantization.dtype);
        for (byte b : q) {
            values.add(unsigned ? b & 0xFF : b);
        }
        return values.toString();
    }

    private static JsonObject verify(Path dir) throws BundleException {
        Manifest m = ManifestReader.read(dir);
        List<BundleVerifier.FileCheck> checks = BundleVerifier.verify(dir, m);
        JsonObject out = new JsonObject();
        out.addProperty("ok", true);
        out.addProperty("model", m.model == null ? null : m.model.name);
        out.add("files", GSON.toJsonTree(checks));
        JsonArray artifacts = new JsonArray();
        m.artifacts.forEach(a -> artifacts.add(a.label()));
        out.add("artifacts", artifacts);
        out.add("input", goldenSummary(dir, m.golden.input));
        JsonObject outputs = new JsonObject();
        for (Manifest.Output o : m.outputs) {
            outputs.add(o.name, goldenSummary(dir, m.golden.outputs.get(o.name)));
        }
        out.add("outputs", outputs);
        return out;
    }

    /** Statistics of a golden tensor read from its .bin, and how its .npy twin compares to it. */
    private static JsonObject goldenSummary(Path dir, Manifest.GoldenArray g) throws BundleException {
        FloatTensor bin = Float32Files.readBin(dir.resolve(g.bin), g.shape);
        JsonObject s = GSON.toJsonTree(Stats.of(bin.data)).getAsJsonObject();
        s.add("shape", GSON.toJsonTree(bin.shape()));
        if (g.npy != null) {
            FloatTensor npy = Float32Files.readNpy(dir.resolve(g.npy));
            s.add("npy_shape", GSON.toJsonTree(npy.shape()));
            s.add("npy_vs_bin", compare(bin, npy));
        }
        return s;
    }

    private static JsonObject compare(FloatTensor ref, FloatTensor x) throws BundleException {
        if (ref.data.length != x.data.length) {
            throw new BundleException("cannot compare shape " + ref.shapeText() + " with " + x.shapeText());
        }
        return GSON.toJsonTree(Parity.compare(ref.data, x.data)).getAsJsonObject();
    }

    private static FloatTensor readAny(Path path) throws BundleException {
        if (path.toString().endsWith(".npy")) {
            return Float32Files.readNpy(path);
        }
        // A .bin carries no shape; compare treats it as flat.
        try {
            long n = Files.size(path) / Float.BYTES;
            return Float32Files.readBin(path, new long[] {n});
        } catch (IOException e) {
            throw new BundleException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static Path benchJson(Path dir, String artifact, Map<String, String> opt)
            throws UsageException, BundleException, IOException {
        Manifest m = ManifestReader.read(dir);
        Manifest.Artifact a = ManifestReader.artifact(m, artifact);
        String[] parts = required(opt, "timings").split(",");
        double[] timings = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            timings[i] = number(parts[i], "timings");
        }
        double seconds = number(opt.getOrDefault("seconds", "0"), "seconds");
        int samples = InputShaper.targetLength(m, a, (int) Math.round(seconds * m.audio.sampleRate));
        BenchResults results = BenchResults.forBundle(dir, m, hostDevice(), APP_VERSION);
        results.runs.add(BenchResults.measuredRun(m, a, samples, (int) number(opt.getOrDefault("threads", "1"),
                "threads"), (int) number(opt.getOrDefault("warmup", "0"), "warmup"),
                number(required(opt, "load-ms"), "load-ms"), number(required(opt, "first-ms"), "first-ms"),
                timings, MemoryProbe.peakRssKb()));
        return ResultsWriter.write(Paths.get(required(opt, "out")), results);
    }

    /** The host as a "device": the Java properties stand in for android.os.Build. */
    private static BenchResults.Device hostDevice() {
        BenchResults.Device d = new BenchResults.Device();
        d.model = System.getProperty("os.name") + " host";
        d.abi = System.getProperty("os.arch");
        d.cores = Runtime.getRuntime().availableProcessors();
        return d;
    }

    private static Map<String, String> options(String[] args, int from) throws UsageException {
        Map<String, String> opt = new HashMap<>();
        for (int i = from; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new UsageException("expected --name value, got " + args[i]);
            }
            opt.put(args[i].substring(2), args[i + 1]);
        }
        return opt;
    }

    private static String required(Map<String, String> opt, String name) throws UsageException {
        String v = opt.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    private static double number(String text, String name) throws UsageException {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got " + text);
        }
    }

    private static void need(String[] args, int n, String usage) throws UsageException {
        if (args.length < n) {
            throw new UsageException(usage);
        }
    }

    /** Wrong arguments; exit status 2. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }
}
