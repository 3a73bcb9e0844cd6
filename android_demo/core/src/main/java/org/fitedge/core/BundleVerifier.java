package org.fitedge.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks that every file the manifest lists is present and has the SHA-256 (and, for artifacts, the size)
 * it records, so that a half-copied or stale bundle is caught before any model runs on it.
 */
public final class BundleVerifier {
    private BundleVerifier() {
    }

    /** One checked file. {@code expectedSha256} is null for files the manifest lists without a hash. */
    public static final class FileCheck {
        public final String file;
        public final String expectedSha256;
        public final String actualSha256;
        public final long bytes;

        FileCheck(String file, String expectedSha256, String actualSha256, long bytes) {
            this.file = file;
            this.expectedSha256 = expectedSha256;
            this.actualSha256 = actualSha256;
            this.bytes = bytes;
        }
    }

    /**
     * Verifies all listed files; returns what was checked, or throws one error naming every bad file.
     * Golden hashes are over the raw {@code .bin} payload, the file the phone reads; the {@code .npy}
     * twin only has to exist.
     */
    public static List<FileCheck> verify(Path dir, Manifest m) throws BundleException {
        List<FileCheck> checks = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Manifest.Artifact a : m.artifacts) {
            FileCheck c = check(dir, a.file, a.sha256, problems);
            if (c != null && a.bytes != null && c.bytes != a.bytes) {
                problems.add(a.file + ": " + c.bytes + " bytes, manifest says " + a.bytes);
            }
            addIfPresent(checks, c);
        }
        addIfPresent(checks, check(dir, m.golden.input.bin, m.golden.input.sha256, problems));
        addIfPresent(checks, check(dir, m.golden.input.npy, null, problems));
        for (Map.Entry<String, Manifest.GoldenArray> e : m.golden.outputs.entrySet()) {
            addIfPresent(checks, check(dir, e.getValue().bin, e.getValue().sha256, problems));
            addIfPresent(checks, check(dir, e.getValue().npy, null, problems));
        }
        if (!problems.isEmpty()) {
            throw new BundleException("bundle " + dir + " does not match its manifest: " + String.join("; ", problems)
                    + " (re-export it, or copy the whole folder again)");
        }
        return checks;
    }

    private static FileCheck check(Path dir, String file, String expected, List<String> problems) {
        if (file == null) {
            return null;
        }
        Path path = dir.resolve(file);
        if (!Files.isRegularFile(path)) {
            problems.add(file + ": missing");
            return null;
        }
        try {
            String actual = Sha256.ofFile(path);
            if (expected != null && !expected.equalsIgnoreCase(actual)) {
                problems.add(file + ": sha256 " + actual.substring(0, 12) + "..., manifest says "
                        + expected.substring(0, Math.min(12, expected.length())) + "...");
            }
            return new FileCheck(file, expected, actual, Files.size(path));
        } catch (IOException e) {
            problems.add(file + ": unreadable (" + e.getMessage() + ")");
            return null;
        }
    }

    private static void addIfPresent(List<FileCheck> checks, FileCheck c) {
        if (c != null) {
            checks.add(c);
        }
    }
}
