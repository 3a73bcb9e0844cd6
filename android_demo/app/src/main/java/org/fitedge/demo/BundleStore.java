package org.fitedge.demo;

import android.content.Context;
import android.content.res.AssetManager;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import org.fitedge.core.BundleException;
import org.fitedge.core.Manifest;
import org.fitedge.core.Sha256;

/**
 * The bundle packed in the APK ({@code assets/bundle}, written by {@code fitedge export --android}) copied to
 * {@code files/bundle}: the runtimes need real file paths (ExecuTorch mmaps the program). The copy is
 * refreshed when the APK carries a different manifest.
 */
final class BundleStore {
    static final String ASSET_DIR = "bundle";

    private BundleStore() {
    }

    /** The installed bundle folder; copies it out of the APK on first use or after an update. */
    static Path installed(Context context) throws BundleException {
        AssetManager assets = context.getAssets();
        Path target = context.getFilesDir().toPath().resolve(ASSET_DIR);
        try {
            if (!Arrays.asList(assets.list(ASSET_DIR)).contains(Manifest.FILE_NAME)) {
                throw new BundleException("this APK contains no bundle: run `fitedge export MODEL --android "
                        + "android_demo/app/src/main/assets/bundle`, then rebuild and reinstall the app");
            }
            byte[] packed = readAsset(assets, ASSET_DIR + "/" + Manifest.FILE_NAME);
            Path installedManifest = target.resolve(Manifest.FILE_NAME);
            if (Files.isRegularFile(installedManifest)
                    && Sha256.ofFile(installedManifest).equals(Sha256.ofBytes(packed))) {
                return target;
            }
            copyTree(assets, ASSET_DIR, target);
            return target;
        } catch (IOException e) {
            throw new BundleException("could not unpack the bundle to " + target + ": " + e.getMessage(), e);
        }
    }

    /** Copies an asset folder recursively; the manifest goes last so a partial copy never looks complete. */
    private static void copyTree(AssetManager assets, String from, Path to) throws IOException {
        Files.createDirectories(to);
        String[] names = assets.list(from);
        for (String name : names) {
            if (!name.equals(Manifest.FILE_NAME)) {
                copyEntry(assets, from + "/" + name, to.resolve(name));
            }
        }
        if (Arrays.asList(names).contains(Manifest.FILE_NAME)) {
            copyEntry(assets, from + "/" + Manifest.FILE_NAME, to.resolve(Manifest.FILE_NAME));
        }
    }

    private static void copyEntry(AssetManager assets, String asset, Path to) throws IOException {
        String[] children = assets.list(asset);
        if (children != null && children.length > 0) {
            copyTree(assets, asset, to);
            return;
        }
        try (InputStream in = assets.open(asset)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static byte[] readAsset(AssetManager assets, String name) throws IOException {
        try (InputStream in = assets.open(name)) {
            return readAll(in);
        }
    }

    /** All bytes of a stream (InputStream.readAllBytes needs API 33; the app supports 26). */
    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
