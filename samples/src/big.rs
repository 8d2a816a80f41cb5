//! A TikTok-scale synthetic APK for speed and memory measurements, generated
//! on demand and never committed (`appvet-samples big /tmp/big.apk`):
//! 10 DEX files with 155,000 classes and over a million strings, native
//! libraries for four ABIs, thousands of assets, about 280 MB in all.
//! Content is pseudo-random but deterministic (a fixed xorshift seed).

use std::io::Write;

use crate::axml::{self, Element};
use crate::dex::DexSpec;
use crate::elf::{self, SharedObject};
use crate::zip::{Compression, ZipWriter};

use crate::apps::common;

pub const DEX_FILES: usize = 10;
pub const CLASSES_PER_DEX: usize = 15_500;
pub const METHODS_PER_DEX: usize = 8_000;
pub const EXTRA_STRINGS_PER_DEX: usize = 82_000;
pub const URLS_PER_DEX: usize = 2_000;
pub const ABIS: [&str; 4] = ["arm64-v8a", "armeabi-v7a", "x86", "x86_64"];
pub const LIBS_PER_ABI: usize = 6;
pub const LIB_FILLER_BYTES: usize = 7 << 20;
pub const ASSETS: usize = 3_000;
pub const ASSET_BYTES: usize = 24 << 10;

/// Package roots the classes are spread over, as in a large app with many SDKs.
const PACKAGES: &[&str] = &[
    "com/ss/android/ugc/aweme",
    "com/bytedance/sdk/openadsdk",
    "com/bytedance/applog",
    "com/google/android/gms/ads",
    "com/google/firebase/analytics",
    "com/facebook/appevents",
    "okhttp3/internal",
    "kotlinx/coroutines",
    "androidx/recyclerview/widget",
    "com/tencent/mm/opensdk",
    "com/umeng/analytics",
    "io/reactivex/internal/operators",
];

/// Framework APIs referenced from the code (a sensitive subset among them).
const FRAMEWORK_METHODS: &[&str] = &[
    "Landroid/location/LocationManager;->getLastKnownLocation(Ljava/lang/String;)Landroid/location/Location;",
    "Landroid/telephony/TelephonyManager;->getDeviceId()Ljava/lang/String;",
    "Landroid/content/ClipboardManager;->getPrimaryClip()Landroid/content/ClipData;",
    "Landroid/media/AudioRecord;->startRecording()V",
    "Landroid/hardware/Camera;->open()Landroid/hardware/Camera;",
    "Landroid/content/pm/PackageManager;->getInstalledPackages(I)Ljava/util/List;",
    "Ljava/net/URL;->openConnection()Ljava/net/URLConnection;",
    "Landroid/app/Activity;->onCreate(Landroid/os/Bundle;)V",
];

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    /// Lower-case letters (what a string table holds).
    fn letters(&mut self, len: usize) -> String {
        (0..len).map(|_| (b'a' + (self.next() % 26) as u8) as char).collect()
    }
}

fn dex(index: usize, rng: &mut XorShift) -> Vec<u8> {
    let mut spec = DexSpec::default();
    for c in 0..CLASSES_PER_DEX {
        let pkg = PACKAGES[(c + index) % PACKAGES.len()];
        let descriptor = format!("L{pkg}/p{index}x{}/C{c};", c / 64);
        spec.class(&descriptor, "Ljava/lang/Object;");
    }
    for m in 0..METHODS_PER_DEX {
        if m < FRAMEWORK_METHODS.len() {
            spec.method(FRAMEWORK_METHODS[m]);
        } else {
            let pkg = PACKAGES[(m + index) % PACKAGES.len()];
            let c = m % CLASSES_PER_DEX;
            spec.method(&format!("L{pkg}/p{index}x{}/C{c};->m{m}(Ljava/lang/String;I)V", c / 64));
        }
    }
    for u in 0..URLS_PER_DEX {
        spec.string(&format!("https://api{}.tiktokv{}.com/aweme/v{}/feed/{u}", u % 40, index % 3, u % 5));
    }
    for s in 0..EXTRA_STRINGS_PER_DEX {
        let len = 8 + (rng.next() % 40) as usize;
        spec.string(&format!("k{index}_{s}_{}", rng.letters(len)));
    }
    crate::dex::build(&spec)
}

fn native_lib(abi: usize, lib: usize, rng: &mut XorShift) -> Vec<u8> {
    let mut filler = vec![0u8; LIB_FILLER_BYTES];
    rng.fill(&mut filler);
    // Printable filler so it is a string in .rodata, like real tables of text.
    for b in &mut filler {
        *b = b'!' + (*b % 90);
    }
    let so = SharedObject {
        soname: format!("libbig{lib}.so"),
        needed: vec!["libc.so".into(), "liblog.so".into(), "libm.so".into(), "libdl.so".into()],
        imports: (0..200).map(|i| format!("imported_{abi}_{i}")).collect(),
        exports: (0..2_000).map(|i| format!("Java_com_ss_android_big{lib}_Native_m{i}")).collect(),
        rodata_strings: vec![
            "https://log.tiktokv.com/service/2/app_log/".into(),
            String::from_utf8(filler).unwrap_or_default(),
        ],
    };
    elf::build(&so)
}

fn manifest() -> Vec<u8> {
    let permissions = [
        "android.permission.INTERNET",
        "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.CAMERA",
        "android.permission.RECORD_AUDIO",
        "android.permission.READ_CONTACTS",
        "android.permission.READ_PHONE_STATE",
    ];
    let doc = common::manifest("com.example.bigapp", 1, "1.0.0")
        .child(common::uses_sdk(24, 34))
        .children(permissions.iter().map(|p| common::uses_permission(p)))
        .child(
            Element::new("application")
                .android_str("label", "Big App")
                .child(common::launcher_activity("com.ss.android.ugc.aweme.splash.SplashActivity")),
        );
    axml::encode(&doc, axml::Options::default())
}

/// Writes the archive to `out`; returns its size. Progress goes to `log`.
pub fn write_big_apk(out: &mut impl Write, log: &mut impl Write) -> std::io::Result<usize> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut zip = ZipWriter::new();
    zip.add("AndroidManifest.xml", &manifest(), Compression::Deflated);
    for i in 0..DEX_FILES {
        let name = if i == 0 { "classes.dex".to_string() } else { format!("classes{}.dex", i + 1) };
        let data = dex(i, &mut rng);
        writeln!(log, "{name}: {} bytes", data.len())?;
        zip.add(&name, &data, Compression::Deflated);
    }
    for (a, abi) in ABIS.iter().enumerate() {
        for l in 0..LIBS_PER_ABI {
            // extractNativeLibs=false: libraries are stored, page-aligned in real APKs.
            zip.add(&format!("lib/{abi}/libbig{l}.so"), &native_lib(a, l, &mut rng), Compression::Stored);
        }
    }
    writeln!(log, "native libraries: {} files", ABIS.len() * LIBS_PER_ABI)?;
    let mut asset = vec![0u8; ASSET_BYTES];
    for i in 0..ASSETS {
        rng.fill(&mut asset);
        zip.add(&format!("assets/effects/e{}/a{i}.bin", i % 100), &asset, Compression::Stored);
    }
    writeln!(log, "assets: {ASSETS} files")?;
    let bytes = zip.finish();
    out.write_all(&bytes)?;
    Ok(bytes.len())
}
