//! The API the banner's script calls: what each call answers (JSON text) and what it
//! changes, natively with `cargo test`. The module the browser loads (the same functions
//! behind the exports of `src/abi.rs`) and the DOM the script draws from these answers are
//! tested through the built `dist/` in `wasm/tests/browser/` and the e2e suite.

#![allow(clippy::unwrap_used, clippy::panic)]

use serde_json::{Value, json};

use consent_wasm::strings as api;
use consent_wasm::strings::Verdict;

/// Whether the element may load now.
fn allows(category: &str, service: Option<&str>, path: &str) -> bool {
    api::allows(category, service, path) == Verdict::Allowed
}

/// The page's state lives in the API (one banner per page), so natively, where tests run on
/// several threads, they take turns.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 2026-11-20T12:00:00Z, in milliseconds.
const NOW: f64 = 1_795_694_400_000.0;
const DAY: f64 = 86_400_000.0;
const HOST: &str = "www.klinikka.fi";
const HREF: &str = "https://www.klinikka.fi/palvelut?x=1";

fn config(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG).unwrap();
    edit(&mut v);
    v.to_string()
}

/// The compiled policy of a config (JSON text), as `consent banner build` writes it.
fn policy(json: &str) -> Vec<u8> {
    let config = consent_core::Config::from_json(json).unwrap();
    consent_core::compile::compile(&config).unwrap()
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn strings(o: &Value, key: &str) -> Vec<String> {
    o[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a list: {o}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A list as the banner's script passes it: each item as `encodeURIComponent` writes it,
/// joined with commas.
fn list(l: &[&str]) -> String {
    l.iter()
        .map(|i| {
            i.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn start(json: &str, jar: &str) -> Value {
    parse(&api::start(
        &policy(json),
        jar,
        NOW,
        false,
        "",
        &list(&["en"]),
    ))
}

fn decide(kind: &str, ids: &[&str], jar: &str) -> Value {
    parse(&api::decide(
        kind,
        &list(ids),
        NOW,
        &[7; 16],
        jar,
        HOST,
        HREF,
        true,
    ))
}

fn view() -> Value {
    parse(&api::state())
}

/// The `name=value` of the consent cookie in a decision's first cookie line.
fn stored(decision: &Value) -> String {
    let lines = strings(decision, "cookies");
    lines[0].split(';').next().unwrap().to_owned()
}

#[test]
fn a_damaged_or_foreign_policy_fails_closed() {
    let _turn = turn();
    let good = policy(&config(|_| {}));
    let mut damaged = good.clone();
    damaged[30] ^= 0x10;
    let json = config(|_| {});
    for (bytes, why) in [
        (damaged, "checksum"),
        (good[..good.len() - 3].to_vec(), "cut short"),
        (json.into_bytes(), "not a compiled consent policy"),
        (Vec::new(), "not a compiled consent policy"),
    ] {
        let answer = parse(&api::start(&bytes, "", NOW, false, "", &list(&["en"])));
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(why), "{error}");
        assert_eq!(view(), Value::Null);
        // Only the strictly necessary may load (policy rule 14).
        assert!(allows(" necessary", Some("site"), "/"));
        assert!(!allows("analytics", None, "/"));
        assert!(!allows("!marketing", None, "/"));
        assert_eq!(
            api::allows("nosuch", None, "/"),
            Verdict::Refused,
            "no policy to know"
        );
        assert!(!api::accepted_category("analytics"));
        assert_eq!(
            api::decide("accept_all", "[]", NOW, &[1; 16], "", HOST, HREF, true),
            "null"
        );
        assert_eq!(api::consent(), "null");
    }
}

#[test]
fn a_first_visit_asks_with_consent_mode_denied_and_only_necessary_allowed() {
    let _turn = turn();
    let v = start(&config(|_| {}), "other=1");
    assert_eq!(v["show"], true);
    assert_eq!(v["lang"], "en");
    assert_eq!(v["id"], Value::Null);
    // The state only: the texts are data the script loads for `lang`.
    assert_eq!(v["langs"], json!(["fi", "sv", "en"]));
    assert_eq!(v["on"], json!([true, false, false]));
    assert!(v.get("t").is_none() && v.get("categories").is_none());
    let default = &v["gcmDefault"];
    assert_eq!(default["analytics_storage"], "denied");
    assert_eq!(default["ad_storage"], "denied");
    assert_eq!(default["wait_for_update"], 500);
    assert_eq!(v["gcmUpdate"], Value::Null);
    assert!(allows("necessary", Some("site"), "/"));
    assert!(!allows("analytics", None, "/"));
    assert!(!allows("analytics", Some("ga"), "/"));
    // Refused is not the same as not asked yet: "!marketing" waits for a decision.
    assert!(!allows("!marketing", None, "/"));
    // Markup naming what the policy does not have never loads, and says so.
    for (category, service) in [
        ("nosuch", None),
        ("analytics marketing", None),
        ("analytic", None),
        ("analytics", Some("nosuch")),
    ] {
        assert_eq!(api::allows(category, service, "/"), Verdict::Unknown);
    }
    assert_eq!(api::allows("! marketing ", None, "/"), Verdict::Refused);
}

/// The script draws only texts of the policy's revision (a decision's token carries it, and
/// the server records that revision's texts as shown): the state says which, as the texts
/// files `consent banner build` writes beside the policy say theirs.
#[test]
fn the_state_names_the_policys_revision_as_its_texts_files_do() {
    let _turn = turn();
    let json = config(|c| c["revision"] = json!(7));
    let site = consent_core::Config::from_json(&json).unwrap();
    let v = start(&json, "");
    assert_eq!(v["revision"], 7);
    assert_eq!(view()["revision"], 7);
    for lang in site.languages() {
        for file in [
            consent_core::bundle::texts_json(&site, *lang),
            consent_core::bundle::details_json(&site, *lang),
        ] {
            assert_eq!(parse(&file)["revision"], v["revision"], "{file}");
        }
    }
    let made = decide("accept_all", &[], "");
    start(&json, &stored(&made));
    assert_eq!(view()["revision"], 7, "a returning visitor's state too");
    assert_eq!(parse(&api::consent())["revision"], 7);
}

#[test]
fn accept_all_stores_sends_and_allows_and_a_returning_visit_does_not_ask() {
    let _turn = turn();
    let json = config(|_| {});
    start(&json, "");
    let d = decide("accept_all", &[], "");
    assert!(stored(&d).starts_with("consent="));
    let line = &strings(&d, "cookies")[0];
    assert!(
        line.contains("; Max-Age=15724800; SameSite=Lax; Secure"),
        "{line}"
    );
    assert_eq!(d["first"], true);
    assert_eq!(strings(&d, "changed"), ["analytics", "marketing"]);
    assert_eq!(
        strings(&d, "allowed"),
        ["necessary", "analytics", "marketing"]
    );
    assert_eq!(d["gcm"]["ad_storage"], "granted");
    assert_eq!(d["send"]["url"], "/consent");
    let body = &d["send"];
    // The token and the page only: the server makes the record.
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["page", "token", "url"]
    );
    assert_eq!(body["page"], HREF);
    assert_eq!(body["token"].as_str(), stored(&d).strip_prefix("consent="));
    assert!(allows("analytics", Some("ga"), "/"));
    assert!(!allows("!marketing", None, "/"));
    // The pixel is kept off the booking page even with consent.
    assert!(allows("marketing", Some("facebook-pixel"), "/"));
    assert!(!allows("marketing", Some("facebook-pixel"), "/ajanvaraus"));
    assert!(!api::accepted_service("facebook-pixel", "/ajanvaraus"));
    let info = parse(&api::consent());
    assert_eq!(
        strings(&info, "categories"),
        ["necessary", "analytics", "marketing"]
    );
    assert_eq!(info["method"], "accept_all");
    assert_eq!(info["lastDecision"], NOW as u64);
    assert_eq!(info["expires"], (NOW + 182.0 * DAY) as u64);

    // The next page view of the same visitor.
    let v = parse(&api::start(
        &policy(&json),
        &stored(&d),
        NOW + DAY,
        false,
        "null",
        &list(&["fi"]),
    ));
    assert_eq!(v["show"], false);
    assert_eq!(v["lang"], "fi");
    assert_eq!(v["id"], info["consentId"]);
    assert_eq!(v["gcmUpdate"]["analytics_storage"], "granted");
    assert_eq!(v["on"][2], true);
    assert!(api::accepted_category("marketing"));
}

#[test]
fn of_several_consent_cookies_the_valid_one_holds_and_its_token_proves_the_id() {
    let _turn = turn();
    let json = config(|v| v["revision"] = json!(2));
    start(&json, "");
    let mine = stored(&decide("accept_all", &[], ""));
    // A decision under an older revision of the policy: readable, not valid.
    start(&config(|_| {}), "");
    let other = api::decide("reject_all", "", NOW, &[9; 16], "", HOST, HREF, true);
    let other = stored(&parse(&other));
    // A damaged cookie and an older decision (a parent domain's, say) come first.
    let jar = format!("consent=garbage; {other}; a=1; {mine}");
    let v = start(&json, &jar);
    assert_eq!(v["show"], false);
    assert!(
        api::accepted_category("analytics"),
        "the first valid decision holds"
    );
    let d = decide("reject_all", &[], &jar);
    assert_eq!(
        d["send"]["previous"].as_str(),
        mine.strip_prefix("consent="),
        "the token of the decision this one continues proves its id"
    );
    // None valid: the first readable one, as with one cookie.
    let v = start(&json, "consent=garbage; consent=1.x");
    assert_eq!(v["show"], true);
    assert_eq!(parse(&api::consent()), Value::Null);
}

#[test]
fn of_several_valid_decisions_the_latest_holds() {
    let _turn = turn();
    let json = config(|_| {});
    start(&json, "");
    let at = |kind: &str, jar: &str, ms: f64| {
        stored(&parse(&api::decide(
            kind, "", ms, &[7; 16], jar, HOST, HREF, true,
        )))
    };
    let accepted = at("accept_all", "", NOW - DAY);
    start(&json, &accepted);
    let withdrawn = at("reject_all", &accepted, NOW - 1000.0);
    // The older decision comes first (a longer path's cookie, or an older one of the same
    // path): the later withdrawal holds, and is the token the next decision continues.
    let jar = format!("{accepted}; a=1; {withdrawn}");
    let v = start(&json, &jar);
    assert_eq!(v["show"], false);
    assert!(!api::accepted_category("analytics"), "the withdrawal holds");
    let d = decide("accept_all", &[], &jar);
    assert_eq!(
        d["send"]["previous"].as_str(),
        withdrawn.strip_prefix("consent=")
    );
    // Either way round.
    start(&json, &format!("{withdrawn}; {accepted}"));
    assert!(!api::accepted_category("analytics"));
}

#[test]
fn unknown_categories_decide_nothing() {
    let _turn = turn();
    start(&config(|_| {}), "");
    let d = decide("custom", &["analytics", "nope"], "");
    assert_eq!(strings(&d, "unknown"), ["nope"]);
    assert!(!api::accepted_category("analytics"));
    assert_eq!(view()["show"], true);
    // A service is a choice only of a grant (an embed's placeholder); every unknown id is
    // named, in order.
    let d = decide("custom", &["ga", "analytics", "nope"], "");
    assert_eq!(strings(&d, "unknown"), ["ga", "nope"]);
    let d = decide("grant", &["nope", "ga", "marketing", "nix"], "");
    assert_eq!(strings(&d, "unknown"), ["nope", "nix"]);
    assert!(!api::accepted_service("ga", "/"));
    assert_eq!(view()["show"], true);
}

#[test]
fn an_id_holding_a_separator_or_another_character_is_one_unknown_id() {
    let _turn = turn();
    start(&config(|_| {}), "");
    for id in [
        "analytics,marketing",
        "analytics\nmarketing",
        "Analytics",
        " analytics",
        "[\"analytics\"]",
    ] {
        let d = decide("custom", &[id], "");
        assert_eq!(strings(&d, "unknown").len(), 1, "{id:?}: {d}");
        assert!(!api::accepted_category("analytics"), "{id:?}");
        assert!(!api::accepted_category("marketing"), "{id:?}");
    }
    // No ids at all: exactly nothing beyond necessary (a "custom" refusal).
    let d = decide("custom", &[], "");
    assert_eq!(strings(&d, "allowed"), ["necessary"]);
    // Languages the script did not encode count as none of the offered: the default.
    let v = parse(&api::start(
        &policy(&config(|_| {})),
        "",
        NOW,
        false,
        "",
        "[\"sv\"]",
    ));
    assert_eq!(v["lang"], "fi");
}

#[test]
fn a_withdrawal_deletes_declared_cookies_everywhere_and_they_stay_off_on_this_page() {
    let _turn = turn();
    start(&config(|_| {}), "");
    decide("accept_all", &[], "");
    let jar = "consent=x; _ga=GA1.1; _ga_ABC123=GS1; _gcl_au=1.1; mine=1";
    let d = decide("custom", &["marketing"], jar);
    let lines = strings(&d, "cookies");
    let deleted = |name: &str, domain: Option<&str>| {
        lines.iter().any(|l| {
            l.starts_with(&format!("{name}=; Max-Age=0"))
                && domain.is_none_or(|d| l.ends_with(&format!("; Domain={d}")))
        })
    };
    assert!(deleted("_ga", None));
    assert!(deleted("_ga", Some("klinikka.fi")));
    assert!(deleted("_ga", Some("www.klinikka.fi")));
    assert!(deleted("_ga_ABC123", Some("klinikka.fi")));
    assert!(!deleted("_gcl_au", None), "marketing stays granted");
    assert!(!deleted("mine", None) && !deleted("consent", None));
    assert_eq!(strings(&d, "changed"), ["analytics"]);
    assert_eq!(d["first"], false);
    // Granted again, analytics may be stored again, but what it gates never loads again on
    // this page (its scripts may already have run once).
    decide("accept_all", &[], "");
    assert!(api::accepted_category("analytics"));
    assert!(!allows("analytics", None, "/"));
    assert!(allows("marketing", None, "/"));
}

#[test]
fn only_a_token_for_the_decision_in_force_is_kept() {
    let _turn = turn();
    start(&config(|_| {}), "");
    let first = decide("reject_all", &[], "");
    let token = stored(&first).strip_prefix("consent=").unwrap().to_owned();
    assert_eq!(api::signed("not a token", true), "false");
    let line = parse(&api::signed(&token, false));
    let line = line.as_str().unwrap();
    assert!(
        line.starts_with(&format!("consent={token}; Path=/")),
        "{line}"
    );
    assert!(!line.contains("Secure"));
    decide("accept_all", &[], "");
    assert_eq!(
        api::signed(&token, true),
        "null",
        "an answer to an older decision"
    );
}

/// The server signs the decision it can prove: a `withdraw` over a decision the visitor
/// cannot prove to it (made while the endpoint was down) comes back as the choice it is
/// (`custom`), under the server's id and clock. The banner keeps that answer for its choices.
#[test]
fn the_servers_answer_is_kept_for_its_choices_whatever_its_method() {
    use consent_core::decision::{self, Signer};
    let _turn = turn();
    let json = config(|_| {});
    start(&json, "");
    decide("accept_all", &[], "");
    let withdrawn = decide("reject_all", &[], "");
    let sent = withdrawn["send"]["token"].as_str().unwrap();
    let ours: consent_core::Token = sent.parse().unwrap();
    assert_eq!(ours.state().method(), consent_core::Method::Withdraw);
    let config = consent_core::Config::from_json(&json).unwrap();
    let key = consent_core::token::SigningKey::new(&[5; 32]).unwrap();
    let signer = Signer {
        key: &key,
        proofs: &[],
    };
    let fresh = consent_core::ConsentId::from_bytes([8; 16]);
    let now = time::OffsetDateTime::from_unix_timestamp(NOW as i64 / 1000 + 3).unwrap();
    let made = decision::accept(&config, sent, signer, fresh, now).unwrap();
    assert_eq!(made.state().method(), consent_core::Method::Custom);
    let token = made.token().to_string();
    let line = parse(&api::signed(&token, true));
    assert!(
        line.as_str()
            .is_some_and(|l| l.starts_with(&format!("consent={token};"))),
        "{line}"
    );
    assert_eq!(parse(&api::consent())["method"], "custom");
    assert_eq!(parse(&api::consent())["consentId"], fresh.to_string());
}

#[test]
fn reset_forgets_the_decision_and_asks_again() {
    let _turn = turn();
    start(&config(|_| {}), "");
    decide("accept_all", &[], "");
    let r = parse(&api::reset(NOW, &[2; 16], "consent=x; _ga=1", HOST));
    let lines = strings(&r, "cookies");
    assert!(lines.iter().any(|l| l.starts_with("consent=; Max-Age=0")));
    assert!(lines.iter().any(|l| l.starts_with("_ga=; Max-Age=0")));
    assert_eq!(r["gcm"]["analytics_storage"], "denied");
    assert_eq!(view()["show"], true);
    assert_eq!(api::consent(), "null");
    assert!(!api::accepted_category("analytics"));
}

#[test]
fn an_embed_placeholder_grants_its_category_on_top_of_what_is_allowed() {
    let _turn = turn();
    start(&config(|_| {}), "");
    let d = decide("grant", &["marketing"], "");
    assert_eq!(strings(&d, "allowed"), ["necessary", "marketing"]);
    assert!(!api::accepted_category("analytics"));
}

#[test]
fn an_embed_placeholder_naming_a_service_grants_that_service_alone() {
    let _turn = turn();
    start(&config(|_| {}), "");
    let d = decide("grant", &["google-ads"], "");
    assert!(api::accepted_service("google-ads", "/"));
    assert!(!api::accepted_service("facebook-pixel", "/"));
    assert!(allows("marketing", Some("google-ads"), "/"));
    assert!(!allows("marketing", Some("facebook-pixel"), "/"));
    assert!(
        !allows("marketing", None, "/"),
        "an element of no named service may be any of the category's"
    );
    // Marketing is granted only partly: as a category it stays off everywhere.
    assert!(!api::accepted_category("marketing"));
    assert_eq!(strings(&d, "allowed"), ["necessary"]);
    assert_eq!(d["gcm"]["ad_storage"], "denied");
    assert_eq!(view()["on"][2], false, "the preferences' switch");
    assert_eq!(parse(&api::consent())["services"][1], "google-ads");
    assert_eq!(
        decide("custom", &["marketing-nope"], "")["unknown"][0],
        "marketing-nope"
    );
    assert!(
        decide("custom", &["google-ads"], "")["unknown"].is_array(),
        "custom choices name categories only"
    );
}

#[test]
fn the_language_follows_the_visitor_and_switches_only_to_offered_ones() {
    let _turn = turn();
    let json = config(|v| v["languages"] = json!(["fi", "sv"]));
    let v = parse(&api::start(
        &policy(&json),
        "",
        NOW,
        false,
        "unspecified",
        &list(&["", "sv-FI", "en"]),
    ));
    assert_eq!(v["lang"], "sv");
    assert!(api::set_language("fi"));
    assert_eq!(view()["lang"], "fi");
    assert!(!api::set_language("en"), "not offered by this site");
    assert!(!api::set_language("xx"));
    assert_eq!(view()["lang"], "fi");
}

#[test]
fn malformed_or_foreign_cookies_grant_nothing() {
    let _turn = turn();
    let json = config(|_| {});
    for jar in [
        "consent=garbage",
        "consent=1.AAAA",
        "consent=",
        "consent=1.AQIDBAUGBwgJCgsMDQ4PEA",
    ] {
        let v = start(&json, jar);
        assert_eq!(v["show"], true, "{jar}");
        assert!(!api::accepted_category("analytics"), "{jar}");
    }
    // A decision made under another site's config (its `site` id is in the fingerprint).
    start(&config(|v| v["site"] = "other-clinic".into()), "");
    let foreign = stored(&decide("accept_all", &[], ""));
    let v = start(&json, &foreign);
    assert_eq!(v["show"], true);
    assert!(!allows("analytics", None, "/"));
}

#[test]
fn global_privacy_control_keeps_marketing_off_until_granted() {
    let _turn = turn();
    let json = config(|_| {});
    let v = parse(&api::start(
        &policy(&json),
        "",
        NOW,
        true,
        "",
        &list(&["en"]),
    ));
    assert_eq!(v["gpc"], true);
    let d = decide("accept_all", &[], "");
    assert_eq!(strings(&d, "allowed"), ["necessary", "analytics"]);
    let body = &d["send"];
    let token: consent_core::Token = body["token"].as_str().unwrap().parse().unwrap();
    assert!(token.state().gpc(), "the decision says GPC was on");
    let d = decide("custom", &["marketing"], "");
    assert_eq!(strings(&d, "allowed"), ["necessary", "marketing"]);
}

#[test]
fn do_not_track_counts_in_the_banner_only_when_the_config_honours_it() {
    let _turn = turn();
    for (honour, dnt, allowed) in [
        (true, "1", &["necessary", "analytics"][..]),
        (true, "0", &["necessary", "analytics", "marketing"]),
        (true, "null", &["necessary", "analytics", "marketing"]),
        (false, "1", &["necessary", "analytics", "marketing"]),
    ] {
        let json = config(|v| v["honour_dnt"] = honour.into());
        parse(&api::start(
            &policy(&json),
            "",
            NOW,
            false,
            dnt,
            &list(&["en"]),
        ));
        let d = decide("accept_all", &[], "");
        assert_eq!(
            strings(&d, "allowed"),
            allowed,
            "honour {honour}, DNT {dnt}"
        );
        assert_eq!(
            allows("marketing", None, "/"),
            allowed.contains(&"marketing"),
            "the gate of the page agrees with the decision"
        );
    }
}

#[test]
fn the_old_action_words_decide_nothing() {
    let _turn = turn();
    start(&config(|_| {}), "");
    for kind in ["all", "none", "withdraw", ""] {
        let d = decide(kind, &[], "");
        assert!(
            d["error"].as_str().unwrap().contains("unknown action"),
            "{kind}: {d}"
        );
    }
    assert_eq!(view()["show"], true, "nothing was decided");
}

#[test]
fn a_service_withdrawn_on_this_page_is_not_accepted_again_here() {
    let _turn = turn();
    start(&config(|_| {}), "");
    decide("accept_all", &[], "");
    assert!(api::accepted_service("ga", "/"));
    decide("reject_all", &[], "_ga=1");
    decide("accept_all", &[], "");
    assert!(api::accepted_category("analytics"), "granted again");
    assert!(
        !api::accepted_service("ga", "/"),
        "but its script may have run here once"
    );
    assert!(!allows("analytics", Some("ga"), "/"));
}
