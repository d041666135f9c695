//! Compiling a validated config into the binary site policy the browser reads
//! ([`compiled`](crate::compiled) has the format).
//!
//! Only a [`Config`], which exists only once validated, compiles: a config with problems never
//! becomes a policy, and every problem is reported with its path by
//! [`Config::from_json`](crate::Config::from_json) first.

use crate::prelude::*;
use core::fmt;

use crate::compiled::{FORMAT_VERSION, MAGIC, MAX_LEN, exclude_path_key};
use crate::config::Config;
use crate::consent_mode::Signal;

/// Why a valid config does not fit the compiled format.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompileError {
    /// A text longer than 65,535 bytes, or a list longer than 255 items; names which.
    TooLong(String),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::TooLong(what) => {
                // `write_str` only, as config problems are written (`ProblemKind`'s `Display`).
                f.write_str(what)?;
                f.write_str(": too long for a compiled policy")
            }
        }
    }
}

impl core::error::Error for CompileError {}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
}

/// A count or an offset as the format's cell of two bytes (`what` names it if it does not fit).
fn cell(n: usize, what: &str) -> Result<u16, CompileError> {
    u16::try_from(n).map_err(|_| CompileError::TooLong(what.into()))
}

/// The column of ends of lists of `lens` entries, one after another.
fn ends(lens: impl Iterator<Item = usize>, what: &str) -> Result<Vec<u16>, CompileError> {
    let mut end = 0;
    lens.map(|n| {
        end += n;
        cell(end, what)
    })
    .collect()
}

/// The compiled policy of `config`.
///
/// # Errors
/// [`CompileError::TooLong`] for texts or lists over the format's limits (64 KiB of texts,
/// 65,535 excluded paths or cookies), which no real site's config reaches.
///
/// # Example
/// ```
/// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let bytes = consent_core::compile::compile(&config)?;
/// assert_eq!(&bytes[..4], b"CPOL");
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn compile(config: &Config) -> Result<Vec<u8>, CompileError> {
    let mut w = Writer {
        out: Vec::with_capacity(1024),
    };
    w.out.extend_from_slice(&MAGIC);
    w.u8(FORMAT_VERSION);
    w.u32(0); // the length, filled in below
    w.u32(config.revision().get());
    w.u32(config.fingerprint());
    let mode = config.consent_mode();
    w.u8(u8::from(config.honour_dnt()) | u8::from(mode.enabled()) << 1);
    let lifetimes = config.lifetimes();
    w.u16(lifetimes.accept_days());
    w.u16(lifetimes.refuse_days());
    w.u32(mode.wait_for_update_ms());
    w.u32(config.gpc_mask());
    for signal in Signal::ALL {
        w.u32(mode.masks[signal.index()]);
    }
    w.u8(config.default_language().index() as u8);
    // Validation allows each of the three languages once.
    for i in 0..3 {
        w.u8(config.languages().get(i).map_or(0xff, |l| l.index() as u8));
    }
    let cookie = crate::site::sealed::Sealed::cookie(config);
    let same_site = match cookie.same_site {
        crate::SameSite::Strict => 0,
        crate::SameSite::Lax => 1,
        crate::SameSite::None => 2,
    };
    w.u8(same_site | if cookie.always_secure { 4 } else { 0 });

    let services: Vec<_> = config.services().map(|(_, _, s)| s).collect();
    let declared: Vec<_> = services.iter().flat_map(|s| s.cookies()).collect();
    // Every text in the order of the fields it fills (format 3: no table of distinct texts).
    let mut texts = vec![
        config.site().unwrap_or(""),
        cookie.name,
        cookie.path,
        cookie.domain.unwrap_or(""),
        config.endpoint().unwrap_or(""),
    ];
    for c in config.categories() {
        texts.push(c.id().as_str());
    }
    for s in &services {
        texts.push(s.id().as_str());
    }
    // Each excluded path as the rule compares it, so the banner does not normalise it: only
    // ASCII bytes are changed, dropped or decoded to, so the key is UTF-8 as the path is.
    let keys: Vec<String> = services
        .iter()
        .flat_map(|s| s.exclude_paths())
        .map(|p| String::from_utf8_lossy(&exclude_path_key(p).collect::<Vec<u8>>()).into_owned())
        .collect();
    texts.extend(keys.iter().map(String::as_str));
    for c in &declared {
        texts.push(c.name().as_str());
    }
    for c in &declared {
        texts.push(c.path());
    }
    for c in &declared {
        texts.push(c.domain().unwrap_or(""));
    }
    let text_ends = ends(
        texts.iter().map(|s| s.len()),
        "the policy's texts (ids, exclude_paths, cookie names, paths and domains: 65535 bytes \
         in all)",
    )?;
    let excluded_ends = ends(
        services.iter().map(|s| s.exclude_paths().len()),
        "exclude_paths",
    )?;
    let cookie_ends = ends(services.iter().map(|s| s.cookies().len()), "cookies")?;

    // Validation keeps categories and services within the format's counts.
    w.u8(config.categories().len() as u8);
    w.u8(services.len() as u8);
    w.u16(excluded_ends.last().copied().unwrap_or(0));
    w.u16(cookie_ends.last().copied().unwrap_or(0));
    for n in &text_ends {
        w.u16(*n);
    }
    for (_, ci, _) in config.services() {
        w.u8(ci.get() as u8);
    }
    for n in excluded_ends.iter().chain(&cookie_ends) {
        w.u16(*n);
    }
    for text in &texts {
        w.out.extend_from_slice(text.as_bytes());
    }
    let len = w.out.len() + 4;
    if len > MAX_LEN {
        return Err(CompileError::TooLong("the whole policy".into()));
    }
    w.out[5..9].copy_from_slice(&(len as u32).to_le_bytes());
    let sum = crate::compiled::adler32(&w.out);
    w.u32(sum);
    Ok(w.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::{CompiledPolicy, PolicyError};

    fn example() -> Config {
        Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn the_example_round_trips_field_by_field() {
        let c = example();
        let bytes = compile(&c).unwrap();
        let p = CompiledPolicy::parse(&bytes).unwrap();
        assert_eq!(p.revision(), c.revision().get());
        assert_eq!(p.fingerprint(), c.fingerprint());
        assert_eq!(p.honour_dnt(), c.honour_dnt());
        assert_eq!(p.consent_mode_enabled(), c.consent_mode().enabled());
        assert_eq!(p.gpc_mask(), c.gpc_mask());
        assert_eq!(
            p.lifetime_days(),
            (c.lifetimes().accept_days(), c.lifetimes().refuse_days())
        );
        assert_eq!(p.languages(), c.languages());
        assert_eq!(p.default_language(), c.default_language());
        assert_eq!(p.site(), c.site());
        assert_eq!(p.endpoint(), c.endpoint());
        assert_eq!(p.cookie().name, c.cookie().name());
        assert_eq!(p.cookie().path, c.cookie().path());
        assert_eq!(p.cookie().domain, c.cookie().domain());
        assert_eq!(p.cookie().same_site, c.cookie().same_site());
        let ids: Vec<_> = p.categories().map(|e| (e.id, e.necessary)).collect();
        let want: Vec<_> = c
            .categories()
            .iter()
            .map(|k| (k.id().as_str(), k.is_necessary()))
            .collect();
        assert_eq!(ids, want);
        assert_eq!(p.service_count(), c.service_count());
        for ((si, ci, s), e) in c.services().zip(p.services()) {
            assert_eq!(e.id, s.id().as_str());
            assert_eq!(e.category, ci);
            assert_eq!(p.service_index(e.id), Some(si));
            let keys = s.exclude_paths().iter();
            let keys = keys.map(|x| exclude_path_key(x).collect::<Vec<u8>>());
            assert!(e.exclude_paths().map(|p| p.as_bytes().to_vec()).eq(keys));
            let cookies: Vec<_> = e.cookies().map(|k| (k.name, k.path, k.domain)).collect();
            let declared: Vec<_> = s
                .cookies()
                .iter()
                .map(|k| (k.name().as_str(), k.path(), k.domain()))
                .collect();
            assert_eq!(cookies, declared);
            for path in [
                "/",
                "/ajanvaraus",
                "/ajanvaraus/x?y",
                "/en/booking",
                "/ajanvaraukset",
            ] {
                assert_eq!(e.is_excluded_on(path), s.is_excluded_on(path), "{path}");
            }
        }
        assert_eq!(p.category_index("nosuch"), None);
        assert_eq!(p.service_index("nosuch"), None);
    }

    #[test]
    fn excluded_paths_compiled_as_keys_keep_a_service_off_the_same_pages() {
        let mut v: serde_json::Value = serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap();
        let paths = [
            "/Ajan%76araus//",
            "/SV//Tidsbokning/",
            "/%2Fen%2fbooking",
            "/100%25",
            "/ä/Ö",
        ];
        v["categories"][2]["services"][1]["exclude_paths"] = serde_json::json!(paths);
        let c = Config::from_value(&v).unwrap();
        let bytes = compile(&c).unwrap();
        let p = CompiledPolicy::parse(&bytes).unwrap();
        let id = v["categories"][2]["services"][1]["id"].as_str().unwrap();
        let compiled = p.services().find(|s| s.id == id).unwrap();
        let config = c.services().find(|s| s.2.id().as_str() == id).unwrap().2;
        let keys: Vec<&str> = compiled.exclude_paths().collect();
        assert_eq!(
            keys,
            [
                "/ajanvaraus",
                "/sv/tidsbokning",
                "/en/booking",
                "/100%25",
                "/ä/Ö"
            ],
            "ASCII letters in lower case, escapes of unreserved bytes decoded, one `/`"
        );
        for page in [
            "/",
            "/ajanvaraus",
            "/AJANVARAUS/uusi?x=1",
            "//ajan%76araus",
            "/ajanvaraukset",
            "/sv/tidsbokning#x",
            "/en/booking/",
            "/en%2Fbooking",
            "/en",
            "/100%25",
            "/100%",
            "/ä/Ö/x",
            "/ä/ö",
        ] {
            assert_eq!(
                compiled.is_excluded_on(page),
                config.is_excluded_on(page),
                "{page}"
            );
        }
        assert!(compiled.is_excluded_on("/AJANVARAUS/uusi?x=1"));
    }

    #[test]
    fn the_rules_run_over_the_compiled_policy_as_over_the_config() {
        let mut v: serde_json::Value = serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap();
        let mut configs = vec![example()];
        v["honour_dnt"] = true.into();
        v["site"] = "klinikka.fi".into();
        v["lifetime"] = serde_json::json!({"accept_days": 30, "refuse_days": 7});
        v["categories"][1]["gpc"] = true.into();
        configs.push(Config::from_value(&v).unwrap());
        v["categories"][2]["services"] = serde_json::json!([]);
        configs.push(Config::from_value(&v).unwrap());
        for c in &configs {
            let bytes = compile(c).unwrap();
            let p = CompiledPolicy::parse(&bytes).unwrap();
            assert_eq!(
                crate::site::Params::from_compiled(&p),
                crate::site::Params::new(c)
            );
        }
    }

    #[test]
    fn a_config_too_large_to_compile_is_no_valid_config() {
        // Each list within its limit, and together more texts than the format's 64 KiB: the
        // config validated, then `consent banner build` and the server could not compile it.
        let mut v: serde_json::Value = serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap();
        let pixel = v["categories"][2]["services"][1].clone();
        let services: Vec<serde_json::Value> = (0..5)
            .map(|i| {
                let mut s = pixel.clone();
                s["id"] = format!("pixel-{i}").into();
                s["exclude_paths"] = (0..64)
                    .map(|j| format!("/{i}-{j}-{}", "x".repeat(240)))
                    .collect();
                s
            })
            .collect();
        v["categories"][2]["services"] = services.into();
        let problems: Vec<String> = match Config::from_value(&v) {
            Ok(c) => unreachable!("valid, and compiles to {:?}", compile(&c).map(|b| b.len())),
            Err(e) => e.problems().iter().map(ToString::to_string).collect(),
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("too long for a compiled policy")
                && problems[0].contains("exclude_paths"),
            "{problems:?}"
        );
    }

    #[test]
    fn every_damage_is_refused() {
        let bytes = compile(&example()).unwrap();
        // Every single-byte change, anywhere.
        for i in 0..bytes.len() {
            for flip in [1u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= flip;
                assert!(CompiledPolicy::parse(&b).is_err(), "byte {i} ^ {flip:#x}");
            }
        }
        // Every cut, and a byte added.
        for n in 0..bytes.len() {
            assert!(CompiledPolicy::parse(&bytes[..n]).is_err(), "cut at {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            CompiledPolicy::parse(&longer).unwrap_err(),
            PolicyError::Length
        );
        let mut other = bytes.clone();
        other[4] = 1;
        assert_eq!(
            CompiledPolicy::parse(&other).unwrap_err(),
            PolicyError::Version(1)
        );
        assert_eq!(
            CompiledPolicy::parse(b"<!doctype html>").unwrap_err(),
            PolicyError::Magic
        );
        assert!(
            PolicyError::Version(1)
                .to_string()
                .contains("consent banner build")
        );
    }
}
