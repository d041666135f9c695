//! Consent Mode written into the page: the `default` command, and the `update` for the
//! visitor's decision, in one small inline script placed before any Google tag.

use consent_core::consent_mode::{self, ConsentModeState};
use consent_core::{Config, policy::Evaluation};

/// The attribute that marks the script, so the banner knows the page already holds the
/// `default` command (Google's tags read only the first) and does not send it again.
pub(crate) const MARK: &str = "data-consent-mode";

/// The script's text, or `None` when the site does not use Consent Mode. Its `gtag` is the
/// one Google's snippet defines (it pushes `arguments` onto `dataLayer`), so a page's own
/// snippet before or after it keeps working.
pub(crate) fn script(config: &Config, evaluation: &Evaluation) -> Option<String> {
    let (default, wait) = consent_mode::default(config)?;
    let mut s = String::from(
        "window.dataLayer=window.dataLayer||[];\
         function gtag(){dataLayer.push(arguments)}gtag('consent','default',",
    );
    object(&mut s, default, Some(wait));
    s.push_str(");");
    if !evaluation.show_banner() {
        if let Some(update) = consent_mode::update(config, evaluation.allowed()) {
            s.push_str("gtag('consent','update',");
            object(&mut s, update, None);
            s.push_str(");");
        }
    }
    Some(s)
}

/// A state as the object gtag takes (every name and value is one of Consent Mode's fixed
/// words, so nothing needs escaping).
fn object(s: &mut String, state: ConsentModeState, wait: Option<u32>) {
    s.push('{');
    for (i, (signal, value)) in state.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        s.push_str(signal.as_str());
        s.push_str("\":\"");
        s.push_str(value.as_str());
        s.push('"');
    }
    if let Some(ms) = wait {
        s.push_str(",\"wait_for_update\":");
        s.push_str(&ms.to_string());
    }
    s.push('}');
}
