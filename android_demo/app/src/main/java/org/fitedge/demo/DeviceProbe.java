package org.fitedge.demo;

import android.content.Context;
import android.os.Build;
import android.os.PowerManager;
import org.fitedge.core.BenchResults;

/** What the results file says about the phone (contract 3 "device"), from android.os.Build and PowerManager. */
final class DeviceProbe {
    private DeviceProbe() {
    }

    static BenchResults.Device describe(Context context) {
        BenchResults.Device d = new BenchResults.Device();
        d.manufacturer = Build.MANUFACTURER;
        d.model = Build.MODEL;
        d.soc = Build.VERSION.SDK_INT >= Build.VERSION_CODES.S ? Build.SOC_MODEL : Build.HARDWARE;
        d.androidVersion = Build.VERSION.RELEASE;
        d.sdkInt = Build.VERSION.SDK_INT;
        d.abi = Build.SUPPORTED_ABIS[0];
        d.cores = Runtime.getRuntime().availableProcessors();
        d.thermalStatus = thermalStatus(context);
        return d;
    }

    /** PowerManager's thermal status as a word (API 29+); throttled phones give slower, noisier timings. */
    static String thermalStatus(Context context) {
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.Q) {
            return null;
        }
        PowerManager pm = context.getSystemService(PowerManager.class);
        switch (pm.getCurrentThermalStatus()) {
            case PowerManager.THERMAL_STATUS_NONE:
                return "none";
            case PowerManager.THERMAL_STATUS_LIGHT:
                return "light";
            case PowerManager.THERMAL_STATUS_MODERATE:
                return "moderate";
            case PowerManager.THERMAL_STATUS_SEVERE:
                return "severe";
            case PowerManager.THERMAL_STATUS_CRITICAL:
                return "critical";
            case PowerManager.THERMAL_STATUS_EMERGENCY:
                return "emergency";
            case PowerManager.THERMAL_STATUS_SHUTDOWN:
                return "shutdown";
            default:
                return "unknown";
        }
    }
}
