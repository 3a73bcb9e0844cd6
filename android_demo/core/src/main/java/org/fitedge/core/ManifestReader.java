package org.fitedge.core;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads {@code manifest.json} and checks the fields the app depends on, so that a broken or foreign
 * bundle fails here with one clear message instead of deep inside a runtime.
 */
public final class ManifestReader {
    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .create();

    private ManifestReader() {
    }

    /** The manifest of the bundle folder {@code dir}. */
    public static Manifest read(Path dir) throws BundleException {
        Path path = dir.resolve(Manifest.FILE_NAME);
        String json;
        try {
            json = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BundleException(dir + ": not a fitedge bundle (no " + Manifest.FILE_NAME
                    + "); export one with `fitedge export MODEL --android DIR`");
        } catch (IOException e) {
            throw new BundleException(path + ": unreadable manifest (" + e.getMessage() + ")", e);
        }
        return parse(json, path.toString());
    }

    /** Parses and validates manifest text; {@code where} names the source in error messages. */
    public static Manifest parse(String json, String where) throws BundleException {
        Manifest m;
        try {
            m = GSON.fromJson(json, Manifest.class);
        } catch (JsonParseException e) {
            throw new BundleException(where + ": manifest is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (m == null || !Manifest.SCHEMA.equals(m.schema)) {
            throw new BundleException(where + ": not a " + Manifest.SCHEMA + " manifest");
        }
        if (m.schemaVersion == null || m.schemaVersion != Manifest.SCHEMA_VERSION) {
            throw new BundleException(where + ": schema_version " + m.schemaVersion + " is not supported (expected "
                    + Manifest.SCHEMA_VERSION + "); use an app built for this fitedge version");
        }
        require(m.audio != null && m.audio.sampleRate > 0, where, "audio.sample_rate");
        require(m.audio.inputSamples != null && m.audio.inputSamples > 0, where, "audio.input_samples");
        require(m.outputs != null && !m.outputs.isEmpty(), where, "outputs");
        require(m.golden != null && m.golden.input != null && m.golden.outputs != null, where, "golden");
        require(m.artifacts != null && !m.artifacts.isEmpty(), where, "artifacts");
        for (Manifest.Artifact a : m.artifacts) {
            require(a.file != null && a.runtime != null && a.precision != null && a.sha256 != null, where,
                    "artifacts[].file/runtime/precision/sha256");
        }
        for (Manifest.Output o : m.outputs) {
            require(m.golden.outputs.containsKey(o.name), where, "golden.outputs." + o.name);
        }
        if (!m.audio.dynamic) {
            for (Manifest.Artifact a : m.artifacts) {
                require(a.fixedLength(), where, "audio.min_samples/max_samples for dynamic artifact " + a.file);
            }
        } else {
            require(m.audio.minSamples != null && m.audio.maxSamples != null
                    && m.audio.minSamples <= m.audio.maxSamples, where, "audio.min_samples <= audio.max_samples");
        }
        return m;
    }

    /** The entry for {@code file}, or an error that lists what the bundle does contain. */
    public static Manifest.Artifact artifact(Manifest m, String file) throws BundleException {
        StringBuilder known = new StringBuilder();
        for (Manifest.Artifact a : m.artifacts) {
            if (a.file.equals(file)) {
                return a;
            }
            known.append(known.length() == 0 ? "" : ", ").append(a.file);
        }
        throw new BundleException("artifact " + file + " is not in the bundle (it has: " + known + ")");
    }

    /** The parity limits for the artifact's precision ({@code fp32}, {@code int8}, ...). */
    public static Manifest.Thresholds thresholds(Manifest m, Manifest.Artifact a) throws BundleException {
        Manifest.Thresholds t = m.thresholds == null ? null : m.thresholds.get(a.precision);
        if (t == null) {
            throw new BundleException("manifest has no thresholds for precision '" + a.precision + "'");
        }
        return t;
    }

    private static void require(boolean ok, String where, String field) throws BundleException {
        if (!ok) {
            throw new BundleException(where + ": manifest field " + field + " is missing or invalid");
        }
    }
}
