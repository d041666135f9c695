//! A key rotation as an entry of the chain: the old key hands the log to the new one.
//!
//! The rules:
//!
//! 1. Every key of a key file has an id ([`KeyId`]), a keyed fingerprint that names it
//!    without revealing it, and an epoch: the key file's current key has the highest.
//! 2. A log is under one key at a time. Its links, its signed head and its purge checkpoint
//!    are made under that key.
//! 3. When a store is opened with a key file whose current key is newer than the key the
//!    log's head is signed under, it appends a rotation entry ([`Rotation`]) naming the old
//!    key's id and the new one's. The entry is linked under the *old* key, so only the old
//!    key's holder can write it: that link is the old key's signature over the statement.
//!    In the same transaction the purge checkpoint is signed again under the new key (once
//!    it verified under the old one) and the head is signed under the new key; every entry
//!    after the rotation is linked under the new key.
//! 4. `verify` follows the rotations: it starts under whichever key of the key file links
//!    the first keyed record, moves to another key only at a rotation entry linked under the
//!    key in force and naming it, and requires the log to end under the current key.
//!
//! Caveats:
//! - Someone with write access to the database and no key cannot add, remove or change a
//!   rotation: its link needs the old key, the records after it need the new one.
//! - Someone who holds a *retired* key cannot rewrite the records before its rotation: the
//!   first record after the rotation links to the rotation entry's link under the new key.
//! - Everything here is HMAC, not public-key signatures: checking a log needs the keys that
//!   made it, so a key file must keep its retired keys for as long as the log holds records
//!   made under them.

use core::fmt;
use core::str::FromStr;

use consent_core::Digest;
use serde::{Deserialize, Serialize};

use super::{EntryKind, Prepared, StoreError, Summary};

/// A key's id: 16 bytes of HMAC-SHA-256 under the key, printed as 32 hex digits. It names
/// the key and reveals nothing about it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; 16]);

impl KeyId {
    /// The id of a key from its HMAC bytes under the id's tag.
    pub(crate) fn from_mac(mac: &[u8]) -> Self {
        let mut id = [0u8; 16];
        for (to, from) in id.iter_mut().zip(mac) {
            *to = *from;
        }
        Self(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The error for a key id that is not 32 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseKeyIdError;

impl fmt::Display for ParseKeyIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid key id: expected 32 lowercase hex digits")
    }
}

impl std::error::Error for ParseKeyIdError {}

impl FromStr for KeyId {
    type Err = ParseKeyIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.as_bytes();
        if hex.len() != 32 {
            return Err(ParseKeyIdError);
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 16];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = digit(pair[0]).ok_or(ParseKeyIdError)? << 4
                | digit(pair[1]).ok_or(ParseKeyIdError)?;
        }
        Ok(Self(out))
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The record of a rotation entry: the key the log was under, and the key it is under from
/// the next record on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// The old key, which links this entry.
    pub from: KeyId,
    /// The new key, which links every record after it.
    pub to: KeyId,
    /// The new key's epoch in the key file.
    pub epoch: u32,
}

impl Rotation {
    /// The digest the chain links: SHA-256 under its own domain tag over the JSON, so a
    /// rotation can never pass for a decision or an erasure.
    #[must_use]
    pub fn digest_of(json: &str) -> Digest {
        super::chain::entry_digest(b"consent-rotation-v1\0", json)
    }

    /// The summary kept with it: the action `rotation`, the new epoch, the new key's id.
    #[must_use]
    pub fn summary(&self) -> Summary {
        Summary::Rotation {
            epoch: self.epoch,
            to: self.to,
        }
    }

    /// The entry to append at `time` (unix seconds).
    pub(crate) fn prepared(&self, time: i64) -> Result<Prepared, StoreError> {
        let json = serde_json::to_string(self).map_err(super::encode)?;
        Ok(Prepared {
            time,
            consent_id: None,
            digest: Self::digest_of(&json),
            json,
            summary: self.summary().columns(),
            marketing: None,
            kind: EntryKind::Rotation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_id_round_trips_and_refuses_what_is_not_one() {
        let id = KeyId::from_mac(&[0xab; 32]);
        let text = id.to_string();
        assert_eq!(text, "ab".repeat(16));
        assert_eq!(text.parse::<KeyId>(), Ok(id));
        for bad in [
            "",
            "AB".repeat(16).as_str(),
            &"ab".repeat(17),
            &"zz".repeat(16),
        ] {
            assert_eq!(bad.parse::<KeyId>(), Err(ParseKeyIdError), "{bad}");
        }
    }

    #[test]
    fn a_rotation_reads_back_and_hashes_under_its_own_tag() {
        let r = Rotation {
            from: KeyId::from_mac(&[1; 16]),
            to: KeyId::from_mac(&[2; 16]),
            epoch: 1,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Rotation>(&json).unwrap(), r);
        assert_ne!(
            Rotation::digest_of(&json),
            super::super::erasure::Erasure::digest_of(&json)
        );
        assert_eq!(r.summary().columns().revision, 1);
    }
}
