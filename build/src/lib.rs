//! The authoring side, compiled to WebAssembly: validates a consent config and compiles it
//! into the files a static site serves beside the banner, with the same code as `consent
//! validate`, `consent banner build` ([`consent_core::bundle`]) and `consent declaration`, for
//! authors without a Rust toolchain. Two builds of this one crate:
//!
//! | build | made by | used by |
//! | --- | --- | --- |
//! | Node (`build/dist/`) | `bash build/build.sh` | `node build/consent-build.mjs site.json public/consent/` ([`build`]) |
//! | browser (`playground/build/`) | `bash build/build.sh --web` | the playground page ([`problems`], [`Site`]) |
//!
//! Both are committed and checked for staleness like `wasm/dist/`.

use consent_core::declaration::{Declaration, Format};
use consent_core::{Config, Lang};
use wasm_bindgen::prelude::*;

/// The banner's files for `config` (a config file's bytes, read as `consent banner build`
/// reads them: UTF-8, a byte order mark ignored), in one buffer: for each file its name's
/// length (2 bytes, little-endian), its name, its length (4 bytes, little-endian) and its
/// bytes.
///
/// # Errors
/// Every problem of an invalid config, one per line with its path (as `consent validate`
/// prints them), where its bytes stop being UTF-8, or why a valid config does not fit the
/// compiled format.
#[wasm_bindgen]
pub fn build(config: &[u8]) -> Result<Vec<u8>, String> {
    let text = consent_core::config::json_text(config).map_err(|e| e.to_string())?;
    let site = Site::parse(text)?;
    let mut out = Vec::new();
    for file in &site.files {
        let name_len =
            u16::try_from(file.name.len()).map_err(|_| "file name too long".to_owned())?;
        let len = u32::try_from(file.bytes.len()).map_err(|_| "file too large".to_owned())?;
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(file.name.as_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&file.bytes);
    }
    Ok(out)
}

/// The most bytes a config file may hold ([`consent_core::config::MAX_FILE_LEN`]): a reader
/// of a file reads at most one byte more, which [`build`] refuses, so that a file that is
/// not a config (`/dev/zero`) is never read whole.
#[wasm_bindgen]
#[must_use]
pub fn max_config_len() -> u32 {
    u32::try_from(consent_core::config::MAX_FILE_LEN).unwrap_or(u32::MAX)
}

/// Every problem of `config` (JSON text), in document order; none when it is valid. The
/// same problems, in the same words, as `consent validate` prints.
#[wasm_bindgen]
#[must_use]
pub fn problems(config: &str) -> Vec<Problem> {
    match Config::from_json(config) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(Problem::new).collect(),
    }
}

/// The example clinic's config (`core/src/example_config.json`): a complete one to start from.
#[wasm_bindgen]
#[must_use]
pub fn example() -> String {
    consent_core::EXAMPLE_CONFIG.to_owned()
}

/// One thing wrong with a config: where and what.
#[wasm_bindgen]
#[derive(Clone, Debug)]
pub struct Problem {
    path: String,
    line: String,
}

impl Problem {
    fn new(problem: &consent_core::config::Problem) -> Self {
        Problem {
            path: problem.path().to_owned(),
            line: problem.to_string(),
        }
    }
}

#[wasm_bindgen]
impl Problem {
    /// Where: `categories[2].services[0].cookies[1].name`; empty for the whole document.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// What, without the path: `missing`, `unknown field; did you mean `services`?`.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn message(&self) -> String {
        // The core's `Display` writes `path: what` (just `what` without a path).
        let what = self
            .line
            .strip_prefix(self.path.as_str())
            .and_then(|rest| rest.strip_prefix(": "));
        what.unwrap_or(&self.line).to_owned()
    }

    /// The line `consent validate` prints for it: `path: what`.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn line(&self) -> String {
        self.line.clone()
    }
}

/// One file of the banner's, by name: `policy.bin`, `texts-fi.json`, ...
#[wasm_bindgen]
#[derive(Clone, Debug)]
pub struct File {
    name: String,
    bytes: Vec<u8>,
}

#[wasm_bindgen]
impl File {
    /// Its name, which the banner looks for beside `policy.bin`.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Its contents, as `consent banner build` writes them.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }
}

/// A service of the config, as gated markup names it (`data-category`, `data-service`).
#[wasm_bindgen]
#[derive(Clone, Debug)]
pub struct Service {
    category: String,
    id: String,
    name: String,
    necessary: bool,
}

#[wasm_bindgen]
impl Service {
    /// Its category's id.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn category(&self) -> String {
        self.category.clone()
    }

    /// Its id.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// Its name, as the banner shows it.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Whether its category is the strictly necessary one, which is never gated.
    #[wasm_bindgen(getter)]
    #[must_use]
    pub fn necessary(&self) -> bool {
        self.necessary
    }
}

/// A valid config and the banner's files compiled from it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Site {
    config: Config,
    files: Vec<File>,
}

#[wasm_bindgen]
impl Site {
    /// Validates `config` (JSON text) and compiles it, as `consent banner build` does.
    ///
    /// # Errors
    /// Every problem of an invalid config, one per line with its path (as `consent validate`
    /// prints them), or why a valid one does not fit the compiled format.
    pub fn parse(config: &str) -> Result<Site, String> {
        let config = Config::from_json(config).map_err(|e| e.to_string())?;
        let files = consent_core::bundle::files(&config)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(name, bytes)| File { name, bytes })
            .collect();
        Ok(Site { config, files })
    }

    /// The banner's files: `policy.bin`, then `texts-<lang>.json` and `details-<lang>.json`
    /// for each language.
    #[must_use]
    pub fn files(&self) -> Vec<File> {
        self.files.clone()
    }

    /// The config's languages (`fi`, `sv`, `en`), its default first.
    #[must_use]
    pub fn languages(&self) -> Vec<String> {
        let default = self.config.default_language();
        let rest = self.config.languages().iter().filter(|l| **l != default);
        core::iter::once(default)
            .chain(rest.copied())
            .map(|l| l.as_str().to_owned())
            .collect()
    }

    /// Every service, category by category.
    #[must_use]
    pub fn services(&self) -> Vec<Service> {
        self.config
            .categories()
            .iter()
            .flat_map(|c| {
                c.services().iter().map(move |s| Service {
                    category: c.id().as_str().to_owned(),
                    id: s.id().as_str().to_owned(),
                    // In the site's default language (a name may be given per language).
                    name: s.name(self.config.default_language()).to_owned(),
                    necessary: c.is_necessary(),
                })
            })
            .collect()
    }

    /// The cookie declaration in `lang` as an HTML fragment: what `consent declaration
    /// --lang <lang> --format html` prints (the config's `revision_date`, if any, is its date).
    ///
    /// # Errors
    /// A language that is not one of the config's.
    pub fn declaration(&self, lang: &str) -> Result<String, String> {
        let lang: Lang = lang.parse().map_err(|_| {
            let mut why = String::from("unknown language ");
            why.push_str(lang);
            why
        })?;
        let declaration = Declaration::new(&self.config, lang, None).map_err(|e| e.to_string())?;
        Ok(declaration.render(Format::Html))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_holds_every_file_of_the_bundle_in_order() {
        let buffer = build(consent_core::EXAMPLE_CONFIG.as_bytes()).unwrap_or_default();
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
        let bad = build(br#"{"revision": 0}"#).unwrap_err();
        assert!(
            bad.contains("revision") && bad.contains("categories"),
            "{bad}"
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(consent_core::EXAMPLE_CONFIG.as_bytes());
        assert_eq!(build(&bom), Ok(buffer));
        let latin1 = build(b"{\"revision\": 1, \"privacy_notice\": \"/tietosuoja\xE4\"}");
        assert!(
            latin1
                .as_ref()
                .is_err_and(|e| e.contains("invalid UTF-8 at line 1 column 47")),
            "{latin1:?}"
        );
    }

    #[test]
    fn problems_carry_their_path_and_the_validators_words() {
        assert!(problems(consent_core::EXAMPLE_CONFIG).is_empty());
        let found = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}, {"id": "ads", "enabled_by_default": true}]}"#,
        );
        let lines: Vec<String> = found.iter().map(Problem::line).collect();
        let Err(e) = Config::from_json(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}, {"id": "ads", "enabled_by_default": true}]}"#,
        ) else {
            unreachable!("the config is invalid")
        };
        let want: Vec<String> = e.problems().iter().map(ToString::to_string).collect();
        assert_eq!(lines, want);
        let title = found
            .iter()
            .find(|p| p.path() == "categories[1].title")
            .map(Problem::message);
        assert_eq!(title.as_deref(), Some("missing"));
        // A syntax error concerns the whole document: no path, the message is the line.
        let syntax = problems("{");
        assert_eq!(syntax.len(), 1);
        assert_eq!(syntax[0].path(), "");
        assert_eq!(syntax[0].message(), syntax[0].line());
    }

    #[test]
    fn a_site_gives_its_files_languages_services_and_declaration() {
        let site =
            Site::parse(consent_core::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let names: Vec<String> = site.files().iter().map(File::name).collect();
        assert_eq!(
            names,
            [
                "policy.bin",
                "texts-fi.json",
                "details-fi.json",
                "texts-sv.json",
                "details-sv.json",
                "texts-en.json",
                "details-en.json"
            ]
        );
        assert_eq!(site.languages(), ["fi", "sv", "en"]);
        assert!(
            site.services()
                .iter()
                .any(|s| s.category() == "analytics" && s.id() == "ga")
        );
        let config =
            Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let want = Declaration::new(&config, Lang::Sv, None)
            .map(|d| d.render(Format::Html))
            .unwrap_or_default();
        assert_eq!(site.declaration("sv").as_deref(), Ok(want.as_str()));
        assert!(site.declaration("de").is_err());
        assert!(Site::parse("{}").is_err());
    }
}
