//! The authoring side for Node: compiles a consent config into the files a static site serves
//! beside the banner, with the same code as `consent banner build` ([`consent_core::bundle`]),
//! compiled to WebAssembly so that a site without a Rust toolchain can build its banner:
//!
//! ```text
//! node build/consent-build.mjs site.json public/consent/
//! ```
//!
//! `build/build.sh` builds `build/dist/` (committed, checked for staleness like
//! `wasm/dist/`); `build/consent-build.mjs` is the command.

use wasm_bindgen::prelude::*;

/// The banner's files for `config` (JSON text), in one buffer: for each file its name's length
/// (2 bytes, little-endian), its name, its length (4 bytes, little-endian) and its bytes.
///
/// # Errors
/// Every problem of an invalid config, one per line with its path (as `consent validate`
/// prints them), or why a valid one does not fit the compiled format.
#[wasm_bindgen]
pub fn build(config: &str) -> Result<Vec<u8>, String> {
    let config = consent_core::Config::from_json(config).map_err(|e| e.to_string())?;
    let files = consent_core::bundle::files(&config).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (name, bytes) in files {
        let name_len = u16::try_from(name.len()).map_err(|_| "file name too long".to_owned())?;
        let len = u32::try_from(bytes.len()).map_err(|_| "file too large".to_owned())?;
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_holds_every_file_of_the_bundle_in_order() {
        let buffer = build(consent_core::EXAMPLE_CONFIG).unwrap_or_default();
        let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let mut rest = buffer.as_slice();
        for (name, bytes) in consent_core::bundle::files(&config).unwrap_or_default() {
            let (n, tail) = rest.split_at(2);
            let n = usize::from(u16::from_le_bytes([n[0], n[1]]));
            let (got_name, tail) = tail.split_at(n);
            assert_eq!(got_name, name.as_bytes());
            let (len, tail) = tail.split_at(4);
            let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let (got, tail) = tail.split_at(len);
            assert_eq!(got, bytes.as_slice(), "{name}");
            rest = tail;
        }
        assert!(rest.is_empty());
        let bad = build(r#"{"revision": 0}"#).unwrap_err();
        assert!(
            bad.contains("revision") && bad.contains("categories"),
            "{bad}"
        );
    }
}
