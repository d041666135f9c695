//! The banner's answers to its script, as JSON text: one answer per call, which the script
//! reads with `JSON.parse` (much cheaper than building the objects through the boundary one
//! property at a time). Written into any [`Sink`], without the heap; strings are escaped by
//! consent-core's own writer.

use consent_core::__private::Decimal;
use consent_core::Choices;
use consent_core::compiled::CompiledPolicy;
use consent_core::consent_mode::ConsentModeState;
use consent_core::text::{Sink, json_string};

/// Compact JSON, written in order: `open`/`close` for objects and arrays, `key` before each
/// member's value; commas are placed by the writer.
pub(crate) struct Json<'o> {
    out: &'o mut crate::Out,
    /// Whether the next value is the first of its container (or follows a key).
    first: bool,
}

impl<'o> Json<'o> {
    pub(crate) fn new(out: &'o mut crate::Out) -> Self {
        Self { out, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            Sink::push_str(self.out, ",");
        }
        self.first = false;
    }

    /// `{` or `[`.
    pub(crate) fn open(&mut self, bracket: &str) -> &mut Self {
        self.sep();
        Sink::push_str(self.out, bracket);
        self.first = true;
        self
    }

    /// `}` or `]`. Out of line: it was inlined at some of its calls (35 B gzip less, measured).
    #[inline(never)]
    pub(crate) fn close(&mut self, bracket: &str) -> &mut Self {
        Sink::push_str(self.out, bracket);
        self.first = false;
        self
    }

    pub(crate) fn key(&mut self, key: &str) -> &mut Self {
        self.sep();
        json_string(self.out, key);
        Sink::push_str(self.out, ":");
        self.first = true;
        self
    }

    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.sep();
        json_string(self.out, s);
        self
    }

    /// `null` for `None`.
    // Always inlined: a branch between two calls at each use (20 B gzip less, measured).
    #[inline(always)]
    pub(crate) fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.raw("null"),
        }
    }

    pub(crate) fn bool(&mut self, b: bool) -> &mut Self {
        self.raw(if b { "true" } else { "false" })
    }

    pub(crate) fn num(&mut self, n: u64) -> &mut Self {
        self.raw(Decimal::new(n).as_str())
    }

    /// A literal: `null`, `true`, a number.
    pub(crate) fn raw(&mut self, text: &str) -> &mut Self {
        self.sep();
        Sink::push_str(self.out, text);
        self
    }

    /// Consent Mode's signals as the object `gtag('consent', ...)` takes; still open, so that
    /// members can follow.
    pub(crate) fn consent_mode_open(&mut self, state: ConsentModeState) -> &mut Self {
        self.open("{");
        for (signal, value) in state.iter() {
            self.key(signal.as_str()).str(value.as_str());
        }
        self
    }

    /// The ids of the categories in `set`, a list.
    pub(crate) fn categories(&mut self, p: &CompiledPolicy<'_>, set: Choices) -> &mut Self {
        self.open("[");
        for (ci, c) in p.indexed_categories() {
            if set.allows_category(ci) {
                self.str(c.id);
            }
        }
        self.close("]")
    }

    /// `{"error": message}`.
    pub(crate) fn error(&mut self, message: &str) {
        self.open("{").key("error").str(message).close("}");
    }
}

#[cfg(test)]
mod tests {
    use super::Json;

    #[test]
    fn commas_and_nesting() {
        let mut out = String::new();
        let mut j = Json::new(&mut out);
        j.open("{").key("a").str("x\"y").key("b").open("[");
        j.num(1)
            .bool(false)
            .raw("null")
            .open("{")
            .close("}")
            .close("]");
        j.key("c").opt_str(None).close("}");
        assert_eq!(out, r#"{"a":"x\"y","b":[1,false,null,{}],"c":null}"#);
    }
}
