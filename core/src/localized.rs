//! Text given in one or more languages (the authoring side: configs and texts).

use crate::prelude::*;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::lang::Lang;

/// A string given in one or more languages, such as a category's title.
///
/// Config validation makes sure every language the site offers is present; [`get`](Self::get)
/// still falls back to another language rather than showing nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Localized {
    values: [Option<String>; 3],
}

impl Localized {
    /// An empty set of translations.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns `self` with `text` for `lang`.
    #[must_use]
    pub fn with(mut self, lang: Lang, text: impl Into<String>) -> Self {
        self.set(lang, text);
        self
    }

    /// Sets the text for `lang`.
    pub fn set(&mut self, lang: Lang, text: impl Into<String>) {
        self.values[lang.index()] = Some(text.into());
    }

    /// The text in `lang`, if given.
    #[must_use]
    pub fn exact(&self, lang: Lang) -> Option<&str> {
        self.values[lang.index()].as_deref()
    }

    /// The text in `lang`, else in English, else in any language given; empty when none is.
    #[must_use]
    pub fn get(&self, lang: Lang) -> &str {
        self.exact(lang)
            .or_else(|| self.exact(Lang::En))
            .or_else(|| self.values.iter().flatten().next().map(String::as_str))
            .unwrap_or("")
    }

    /// The languages this text is given in.
    pub fn langs(&self) -> impl Iterator<Item = Lang> + '_ {
        Lang::ALL.into_iter().filter(|l| self.exact(*l).is_some())
    }
}

impl Serialize for Localized {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for lang in Lang::ALL {
            if let Some(text) = self.exact(lang) {
                map.serialize_entry(lang.as_str(), text)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_falls_back_to_english_then_any() {
        let only_sv = Localized::new().with(Lang::Sv, "Hej");
        assert_eq!(only_sv.get(Lang::Fi), "Hej");
        let sv_en = only_sv.clone().with(Lang::En, "Hi");
        assert_eq!(sv_en.get(Lang::Fi), "Hi");
        assert_eq!(sv_en.get(Lang::Sv), "Hej");
        assert_eq!(Localized::new().get(Lang::Fi), "");
    }
}
