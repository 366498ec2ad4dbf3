//! Accessibility (WCAG 2.1 AA): axe-core, an independent checker, run in Debian's Chromium on
//! every page of the web UI (search, with and without active filters; a record page of each
//! kind, the programme's among them; the calendar; compare, empty and with two countries; the
//! directory; a country; network; members; audit), in each interface language the page's
//! language switch offers, at a desktop and a phone width: no violation of the rules tagged
//! `wcag2a`, `wcag2aa`, `wcag21a` or `wcag21aa` may remain; and once more in the dark colour
//! scheme, at the desktop width. A planted image without text and an empty named div must be
//! reported first, so a silent axe cannot pass. And the focus ring of a date input's calendar
//! button is the site's own, not Chromium's thin default.
//!
//! The UI's Content-Security-Policy (`script-src 'self'`) stays as it is: axe's source is run by
//! WebDriver's "execute script", which Chromium evaluates through DevTools, outside the page's
//! policy (the test checks the policy is in force on the page it checks). Each page is checked
//! once it has settled: the router's `aria-busy` gone, no "Loading…" left, every signature check
//! and a programme's state decided (polled against a deadline; nothing waits a fixed time).
//!
//! axe-core comes from npm, pinned with its SHA-256 (`tests/a11y/axe-core.sh` fetches and caches
//! it and prints its path): `HUBNET_AXE_JS` names `axe.min.js`. `.ci/run` sets it and
//! `HUBNET_REQUIRE_AXE=1`, which turns its absence into a failure; elsewhere the test says it did
//! not run and passes. The browser is required as in `browser.rs`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::browser::{
    browser, browser_available, browser_with, corpus_node, runtime, start_driver,
};
use crate::net::Net;
use crate::web::first_of;

/// How long one page may take to settle.
const SETTLE: Duration = Duration::from_secs(30);

/// The widths checked: a desktop and a phone (CSS pixels).
const WIDTHS: [(&str, u32, u32); 2] = [("desktop", 1280, 900), ("phone", 375, 812)];

/// The rule tags that make up WCAG 2.1 A and AA in axe-core.
const TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// axe-core's `axe.min.js`, or `None` (said, or a failure when required).
fn axe_source() -> Option<String> {
    let path = std::env::var_os("HUBNET_AXE_JS").map(PathBuf::from);
    let source = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
    if source.is_none() {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_AXE").is_none(),
            "HUBNET_REQUIRE_AXE is set but HUBNET_AXE_JS ({path:?}) names no axe.min.js: \
             HUBNET_AXE_JS=$(tests/a11y/axe-core.sh)"
        );
        eprintln!(
            "accessibility check NOT RUN: no axe-core (HUBNET_AXE_JS=$(tests/a11y/axe-core.sh); \
             .ci/run does)"
        );
    }
    source
}

/// One page to check: a label, its path, and a CSS selector that must match once it shows
/// what it is for (empty: the generic settling is enough).
struct Page {
    label: String,
    path: String,
    shows: &'static str,
}

fn pages(net: &Net) -> Vec<Page> {
    let page = |label: &str, path: &str, shows| Page {
        label: label.to_owned(),
        path: path.to_owned(),
        shows,
    };
    let mut pages = vec![
        page("search", "/", "[data-testid=result]"),
        page(
            "search with filters",
            "/?kind=event&country=KZ&created_from=2020-01-01",
            ".chips .chip",
        ),
    ];
    for &kind in hubnet_node::kinds::CONTENT_KINDS {
        let shows = if kind == "programme" {
            "[data-testid=participant]"
        } else {
            "[data-testid=verify-status][data-verified=true]"
        };
        pages.push(page(
            &format!("{kind} record"),
            &format!("/records/{}", first_of(net, kind)),
            shows,
        ));
    }
    pages.extend([
        page(
            "calendar",
            "/calendar",
            ".calendar-grid, [data-testid=calendar-event], [data-testid=calendar-next-event]",
        ),
        page(
            "compare",
            "/compare",
            "[data-testid=compare-countries] input",
        ),
        page(
            "compare two countries",
            "/compare?country=KZ&country=KG",
            "table",
        ),
        page("directory", "/directory", "[data-testid=directory-entry]"),
        page("country", "/countries/KZ", "h2"),
        page("network", "/network", "[data-testid=members-row]"),
        page("members", "/members", "[data-testid=members-row]"),
        page("audit", "/audit", "[data-testid=audit-member]"),
    ]);
    pages
}

/// Whether the page has settled in `lang` and shows `shows`.
const SETTLED: &str = r#"
const [lang, shows] = arguments;
const main = document.getElementById('main');
if (!main || main.getAttribute('aria-busy') === 'true') return false;
if (document.documentElement.lang !== lang) return false;
if (document.querySelector('.loading')) return false;
if (document.querySelector('[data-verified="pending"], [data-state="pending"]')) return false;
return !shows || document.querySelector(shows) !== null;
"#;

async fn settle(c: &Client, lang: &str, page: &Page) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let done = c
            .execute(SETTLED, vec![json!(lang), json!(page.shows)])
            .await
            .ok()
            .and_then(|v| v.as_bool())
            == Some(true);
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} ({lang}) did not settle (showing {:?}); page: {}",
            page.label,
            page.shows,
            c.source()
                .await
                .unwrap_or_default()
                .chars()
                .take(3000)
                .collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
    }
}

/// Runs axe on the page (injecting it first); returns its violations, each cut to what a
/// reader needs: the rule, its impact, its help and the first nodes' targets and summaries.
async fn violations(c: &Client, axe: &str) -> Vec<Value> {
    let here = c.execute("return typeof axe === 'object';", vec![]).await;
    if here.ok().and_then(|v| v.as_bool()) != Some(true) {
        c.execute(&format!("{axe}\n;return true;"), vec![])
            .await
            .expect("axe-core runs in the page");
    }
    let run = r#"
const [tags, done] = arguments;
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then((r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary })),
  }))))
  .catch((e) => done([{ id: 'axe-error', help: String(e) }]));
"#;
    let out = c
        .execute_async(run, vec![json!(TAGS)])
        .await
        .expect("axe.run answers");
    match out {
        Value::Array(v) => v,
        other => panic!("axe.run answered no list of violations: {other}"),
    }
}

/// The languages the page's language switch offers.
async fn languages(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('#lang-switch option')].map((o) => o.value);",
            vec![],
        )
        .await
        .expect("the language switch");
    serde_json::from_value(v).expect("a list of languages")
}

/// One browser's pass over every page in every language.
struct Run<'a> {
    c: &'a Client,
    axe: &'a str,
    base: &'a str,
    pages: &'a [Page],
    /// The width and colour scheme, as the report names them.
    view: &'a str,
}

impl Run<'_> {
    /// Checks every page in each of `langs`; adds what axe finds to `found`; returns how many
    /// page views it checked.
    async fn every_language(&self, langs: &[String], found: &mut Vec<Value>) -> usize {
        let mut checked = 0;
        for lang in langs {
            self.c
                .execute(
                    "localStorage.setItem('hubnet.lang', arguments[0]);",
                    vec![json!(lang)],
                )
                .await
                .expect("the language is set");
            for page in self.pages {
                self.c
                    .goto(&format!("{}{}", self.base, page.path))
                    .await
                    .expect("goto");
                settle(self.c, lang, page).await;
                let v = violations(self.c, self.axe).await;
                checked += 1;
                eprintln!(
                    "axe-core: {} {lang} {} ({}): {} violations",
                    self.view,
                    page.label,
                    page.path,
                    v.len()
                );
                if !v.is_empty() {
                    found.push(json!({"page": page.label, "path": page.path,
                                      "lang": lang, "view": self.view, "violations": v}));
                }
            }
        }
        checked
    }
}

#[test]
fn every_page_in_every_language_at_desktop_and_phone_widths_passes_axe_for_wcag_2_1_aa() {
    if !browser_available() {
        return;
    }
    let Some(axe) = axe_source() else {
        return;
    };
    let (net, _, _) = corpus_node();
    let base = net.nodes[0].http.clone();
    let pages = pages(&net);
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    runtime().block_on(async {
        let c = browser(&driver, profile.path(), WIDTHS[0].1, WIDTHS[0].2).await;
        c.goto(&format!("{base}/")).await.expect("the search page");
        let langs = languages(&c).await;
        assert!(langs.len() >= 3, "languages offered: {langs:?}");
        // The page keeps its policy: axe runs beside it, not because it was lifted.
        let csp: String = serde_json::from_value(
            c.execute(
                "return fetch(location.href).then((r) => r.headers.get('content-security-policy'));",
                vec![],
            )
            .await
            .expect("the policy"),
        )
        .expect("a policy");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        // A control: axe really looks (an image with no text alternative, and an empty named
        // div as the search page's chips once were), and the page is loaded afresh after it.
        c.execute(
            "const main = document.getElementById('main');\
             const img = document.createElement('img'); img.src = '/ui/favicon.svg'; main.append(img);\
             const d = document.createElement('div'); d.setAttribute('aria-label', 'Active filters');\
             main.append(d);",
            vec![],
        )
        .await
        .expect("planted violations");
        let planted: Vec<Value> = violations(&c, &axe).await;
        let ids: Vec<&str> = planted.iter().filter_map(|v| v["id"].as_str()).collect();
        assert!(
            ids.contains(&"image-alt") && ids.contains(&"aria-prohibited-attr"),
            "axe-core did not report the planted violations: {planted:?}"
        );
        let mut found = Vec::new();
        let mut checked = 0;
        for (width_name, width, height) in WIDTHS {
            c.set_window_size(width, height).await.expect("resize");
            let view = format!("{width_name}, light");
            let run = Run { c: &c, axe: &axe, base: &base, pages: &pages, view: &view };
            checked += run.every_language(&langs, &mut found).await;
        }
        let _ = c.close().await;

        // The dark colour scheme (the stylesheet has one), at the desktop width.
        let dark_profile = tempfile::tempdir().expect("profile dir");
        let (_, width, height) = WIDTHS[0];
        let dark = browser_with(
            &driver,
            dark_profile.path(),
            width,
            height,
            &["--blink-settings=preferredColorScheme=0".to_owned()],
        )
        .await;
        dark.goto(&format!("{base}/")).await.expect("the search page");
        let is_dark = dark
            .execute("return matchMedia('(prefers-color-scheme: dark)').matches;", vec![])
            .await
            .expect("the colour scheme");
        assert_eq!(is_dark, json!(true), "Chromium prefers the dark scheme");
        let run = Run { c: &dark, axe: &axe, base: &base, pages: &pages, view: "desktop, dark" };
        checked += run.every_language(&langs, &mut found).await;
        let _ = dark.close().await;
        eprintln!(
            "axe-core: {checked} page views ({} pages × {} languages × {} widths, light; and at \
             the desktop width, dark)",
            pages.len(),
            langs.len(),
            WIDTHS.len()
        );
        assert!(
            found.is_empty(),
            "WCAG 2.1 AA violations found by axe-core:\n{}",
            serde_json::to_string_pretty(&found).unwrap_or_default()
        );
    });
}

#[test]
fn a_date_inputs_calendar_button_has_the_sites_focus_ring() {
    if !browser_available() {
        return;
    }
    let (net, _, _) = corpus_node();
    let base = net.nodes[0].http.clone();
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    runtime().block_on(async {
        let c = browser(&driver, profile.path(), WIDTHS[0].1, WIDTHS[0].2).await;
        let ring = date_input_focus_ring(&c, &base).await;
        let _ = c.close().await;
        ring.check();
    });
}

/// What the focus ring of the search page's date input looks like when its calendar button has
/// the keyboard focus.
struct DateRing {
    /// The computed outline of the input while its calendar button is focused (null if the
    /// focus never stayed in the input).
    outline: Value,
}

impl DateRing {
    fn check(&self) {
        let o = &self.outline;
        assert_eq!(o["within"], true, "the focus was inside the input: {o}");
        assert_eq!(o["style"], "solid", "the site's ring, not Chromium's: {o}");
        assert!(
            o["width"].as_str().is_some_and(|w| w == "3px"),
            "the site's 3px ring: {o}"
        );
    }
}

/// Tabs from the "published from" field into its calendar button and reads the outline drawn.
async fn date_input_focus_ring(c: &Client, base: &str) -> DateRing {
    c.goto(&format!("{base}/")).await.expect("the search page");
    let input = c
        .wait()
        .at_most(SETTLE)
        .for_element(Locator::Css("input[type=date]"))
        .await
        .expect("a date input");
    c.execute(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
        vec![serde_json::to_value(&input).expect("element")],
    )
    .await
    .expect("scroll");
    // Into the date's fields from the keyboard, then on to its calendar button.
    input.send_keys("1").await.expect("type into the date");
    let tab = "\u{e004}";
    // Tab until the focus leaves the input: the last place inside it is its calendar button.
    let mut outline = Value::Null;
    for _ in 0..8 {
        c.active_element()
            .await
            .expect("focus")
            .send_keys(tab)
            .await
            .expect("a tab");
        let now = c
            .execute(
                "const i = document.querySelector('input[type=date]');\
                 const s = getComputedStyle(i);\
                 return { focused: document.activeElement === i, visible: i.matches(':focus-visible'), focus: i.matches(':focus'), within: i.matches(':focus-within'),\
                          style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor };",
                vec![],
            )
            .await
            .expect("the input's outline");
        if now["focused"] != true {
            break;
        }
        outline = now;
    }
    DateRing { outline }
}
