package org.fitedge.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Peak resident memory of this process from the Linux kernel ({@code VmHWM} in {@code /proc/self/status}),
 * which Android and desktop Linux both provide; it includes native runtime allocations that the Java heap
 * statistics miss.
 */
public final class MemoryProbe {
    private static final Path STATUS = Paths.get("/proc/self/status");

    private MemoryProbe() {
    }

    /** Peak resident set size in KiB, or null where the platform does not report it. */
    public static Long peakRssKb() {
        try {
            return parseVmHwmKb(new String(Files.readAllBytes(STATUS), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return null;
        }
    }

    /** The {@code VmHWM:} value of a {@code /proc/<pid>/status} text, or null if absent. */
    static Long parseVmHwmKb(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        return null;
    }
}
