//! `consent validate` as a site owner meets it: a JSON config or a page that embeds one, a
//! near miss of a field named, a missing file named by the path it tried.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::path::Path;
use std::process::Output;

mod support;

use support::cli::text;

fn validate(dir: &Path, file: &str) -> Output {
    support::cli::run(dir, &["validate", file])
}

const PAGE_HEAD: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <link rel=\"stylesheet\" href=\"/consent/consent.css\">\n";

#[test]
fn reads_the_config_an_old_style_page_embeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = r#"{"revision": 2, "languages": ["en"], "privacy_notice": "/privacy",
    "categories": [{"id": "necessary"}]}"#;
    let page = format!(
        "{PAGE_HEAD}  <script type=\"application/json\" id=\"consent-config\" data-layout=\"box\">\n  {config}\n  </script>\n  <script type=\"module\" src=\"/consent/consent.js\"></script>\n</head>\n</html>\n"
    );
    std::fs::write(dir.path().join("index.html"), page).expect("write");
    let out = validate(dir.path(), "index.html");
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains(
            "index.html (<script id=\"consent-config\"> at line 5): valid (revision 2, 1 categories, 0 services)"
        ),
        "{t}"
    );
    // The page is told that the banner no longer reads it there.
    assert!(t.contains("consent banner build"), "{t}");

    // A problem in the page's config: every one with its path, and positions in the page.
    let broken = format!(
        "{PAGE_HEAD}<script type=\"application/json\" id=\"consent-config\">\n{{\"revision\": 1,\n  \"privacy_notice\": \"/privacy\"\n  \"categories\": []}}\n</script>\n"
    );
    std::fs::write(dir.path().join("broken.html"), broken).expect("write");
    let out = validate(dir.path(), "broken.html");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // The missing comma is before `"categories"`, on the page's line 8, column 3.
    assert!(
        text(&out).contains("expected `,` or `}` at line 8 column 3"),
        "{}",
        text(&out)
    );

    // A page without a config says what it looked for.
    std::fs::write(dir.path().join("plain.html"), "<!doctype html><p>hello</p>").expect("write");
    let out = validate(dir.path(), "plain.html");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(
            "plain.html: an HTML page with no config in it: expected a JSON config, or a page that embeds one in <script type=\"application/json\" id=\"consent-config\">"
        ),
        "{}",
        text(&out)
    );
}

#[test]
fn a_near_miss_of_a_field_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("site.json"),
        r#"{"revision": 1, "privacy_notice": "/privacy", "categories": [{"id": "necessary"},
        {"id": "analytics", "servises": []}]}"#,
    )
    .expect("write");
    let out = validate(dir.path(), "site.json");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("categories[1].servises: unknown field; did you mean `services`?"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_missing_file_is_named_by_the_path_it_tried() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = validate(dir.path(), "sitee.json");
    assert_eq!(out.status.code(), Some(1));
    let tried = dir.path().join("sitee.json");
    assert!(
        text(&out).contains(&format!(
            "error: cannot read sitee.json ({}): ",
            tried.display()
        )),
        "{}",
        text(&out)
    );
    let out = validate(dir.path(), &tried.display().to_string());
    assert!(
        text(&out).contains(&format!("error: cannot read {}: ", tried.display())),
        "{}",
        text(&out)
    );
}
