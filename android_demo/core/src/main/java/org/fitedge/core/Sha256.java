package org.fitedge.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 of files and byte arrays as lower-case hex, the form the manifest stores. */
public final class Sha256 {
    private static final int CHUNK = 1 << 20;

    private Sha256() {
    }

    /** Hash of a file, streamed in 1 MiB chunks so that large artifacts never sit in memory twice. */
    public static String ofFile(Path path) throws IOException {
        MessageDigest md = newDigest();
        byte[] buf = new byte[CHUNK];
        try (InputStream in = Files.newInputStream(path)) {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
        }
        return hex(md.digest());
    }

    public static String ofBytes(byte[] data) {
        return hex(newDigest().digest(data));
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            // Every Java and Android runtime must provide SHA-256 (java.security.MessageDigest spec).
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] digest) {
        StringBuilder sb = new StringBuilder(digest.length * 2);
        for (byte b : digest) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
    }
}
