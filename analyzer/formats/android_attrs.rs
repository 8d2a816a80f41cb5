//! Framework attribute resource IDs (`android.R.attr`, package 0x01) and their
//! canonical names, as Android itself resolves manifest attributes.
//!
//! Android reads a compiled manifest attribute by the resource ID the XML's
//! resource map gives it, never by the name in the string pool. Obfuscators
//! and malware exploit that: they blank or rename pool names (so aapt,
//! apktool and naive parsers see garbage) while the IDs keep the app working.
//! Decoding by ID restores the name Android uses.
//!
//! IDs come from the platform's `core/res/res/values/public.xml` (API 1 to
//! O MR1 with explicit IDs) and the finalized public-final list for P to T.
//! The table covers every attribute the manifest schema uses plus a few common
//! ones; unknown framework IDs fall back to the pool name.

/// `(resource ID, name)` sorted by ID so lookups are a binary search.
const FRAMEWORK_ATTRS: &[(u32, &str)] = &[
    (0x0101_0000, "theme"),
    (0x0101_0001, "label"),
    (0x0101_0002, "icon"),
    (0x0101_0003, "name"),
    (0x0101_0004, "manageSpaceActivity"),
    (0x0101_0005, "allowClearUserData"),
    (0x0101_0006, "permission"),
    (0x0101_0007, "readPermission"),
    (0x0101_0008, "writePermission"),
    (0x0101_0009, "protectionLevel"),
    (0x0101_000a, "permissionGroup"),
    (0x0101_000b, "sharedUserId"),
    (0x0101_000c, "hasCode"),
    (0x0101_000d, "persistent"),
    (0x0101_000e, "enabled"),
    (0x0101_000f, "debuggable"),
    (0x0101_0010, "exported"),
    (0x0101_0011, "process"),
    (0x0101_0012, "taskAffinity"),
    (0x0101_0013, "multiprocess"),
    (0x0101_0014, "finishOnTaskLaunch"),
    (0x0101_0015, "clearTaskOnLaunch"),
    (0x0101_0016, "stateNotNeeded"),
    (0x0101_0017, "excludeFromRecents"),
    (0x0101_0018, "authorities"),
    (0x0101_0019, "syncable"),
    (0x0101_001a, "initOrder"),
    (0x0101_001b, "grantUriPermissions"),
    (0x0101_001c, "priority"),
    (0x0101_001d, "launchMode"),
    (0x0101_001e, "screenOrientation"),
    (0x0101_001f, "configChanges"),
    (0x0101_0020, "description"),
    (0x0101_0021, "targetPackage"),
    (0x0101_0022, "handleProfiling"),
    (0x0101_0023, "functionalTest"),
    (0x0101_0024, "value"),
    (0x0101_0025, "resource"),
    (0x0101_0026, "mimeType"),
    (0x0101_0027, "scheme"),
    (0x0101_0028, "host"),
    (0x0101_0029, "port"),
    (0x0101_002a, "path"),
    (0x0101_002b, "pathPrefix"),
    (0x0101_002c, "pathPattern"),
    (0x0101_002d, "action"),
    (0x0101_002e, "data"),
    (0x0101_002f, "targetClass"),
    (0x0101_00d0, "id"),
    (0x0101_01e1, "title"),
    (0x0101_0202, "targetActivity"),
    (0x0101_0203, "alwaysRetainTaskState"),
    (0x0101_0204, "allowTaskReparenting"),
    (0x0101_020c, "minSdkVersion"),
    (0x0101_0211, "apiKey"),
    (0x0101_021b, "versionCode"),
    (0x0101_021c, "versionName"),
    (0x0101_0225, "settingsActivity"),
    (0x0101_0227, "reqTouchScreen"),
    (0x0101_0228, "reqKeyboardType"),
    (0x0101_0229, "reqHardKeyboard"),
    (0x0101_022a, "reqNavigation"),
    (0x0101_022b, "windowSoftInputMode"),
    (0x0101_022d, "noHistory"),
    (0x0101_0232, "reqFiveWayNav"),
    (0x0101_0261, "sharedUserLabel"),
    (0x0101_026c, "anyDensity"),
    (0x0101_0270, "targetSdkVersion"),
    (0x0101_0271, "maxSdkVersion"),
    (0x0101_0272, "testOnly"),
    (0x0101_027f, "backupAgent"),
    (0x0101_0280, "allowBackup"),
    (0x0101_0281, "glEsVersion"),
    (0x0101_0284, "smallScreens"),
    (0x0101_0285, "normalScreens"),
    (0x0101_0286, "largeScreens"),
    (0x0101_028d, "resizeable"),
    (0x0101_028e, "required"),
    (0x0101_028f, "accountType"),
    (0x0101_0290, "contentAuthority"),
    (0x0101_0291, "userVisible"),
    (0x0101_029c, "killAfterRestore"),
    (0x0101_029d, "restoreNeedsApplication"),
    (0x0101_029e, "smallIcon"),
    (0x0101_02a7, "finishOnCloseSystemDialogs"),
    (0x0101_02b7, "installLocation"),
    (0x0101_02b8, "vmSafeMode"),
    (0x0101_02ba, "restoreAnyVersion"),
    (0x0101_02be, "logo"),
    (0x0101_02bf, "xlargeScreens"),
    (0x0101_02c0, "immersive"),
    (0x0101_02ca, "screenSize"),
    (0x0101_02cb, "screenDensity"),
    (0x0101_02d3, "hardwareAccelerated"),
    (0x0101_0332, "allowParallelSyncs"),
    (0x0101_0333, "isAlwaysSyncable"),
    (0x0101_035a, "largeHeap"),
    (0x0101_0364, "requiresSmallestWidthDp"),
    (0x0101_0365, "compatibleWidthLimitDp"),
    (0x0101_0366, "largestWidthLimitDp"),
    (0x0101_036a, "stopWithTask"),
    (0x0101_0398, "uiOptions"),
    (0x0101_03a6, "publicKey"),
    (0x0101_03a7, "parentActivityName"),
    (0x0101_03a9, "isolatedProcess"),
    (0x0101_03af, "supportsRtl"),
    (0x0101_03bf, "singleUser"),
    (0x0101_03c5, "permissionGroupFlags"),
    (0x0101_03c7, "permissionFlags"),
    (0x0101_03c9, "showOnLockScreen"),
    (0x0101_03d0, "requiredForAllUsers"),
    (0x0101_03d5, "restrictedAccountType"),
    (0x0101_03d6, "requiredAccountType"),
    (0x0101_03db, "keySet"),
    (0x0101_03e3, "ssp"),
    (0x0101_03e4, "sspPrefix"),
    (0x0101_03e5, "sspPattern"),
    (0x0101_03e8, "category"),
    (0x0101_03f2, "banner"),
    (0x0101_03f4, "isGame"),
    (0x0101_042d, "persistableMode"),
    (0x0101_0445, "documentLaunchMode"),
    (0x0101_0446, "maxRecents"),
    (0x0101_0447, "autoRemoveFromRecents"),
    (0x0101_0473, "fullBackupOnly"),
    (0x0101_0476, "relinquishTaskIdentity"),
    (0x0101_048e, "multiArch"),
    (0x0101_04b2, "resumeWhilePausing"),
    (0x0101_04d5, "revisionCode"),
    (0x0101_04ea, "extractNativeLibs"),
    (0x0101_04eb, "fullBackupContent"),
    (0x0101_04ec, "usesCleartextTraffic"),
    (0x0101_04ed, "lockTaskMode"),
    (0x0101_04ee, "autoVerify"),
    (0x0101_04ef, "showForAllUsers"),
    (0x0101_04f6, "resizeableActivity"),
    (0x0101_04f7, "supportsPictureInPicture"),
    (0x0101_0504, "defaultToDeviceProtectedStorage"),
    (0x0101_0505, "directBootAware"),
    (0x0101_0515, "use32bitAbi"),
    (0x0101_0519, "version"),
    (0x0101_051a, "backupInForeground"),
    (0x0101_0525, "enableVrMode"),
    (0x0101_0526, "hash"),
    (0x0101_0527, "networkSecurityConfig"),
    (0x0101_052c, "roundIcon"),
    (0x0101_0531, "visibleToInstantApps"),
    (0x0101_0545, "appCategory"),
    (0x0101_0547, "recreateOnConfigChanges"),
    (0x0101_0548, "certDigest"),
    (0x0101_0549, "splitName"),
    (0x0101_054b, "isolatedSplits"),
    (0x0101_054c, "targetSandboxVersion"),
    (0x0101_0554, "requiredFeature"),
    (0x0101_0555, "requiredNotFeature"),
    (0x0101_055a, "isStatic"),
    (0x0101_055b, "isFeatureSplit"),
    (0x0101_0560, "maxAspectRatio"),
    (0x0101_0563, "persistentWhenFeatureAvailable"),
    (0x0101_0569, "showWhenLocked"),
    (0x0101_056a, "turnScreenOn"),
    (0x0101_056b, "classLoader"),
    (0x0101_056e, "cantSaveState"),
    (0x0101_0572, "compileSdkVersion"),
    (0x0101_0573, "compileSdkVersionCodename"),
    (0x0101_0576, "versionCodeMajor"),
    (0x0101_0577, "versionMajor"),
    (0x0101_0578, "isVrOnly"),
    (0x0101_057a, "appComponentFactory"),
    (0x0101_0583, "maxLongVersionCode"),
    (0x0101_0587, "packageType"),
    (0x0101_058e, "usesNonSdkApi"),
    (0x0101_0591, "isSplitRequired"),
    (0x0101_0597, "useAppZygote"),
    (0x0101_0599, "foregroundServiceType"),
    (0x0101_059a, "hasFragileUserData"),
    (0x0101_059b, "minAspectRatio"),
    (0x0101_059c, "inheritShowWhenLocked"),
    (0x0101_059d, "zygotePreloadName"),
    (0x0101_059e, "useEmbeddedDex"),
    (0x0101_059f, "forceUriPermissions"),
    (0x0101_0600, "allowClearUserDataOnFailedRestore"),
    (0x0101_0601, "allowAudioPlaybackCapture"),
    (0x0101_0602, "secureElementName"),
    (0x0101_0603, "requestLegacyExternalStorage"),
    (0x0101_0608, "forceQueryable"),
    (0x0101_060e, "crossProfile"),
    (0x0101_0610, "sdkVersion"),
    (0x0101_0611, "minExtensionVersion"),
    (0x0101_0612, "allowNativeHeapPointerTagging"),
    (0x0101_0613, "autoRevokePermissions"),
    (0x0101_0614, "preserveLegacyExternalStorage"),
    (0x0101_0615, "mimeGroup"),
    (0x0101_0616, "gwpAsanMode"),
    (0x0101_0617, "rollbackDataPolicy"),
    (0x0101_061e, "pathSuffix"),
    (0x0101_061f, "sspSuffix"),
    (0x0101_0620, "pathAdvancedPattern"),
    (0x0101_0621, "sspAdvancedPattern"),
    (0x0101_0624, "memtagMode"),
    (0x0101_0625, "nativeHeapZeroInitialized"),
    (0x0101_062a, "knownCerts"),
    (0x0101_063e, "dataExtractionRules"),
    (0x0101_0642, "attributionTags"),
    (0x0101_0644, "usesPermissionFlags"),
    (0x0101_0645, "requestRawExternalStorageAccess"),
    (0x0101_064b, "attributionsAreUserVisible"),
    (0x0101_064d, "sharedUserMaxSdkVersion"),
    (0x0101_064e, "requiredSplitTypes"),
    (0x0101_064f, "splitTypes"),
    (0x0101_065b, "localeConfig"),
];

/// Canonical name of a framework attribute, if the table knows its ID.
pub fn name_for_id(id: u32) -> Option<&'static str> {
    FRAMEWORK_ATTRS.binary_search_by_key(&id, |&(k, _)| k).ok().map(|i| FRAMEWORK_ATTRS[i].1)
}

/// Resource ID of a framework attribute by canonical name (linear: callers
/// use it for a handful of lookups, not per attribute).
pub fn id_for_name(name: &str) -> Option<u32> {
    FRAMEWORK_ATTRS.iter().find(|&&(_, n)| n == name).map(|&(id, _)| id)
}

/// True for IDs in the framework package (`0x01xxxxxx`).
pub fn is_framework_id(id: u32) -> bool {
    id >> 24 == 0x01
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_so_binary_search_works() {
        for w in FRAMEWORK_ATTRS.windows(2) {
            assert!(w[0].0 < w[1].0, "{:#x} !< {:#x}", w[0].0, w[1].0);
        }
        let mut names: Vec<_> = FRAMEWORK_ATTRS.iter().map(|e| e.1).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FRAMEWORK_ATTRS.len());
    }

    #[test]
    fn well_known_manifest_ids() {
        assert_eq!(name_for_id(0x0101_0003), Some("name"));
        assert_eq!(name_for_id(0x0101_021b), Some("versionCode"));
        assert_eq!(name_for_id(0x0101_021c), Some("versionName"));
        assert_eq!(name_for_id(0x0101_020c), Some("minSdkVersion"));
        assert_eq!(name_for_id(0x0101_0270), Some("targetSdkVersion"));
        assert_eq!(name_for_id(0x0101_04ec), Some("usesCleartextTraffic"));
        assert_eq!(name_for_id(0x0101_0527), Some("networkSecurityConfig"));
        assert_eq!(name_for_id(0x7f01_0000), None);
        assert_eq!(id_for_name("exported"), Some(0x0101_0010));
    }
}
