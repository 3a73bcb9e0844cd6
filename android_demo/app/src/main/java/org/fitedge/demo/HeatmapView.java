package org.fitedge.demo;

import android.content.Context;
import android.graphics.Bitmap;
import android.graphics.Canvas;
import android.graphics.Paint;
import android.graphics.Rect;
import android.util.AttributeSet;
import android.view.View;
import java.util.Arrays;
import org.fitedge.core.FloatTensor;

/**
 * The encoder output as a picture: time left to right, feature dimension bottom to top, colour from dark blue
 * (low) to yellow (high) after scaling to the tensor's own 1st..99th percentile range, so a few outliers do not
 * wash out the rest.
 */
public final class HeatmapView extends View {
    private final Paint paint = new Paint(Paint.FILTER_BITMAP_FLAG);
    private final Rect dest = new Rect();
    private Bitmap bitmap;

    public HeatmapView(Context context, AttributeSet attrs) {
        super(context, attrs);
    }

    /** Shows a {@code [1, frames, dims]} (or {@code [frames, dims]}) output; other ranks are ignored. */
    public void show(FloatTensor features) {
        long[] shape = features.shape();
        if (shape.length < 2) {
            return;
        }
        int frames = (int) shape[shape.length - 2];
        int dims = (int) shape[shape.length - 1];
        float[] sorted = features.data.clone();
        Arrays.sort(sorted);
        float lo = sorted[(int) (0.01 * (sorted.length - 1))];
        float hi = sorted[(int) (0.99 * (sorted.length - 1))];
        float range = hi > lo ? hi - lo : 1f;
        int[] pixels = new int[frames * dims];
        for (int t = 0; t < frames; t++) {
            for (int d = 0; d < dims; d++) {
                float v = (features.data[t * dims + d] - lo) / range;
                pixels[(dims - 1 - d) * frames + t] = colour(Math.max(0f, Math.min(1f, v)));
            }
        }
        bitmap = Bitmap.createBitmap(pixels, frames, dims, Bitmap.Config.ARGB_8888);
        invalidate();
    }

    /** A blue-green-yellow ramp, readable in light and dark themes. */
    private static int colour(float v) {
        int r = (int) (255 * Math.max(0f, 2f * v - 1f));
        int g = (int) (255 * Math.min(1f, 1.6f * v));
        int b = (int) (255 * Math.max(0f, 0.55f - 0.55f * v));
        return 0xFF000000 | (r << 16) | (g << 8) | b;
    }

    @Override
    protected void onDraw(Canvas canvas) {
        super.onDraw(canvas);
        if (bitmap != null) {
            dest.set(getPaddingLeft(), getPaddingTop(), getWidth() - getPaddingRight(),
                    getHeight() - getPaddingBottom());
            canvas.drawBitmap(bitmap, null, dest, paint);
        }
    }
}
