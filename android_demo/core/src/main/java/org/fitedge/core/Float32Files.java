package org.fitedge.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the bundle's golden tensors: raw little-endian float32 {@code .bin} files (shape from the manifest)
 * and their NumPy {@code .npy} twins (version 1/2 header, {@code <f4}, C order), so the two can be compared.
 */
public final class Float32Files {
    private static final byte[] NPY_MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Float32Files() {
    }

    /** A raw {@code .bin} file that must hold exactly {@code shape} float32 values. */
    public static FloatTensor readBin(Path path, long[] shape) throws BundleException {
        byte[] bytes = readAll(path);
        long expected = FloatTensor.numel(shape) * Float.BYTES;
        if (bytes.length != expected) {
            throw new BundleException(path + ": " + bytes.length + " bytes, a float32 tensor of shape "
                    + Arrays.toString(shape) + " needs " + expected);
        }
        return new FloatTensor(decodeLittleEndian(bytes, 0), shape);
    }

    /** A NumPy {@code .npy} file of little-endian float32 in C order. */
    public static FloatTensor readNpy(Path path) throws BundleException {
        byte[] bytes = readAll(path);
        ByteBuffer head = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || !Arrays.equals(Arrays.copyOf(bytes, NPY_MAGIC.length), NPY_MAGIC)) {
            throw new BundleException(path + ": not a .npy file");
        }
        int major = bytes[6];
        int headerLen = major == 1 ? Short.toUnsignedInt(head.getShort(8)) : head.getInt(8);
        int dataStart = (major == 1 ? 10 : 12) + headerLen;
        if (dataStart > bytes.length) {
            throw new BundleException(path + ": truncated .npy header");
        }
        String header = new String(bytes, major == 1 ? 10 : 12, headerLen, StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, path);
        if (!descr.equals("<f4") || group(FORTRAN, header, path).equals("True")) {
            throw new BundleException(path + ": expected little-endian float32 in C order, got " + descr);
        }
        long[] shape = parseShape(group(SHAPE, header, path));
        long expected = FloatTensor.numel(shape) * Float.BYTES;
        if (bytes.length - dataStart != expected) {
            throw new BundleException(path + ": data is " + (bytes.length - dataStart) + " bytes, shape needs "
                    + expected);
        }
        return new FloatTensor(decodeLittleEndian(bytes, dataStart), shape);
    }

    /** float32 values from little-endian bytes starting at {@code offset}. */
    public static float[] decodeLittleEndian(byte[] bytes, int offset) {
        float[] out = new float[(bytes.length - offset) / Float.BYTES];
        ByteBuffer.wrap(bytes, offset, out.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer().get(out);
        return out;
    }

    private static long[] parseShape(String text) {
        List<Long> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            if (!part.trim().isEmpty()) {
                dims.add(Long.parseLong(part.trim()));
            }
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i);
        }
        return shape;
    }

    private static String group(Pattern p, String header, Path path) throws BundleException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new BundleException(path + ": .npy header lacks " + p.pattern());
        }
        return m.group(1);
    }

    private static byte[] readAll(Path path) throws BundleException {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new BundleException(path + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
