//! Privacy manifests (`PrivacyInfo.xcprivacy`): what the app and each SDK
//! *declare* about tracking, collected data and required-reason APIs, kept
//! to be held against what the code shows. Apple requires a manifest from
//! the SDKs on its list of commonly used SDKs; a missing one is noted.

use plist::{Dictionary, Value};

use crate::formats::property_list::{string_of, strings_of};
use crate::report::{AccessedApi, CollectedDataType, PrivacyManifest};

/// Apple's "commonly used third-party SDKs" that must ship a privacy
/// manifest (developer.apple.com/support/third-party-SDK-requirements, as
/// compiled in ../shared/sigdata/ios/), by framework name.
pub const APPLE_LISTED_SDKS: &[&str] = &[
    "Abseil",
    "AFNetworking",
    "Alamofire",
    "AppAuth",
    "openssl_grpc",
    "Capacitor",
    "Charts",
    "connectivity_plus",
    "Cordova",
    "device_info_plus",
    "DKImagePickerController",
    "DKPhotoGallery",
    "FBAEMKit",
    "FBLPromises",
    "FBSDKCoreKit",
    "FBSDKCoreKit_Basics",
    "FBSDKLoginKit",
    "FBSDKShareKit",
    "file_picker",
    "FirebaseABTesting",
    "FirebaseAuth",
    "FirebaseCore",
    "FirebaseCoreDiagnostics",
    "FirebaseCoreExtension",
    "FirebaseCoreInternal",
    "FirebaseCrashlytics",
    "FirebaseDynamicLinks",
    "FirebaseFirestore",
    "FirebaseInstallations",
    "FirebaseMessaging",
    "FirebaseRemoteConfig",
    "Flutter",
    "flutter_inappwebview",
    "flutter_local_notifications",
    "fluttertoast",
    "FMDB",
    "geolocator_apple",
    "GoogleDataTransport",
    "GoogleSignIn",
    "GoogleToolboxForMac",
    "GoogleUtilities",
    "grpcpp",
    "GTMAppAuth",
    "GTMSessionFetcher",
    "hermes",
    "image_picker_ios",
    "IQKeyboardManager",
    "IQKeyboardManagerSwift",
    "Kingfisher",
    "leveldb",
    "Lottie",
    "MBProgressHUD",
    "nanopb",
    "OneSignal",
    "OneSignalCore",
    "OneSignalExtension",
    "OneSignalOutcomes",
    "OpenSSL",
    "OrderedSet",
    "package_info",
    "package_info_plus",
    "path_provider",
    "path_provider_ios",
    "Promises",
    "Protobuf",
    "Reachability",
    "RealmSwift",
    "RxCocoa",
    "RxRelay",
    "RxSwift",
    "SDWebImage",
    "share_plus",
    "shared_preferences_ios",
    "SnapKit",
    "sqflite",
    "Starscream",
    "SVProgressHUD",
    "SwiftyGif",
    "SwiftyJSON",
    "Toast",
    "UnityFramework",
    "url_launcher",
    "url_launcher_ios",
    "video_player_avfoundation",
    "wakelock",
    "webview_flutter_wkwebview",
];

/// Whether a framework directory name (`Alamofire.framework`) is on Apple's list.
pub fn listed_sdk(framework_dir: &str) -> Option<&'static str> {
    let base = framework_dir.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let stem = base.strip_suffix(".framework").unwrap_or(base);
    APPLE_LISTED_SDKS.iter().copied().find(|name| *name == stem)
}

/// Reads one manifest's declarations.
pub fn read(dict: &Dictionary, entry: &str) -> PrivacyManifest {
    let mut out = PrivacyManifest {
        entry: entry.to_string(),
        tracking: dict.get("NSPrivacyTracking").and_then(Value::as_boolean),
        tracking_domains: strings_of(dict, "NSPrivacyTrackingDomains"),
        ..PrivacyManifest::default()
    };
    if let Some(Value::Array(items)) = dict.get("NSPrivacyCollectedDataTypes") {
        for item in items.iter().filter_map(Value::as_dictionary) {
            out.collected_data.push(CollectedDataType {
                data_type: string_of(item, "NSPrivacyCollectedDataType").unwrap_or_default(),
                linked: item.get("NSPrivacyCollectedDataTypeLinked").and_then(Value::as_boolean),
                tracking: item.get("NSPrivacyCollectedDataTypeTracking").and_then(Value::as_boolean),
                purposes: strings_of(item, "NSPrivacyCollectedDataTypePurposes"),
            });
        }
    }
    if let Some(Value::Array(items)) = dict.get("NSPrivacyAccessedAPITypes") {
        for item in items.iter().filter_map(Value::as_dictionary) {
            out.accessed_apis.push(AccessedApi {
                api_type: string_of(item, "NSPrivacyAccessedAPIType").unwrap_or_default(),
                reasons: strings_of(item, "NSPrivacyAccessedAPITypeReasons"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::property_list;

    #[test]
    fn reads_declarations_and_knows_listed_sdks() {
        let xml = r#"<plist version="1.0"><dict>
<key>NSPrivacyTracking</key><true/>
<key>NSPrivacyTrackingDomains</key><array><string>t.example.com</string></array>
<key>NSPrivacyCollectedDataTypes</key><array><dict>
<key>NSPrivacyCollectedDataType</key><string>NSPrivacyCollectedDataTypePreciseLocation</string>
<key>NSPrivacyCollectedDataTypeLinked</key><true/>
<key>NSPrivacyCollectedDataTypeTracking</key><false/>
<key>NSPrivacyCollectedDataTypePurposes</key><array><string>NSPrivacyCollectedDataTypePurposeAnalytics</string></array>
</dict></array>
<key>NSPrivacyAccessedAPITypes</key><array><dict>
<key>NSPrivacyAccessedAPIType</key><string>NSPrivacyAccessedAPICategoryUserDefaults</string>
<key>NSPrivacyAccessedAPITypeReasons</key><array><string>CA92.1</string></array></dict></array>
</dict></plist>"#;
        let m = read(&property_list::parse_dict(xml.as_bytes()).unwrap(), "PrivacyInfo.xcprivacy");
        assert_eq!(m.tracking, Some(true));
        assert_eq!(m.tracking_domains, ["t.example.com"]);
        assert_eq!(m.collected_data[0].linked, Some(true));
        assert_eq!(m.accessed_apis[0].reasons, ["CA92.1"]);
        assert_eq!(listed_sdk("Payload/A.app/Frameworks/Alamofire.framework/"), Some("Alamofire"));
        assert_eq!(listed_sdk("Frameworks/Mine.framework"), None);
    }
}
