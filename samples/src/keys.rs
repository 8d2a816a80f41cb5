//! The committed demo signing keys (samples/keys/*.pk8.pem).
//!
//! DEMO KEYS ONLY: their private halves are public in this repository, so a
//! signature made with them proves nothing about who built an app. They exist
//! so the samples carry real, verifiable APK signatures. They were generated
//! once by `cargo run -p appvet-samples -- keygen` (RSA-2048 from a fixed-seed
//! ChaCha20 RNG) rather than at every run, which would be slow.

use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;

/// Which demo key signs a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoKey {
    /// Signs benign.apk and split-demo.apks ("Example Notes B.V.").
    Notes,
    /// Signs datahungry.apk ("Shenzhen Example Technology Co., Ltd.").
    Flashlight,
}

impl DemoKey {
    pub const ALL: [DemoKey; 2] = [DemoKey::Notes, DemoKey::Flashlight];

    /// File name under samples/keys/.
    pub fn file_name(self) -> &'static str {
        match self {
            DemoKey::Notes => "notes-demo.pk8.pem",
            DemoKey::Flashlight => "flashlight-demo.pk8.pem",
        }
    }

    fn pem(self) -> &'static str {
        match self {
            DemoKey::Notes => include_str!("../keys/notes-demo.pk8.pem"),
            DemoKey::Flashlight => include_str!("../keys/flashlight-demo.pk8.pem"),
        }
    }

    /// The private key parsed from its committed PKCS#8 PEM.
    pub fn private_key(self) -> RsaPrivateKey {
        RsaPrivateKey::from_pkcs8_pem(self.pem()).expect("committed demo key is valid PKCS#8")
    }

    fn seed(self) -> u64 {
        match self {
            DemoKey::Notes => 0x4e4f_5445_5301,
            DemoKey::Flashlight => 0x464c_4153_4801,
        }
    }
}

/// Generates a fresh RSA-2048 key for `key` as PKCS#8 PEM (used once, by the
/// `keygen` command; the result is committed).
pub fn generate_pem(key: DemoKey) -> String {
    use rand_chacha::rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(key.seed());
    let private = RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
    private.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8 encoding").to_string()
}
