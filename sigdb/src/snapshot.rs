//! A binary snapshot of a [`Parsed`] database, written by appvet's build
//! script and embedded in the binary.
//!
//! Layout: the magic `APPVETDB`, then seven sections, each a little-endian
//! `u32` length and its bytes: the version string, the permissions
//! (`crate::lazy::LazyMap`), the class-name automaton (`crate::automaton`),
//! the SDK definitions and the code-signature patterns (each a
//! `crate::lazy::LazyVec`), the SDK matcher's lookup tables (postcard, read
//! in place) and the entities. The sections decode independently and
//! lazily, so opening the database costs a one-app run little.
//!
//! The snapshot is produced and read by the same build of this crate, so it
//! carries no format version; a snapshot that does not decode is an error,
//! never a partial database.

use crate::automaton::Automaton;
use crate::lazy::{put_framed, take_bytes, LazyMap, LazyVec};
use crate::{Entities, Parsed, PermissionInfo, SdkDef, SdkMatcher};

const MAGIC: &[u8; 8] = b"APPVETDB";

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a signature snapshot (bad magic)")]
    BadMagic,
    #[error("snapshot truncated in section {0}")]
    Truncated(&'static str),
    #[error("snapshot section {section}: {message}")]
    Decode { section: &'static str, message: String },
}

/// Encodes a parsed database.
pub fn encode(parsed: &Parsed) -> Result<Vec<u8>, postcard::Error> {
    let sections = [
        parsed.version.as_bytes().to_vec(),
        LazyMap::encode(&parsed.permissions)?,
        crate::automaton::encode(&parsed.sdks.needles).map_err(|_| postcard::Error::SerializeBufferFull)?,
        LazyVec::encode(&parsed.sdks.defs)?,
        LazyVec::encode(&parsed.sdks.wild)?,
        postcard::to_stdvec(&parsed.sdks)?,
        parsed.entities.encode()?,
    ];
    let mut out = MAGIC.to_vec();
    for s in &sections {
        put_framed(&mut out, s)?;
    }
    Ok(out)
}

/// Encodes a parsed database into bytes that live as long as the process:
/// the tables read from a snapshot borrow from it (see `crate::lazy`).
pub fn encode_static(parsed: &Parsed) -> Result<Snapshot, SnapshotError> {
    let bytes =
        encode(parsed).map_err(|e| SnapshotError::Decode { section: "all", message: e.to_string() })?;
    Snapshot::split(Box::leak(bytes.into_boxed_slice()))
}

/// The sections of a snapshot, not yet decoded.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    pub version: &'static str,
    permissions: &'static [u8],
    automaton: &'static [u8],
    defs: &'static [u8],
    wild: &'static [u8],
    sdks: &'static [u8],
    entities: &'static [u8],
}

const SECTIONS: [&str; 7] = ["version", "permissions", "automaton", "defs", "wild", "sdks", "entities"];

impl Snapshot {
    pub fn split(bytes: &'static [u8]) -> Result<Self, SnapshotError> {
        let mut rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(SnapshotError::BadMagic)?;
        let mut parts: [&'static [u8]; SECTIONS.len()] = [&[]; SECTIONS.len()];
        for (part, name) in parts.iter_mut().zip(SECTIONS) {
            *part = take_bytes(&mut rest, name)?;
        }
        let [version, permissions, automaton, defs, wild, sdks, entities] = parts;
        let version = std::str::from_utf8(version)
            .map_err(|e| SnapshotError::Decode { section: "version", message: e.to_string() })?;
        Ok(Snapshot { version, permissions, automaton, defs, wild, sdks, entities })
    }

    /// Checks every table in full: what opening them (which reads headers
    /// only) and lookups (which read one entry) take on trust. The build
    /// runs it on the snapshot it embeds.
    pub fn verify(&self) -> Result<(), SnapshotError> {
        self.permissions()?.verify("permissions")?;
        self.defs()?.verify("defs")?;
        LazyVec::<crate::sdks::WildPattern>::open(self.wild, "wild")?.verify("wild")?;
        self.entities()?.verify()?;
        self.matcher().map(|_| ())
    }

    /// The permission table, indexed but not decoded.
    pub fn permissions(&self) -> Result<LazyMap<PermissionInfo>, SnapshotError> {
        LazyMap::open(self.permissions, "permissions")
    }

    /// The class-name automaton, built at build time.
    pub fn automaton(&self) -> Result<Automaton, SnapshotError> {
        Automaton::open(self.automaton)
    }

    /// The SDK definitions, indexed but not decoded.
    pub fn defs(&self) -> Result<LazyVec<SdkDef>, SnapshotError> {
        LazyVec::open(self.defs, "defs")
    }

    /// The SDK matcher: its lookup tables are read in place, its patterns
    /// and definitions decoded on first use.
    pub fn matcher(&self) -> Result<SdkMatcher, SnapshotError> {
        let automaton = self.automaton().map_err(|e| e.to_string());
        SdkMatcher::open(self.sdks, LazyVec::open(self.wild, "wild"), automaton, self.defs())
    }

    /// The entity tables, indexed but not decoded.
    pub fn entities(&self) -> Result<Entities, SnapshotError> {
        Entities::open(self.entities)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn sample() -> Parsed {
        let mut entities = crate::EntityTables::default();
        entities.add_entities("umeng\tUmeng\talibaba\tCN\tUmeng Inc\tsrc\n", "e.tsv", true).unwrap();
        entities.add_domains("umeng.com\tumeng\tsrc\n", "d.tsv").unwrap();
        let def = SdkDef {
            id: "umeng".into(),
            name: "Umeng".into(),
            code_signature: "com.umeng.analytics".into(),
            network_signature: ".*\\.umeng\\.cn".into(),
            source: "t".into(),
            ..Default::default()
        };
        let mut permissions = HashMap::new();
        permissions.insert(
            "android.permission.CAMERA".to_string(),
            PermissionInfo { protection_level: "dangerous".into(), group: None, source: "aosp".into() },
        );
        Parsed { version: "v1".into(), permissions, sdks: crate::MatcherTables::prepare(vec![def]), entities }
    }

    #[test]
    fn round_trip_keeps_every_section() {
        let snap = encode_static(&sample()).unwrap();
        assert_eq!(snap.version, "v1");
        assert_eq!(snap.permissions().unwrap().len(), 1);
        assert_eq!(snap.entities().unwrap().by_name("UMENG INC.").unwrap().id, "umeng");
        let m = snap.matcher().unwrap();
        let mut hits = Vec::new();
        m.match_class("com/umeng/analytics/A", &mut hits);
        assert_eq!(hits.len(), 1);
        assert_eq!(m.match_host("a.umeng.cn").map(|h| h.0), Some(0));
    }

    #[test]
    fn damaged_snapshots_are_errors_not_panics() {
        let bytes: &'static [u8] = Box::leak(encode(&sample()).unwrap().into_boxed_slice());
        assert!(matches!(Snapshot::split(b"NOTADB"), Err(SnapshotError::BadMagic)));
        let touch = |s: Snapshot| {
            let _ = s.matcher();
            if let Ok(p) = s.permissions() {
                let _ = p.values().count();
            }
            if let Ok(e) = s.entities() {
                let _ = (e.by_id.values().count(), e.domains.values().count(), e.by_name("umeng"));
            }
        };
        for cut in 0..bytes.len() {
            if let Ok(s) = Snapshot::split(&bytes[..cut]) {
                touch(s);
            }
        }
        for i in (8..bytes.len()).step_by(7) {
            let mut flipped = bytes.to_vec();
            flipped[i] ^= 0x5a;
            if let Ok(s) = Snapshot::split(Box::leak(flipped.into_boxed_slice())) {
                touch(s);
            }
        }
    }
}
