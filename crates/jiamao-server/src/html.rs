//! The frame of every page (header with the account, navigation by role, logout, the language
//! switch), the login and error pages, and the small pieces the pages share. Rendering is pure: a
//! view in, HTML out; every piece of data goes through [`escape`] on its way into the page, and
//! every word comes from the translations ([`crate::i18n::t`]).

use crate::i18n::{fill, key, t, Lang};
use chrono::NaiveDate;
use jiamao_domain::access::Role;
use std::fmt::Write as _;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a value for one path segment of a URL (everything but RFC 3986 unreserved).
pub(crate) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "\
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.5}
a{color:#0b5cad}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.4rem .8rem;z-index:2}
.skip:focus{left:.5rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
[aria-busy=true]{opacity:.6;transition:opacity .2s}
header{background:#0b3d66;color:#fff}
header .bar{max-width:80rem;margin:0 auto;padding:.6rem 1.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.5rem}
header a{color:#fff}
header .site{font-weight:600;font-size:1.1rem;text-decoration:none}
header nav ul{list-style:none;margin:0;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
header nav a{text-decoration:none;padding:.15rem 0;border-bottom:2px solid transparent}
header nav a[aria-current=page]{border-bottom-color:#f0a500}
header .account{margin-left:auto;display:flex;align-items:center;gap:.8rem;flex-wrap:wrap;font-size:.92rem}
header .role{opacity:.85}
header button{background:transparent;color:#fff;border:1px solid #9fb8cf;border-radius:4px;padding:.15rem .6rem;font:inherit;cursor:pointer}
main{max-width:80rem;margin:1.2rem auto;padding:0 1.5rem}
h1{font-size:1.45rem;margin:.2rem 0 1rem}
h2{font-size:1.12rem;margin:1.8rem 0 .6rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;background:#fff;border:1px solid #d0d7de;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600;white-space:nowrap}
tbody tr:nth-child(even){background:#f9fbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nw{white-space:nowrap}
table.wide{font-size:.82rem}
table.wide th,table.wide td{padding:.25rem .4rem}
table.wide th{white-space:normal;vertical-align:bottom;min-width:3.5em}
td.neg{color:#b42318}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;border:1px solid #d0d7de;padding:.8rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
p.note{color:#57606a;font-size:.9rem}
.alerts{list-style:none;padding:0;margin:0 0 1rem}
.alerts li{background:#fff4e5;border:1px solid #f0a500;border-left-width:6px;padding:.45rem .8rem;margin:.3rem 0}
.alerts li.bad{background:#fdecea;border-color:#b42318}
.ok{color:#1a7f37}
.error,[role=alert]{color:#b42318}
.state{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85rem;background:#eef2f6;white-space:nowrap}
.state-accepted,.state-posted{background:#dafbe1}
.state-questioned,.state-consulting,.state-duplicate{background:#fff4e5}
.state-adjusted,.state-rejected{background:#fdecea}
form.inline{display:inline;margin:0}
button{font:inherit;padding:.25rem .8rem;border-radius:4px;border:1px solid #8c959f;background:#fff;cursor:pointer;white-space:nowrap}
button.primary{background:#0b5cad;color:#fff;border-color:#0b5cad}
.field{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.4rem 0}
.panel{background:#fff;border:1px solid #d0d7de;padding:.2rem 1rem .8rem;margin:.8rem 0}
.chart{display:block;background:#fff;border:1px solid #d0d7de;padding:.5rem;width:100%;max-width:64rem;height:auto}
footer{max-width:80rem;margin:2rem auto;padding:1rem 1.5rem;border-top:1px solid #d0d7de;color:#57606a;font-size:.85rem}
code{background:#eef2f6;padding:0 .25rem;border-radius:3px}
nav.subnav ul{list-style:none;margin:0 0 .6rem;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.92rem}
nav.subnav a[aria-current=page]{font-weight:600;text-decoration:none;border-bottom:2px solid #f0a500}
form.filters{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;align-items:center;padding:.5rem 1rem}
form.filters .field{margin:.2rem 0}
input,select,textarea{font:inherit;padding:.2rem .35rem;border:1px solid #8c959f;border-radius:4px;background:#fff;max-width:100%}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b42318;outline:1px solid #b42318}
input.short{width:5.5em}
textarea{width:100%;min-height:8rem;font-family:ui-monospace,monospace;font-size:.85rem}
th a.sort{color:inherit;text-decoration:none;display:block}
th a.sort:hover,th a.sort:focus-visible{text-decoration:underline}
th[aria-sort=ascending],th[aria-sort=descending]{background:#dde6ef}
nav.pager{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;margin:.5rem 0 1rem;font-size:.9rem}
nav.pager .off{color:#8c959f}
table.inner{font-size:.85rem;margin:.3rem 0}
table.inner td{white-space:nowrap}
details summary{cursor:pointer;color:#0b5cad}
ul.plain{list-style:none;margin:0;padding:0}
.flags{display:flex;flex-wrap:wrap;gap:.25rem}
.flag{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.82rem;background:#fff4e5;border:1px solid #f0a500;white-space:nowrap}
.flag.bad{background:#fdecea;border-color:#b42318}
.banner{padding:.6rem 1rem;border:1px solid #d0d7de;border-left-width:6px;background:#fff;margin:.6rem 0}
.banner.ok{border-left-color:#1a7f37}
.banner.bad{border-left-color:#b42318}
.grid-form{display:grid;grid-template-columns:minmax(8rem,14rem) minmax(0,26rem);gap:.45rem .8rem;align-items:center}
.grid-form .span{grid-column:1/-1}
@media (max-width:60rem){
header .bar,main,footer{padding-left:.8rem;padding-right:.8rem}
header .account{margin-left:0}
h1{font-size:1.25rem}
table{font-size:.82rem}
dl.facts{grid-template-columns:1fr}
form.filters{gap:.1rem 1rem}
nav.pager{font-size:.85rem}
}
@media (max-width:40rem){
.grid-form{grid-template-columns:1fr}
form.filters,form.filters .field{flex-direction:column;align-items:stretch}
}
";

/// The one script of the pages (no library): forms and sort/page links inside the page's `<main>`
/// are sent with `fetch` and only their region is replaced (the element with `data-region` around
/// them, else all of `<main>`), as htmx would; the address follows for GET forms and links, and the
/// back button works. A field with `data-check` is checked as it changes by `GET /check`, the same
/// rule the form's handler and the API apply, its message shown next to it. Without the script every
/// form and link works as plain HTML.
const SCRIPT: &str = r#"(function () {
  'use strict';
  var main = document.getElementById('main'), live = document.getElementById('jm-status');
  var T = { loading: document.body.getAttribute('data-loading') || '', updated: document.body.getAttribute('data-updated') || '', failed: document.body.getAttribute('data-failed') || '' };
  function say(text) { live.textContent = text; }
  function rerun(root) {
    root.querySelectorAll('script').forEach(function (old) {
      if (old.type && old.type !== 'text/javascript') { return; }
      var s = document.createElement('script'); s.textContent = old.textContent; old.replaceWith(s);
    });
  }
  function swap(text, regionId) {
    var doc = new DOMParser().parseFromString(text, 'text/html');
    var fresh = regionId ? doc.getElementById(regionId) : null, target = regionId ? document.getElementById(regionId) : null;
    var newMain = doc.getElementById('main');
    if (!fresh || !target) { if (!newMain) { return null; } main.innerHTML = newMain.innerHTML; target = main; }
    else { target.replaceWith(fresh); target = fresh; }
    document.title = doc.title;
    var sw = doc.querySelector('[data-testid="lang-switch"]'), mine = document.querySelector('[data-testid="lang-switch"]');
    if (sw && mine) { mine.setAttribute('href', sw.getAttribute('href')); }
    rerun(target);
    return target;
  }
  function settle(target, activeId) {
    var again = activeId ? document.getElementById(activeId) : null;
    var focus = again && target.contains(again) ? again : (target.querySelector('[role=alert], [aria-invalid=true]') || target.querySelector('h1, h2') || target);
    if (!focus.hasAttribute('tabindex') && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA|SUMMARY)$/.test(focus.tagName)) { focus.setAttribute('tabindex', '-1'); }
    focus.focus({ preventScroll: focus === again });
    say(T.updated.replace('{title}', document.title));
  }
  function go(method, url, body, headers, regionId, push, fallback) {
    var busy = (regionId && document.getElementById(regionId)) || main;
    var activeId = document.activeElement && document.activeElement.id;
    busy.setAttribute('aria-busy', 'true'); say(T.loading);
    fetch(url, { method: method, body: body, headers: headers, credentials: 'same-origin' }).then(function (r) {
      return r.text().then(function (text) {
        busy.removeAttribute('aria-busy');
        var ct = r.headers.get('content-type') || '';
        if (r.redirected && new URL(r.url).pathname === '/login') { location.assign(r.url); return; }
        if (ct.indexOf('text/html') !== 0) { say(T.failed + ' (HTTP ' + r.status + ')'); return; }
        var target = swap(text, regionId);
        if (!target) { fallback(); return; }
        if (push || r.redirected) { history.pushState({ jiamao: true }, '', r.url); }
        settle(target, activeId);
      });
    }).catch(function () { busy.removeAttribute('aria-busy'); say(T.failed); if (method === 'GET') { fallback(); } });
  }
  function region(el) { var r = el.closest('[data-region]'); return r && r.id ? r.id : null; }
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || !main.contains(form) || form.hasAttribute('data-full')) { return; }
    ev.preventDefault();
    var data = new FormData(form, ev.submitter || undefined);
    // Attributes, not properties: a field named "action" or "method" would shadow them.
    var method = (form.getAttribute('method') || 'get').toUpperCase(), id = region(form);
    var action = new URL(form.getAttribute('action') || location.href, location.href);
    if (method === 'GET') {
      var u = new URL(action.href); u.hash = '';
      u.search = new URLSearchParams(Array.from(data.entries()).filter(function (e) { return typeof e[1] === 'string'; })).toString();
      go('GET', u.href, null, {}, id, true, function () { location.assign(u.href); });
    } else {
      var token = form.querySelector('input[name="_csrf"]');
      var multipart = (form.getAttribute('enctype') || '').toLowerCase() === 'multipart/form-data';
      go('POST', action.href, multipart ? data : new URLSearchParams(data), { 'X-CSRF-Token': token ? token.value : '' }, id, false, function () {});
    }
  });
  document.addEventListener('click', function (ev) {
    var a = ev.target.closest && ev.target.closest('a[data-partial]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey || !main.contains(a)) { return; }
    ev.preventDefault();
    go('GET', a.href, null, {}, region(a), true, function () { location.assign(a.href); });
  });
  window.addEventListener('popstate', function () { go('GET', location.href, null, {}, null, false, function () { location.reload(); }); });
  function show(input, message) {
    var id = input.id + '-error', el = document.getElementById(id);
    var described = (input.getAttribute('aria-describedby') || '').split(' ').filter(function (x) { return x && x !== id; });
    if (!message) {
      input.removeAttribute('aria-invalid'); if (el) { el.remove(); }
      if (described.length) { input.setAttribute('aria-describedby', described.join(' ')); } else { input.removeAttribute('aria-describedby'); }
      return;
    }
    if (!el) { el = document.createElement('span'); el.id = id; el.className = 'error'; el.setAttribute('role', 'alert'); el.setAttribute('data-testid', 'field-error'); input.insertAdjacentElement('afterend', el); }
    el.textContent = message; input.setAttribute('aria-invalid', 'true');
    described.push(id); input.setAttribute('aria-describedby', described.join(' '));
  }
  document.addEventListener('change', function (ev) {
    var input = ev.target, rule = input.getAttribute && input.getAttribute('data-check');
    if (!rule || !input.id) { return; }
    var value = input.value.trim();
    if (value === '') { show(input, ''); return; }
    fetch('/check?rule=' + encodeURIComponent(rule) + '&value=' + encodeURIComponent(value), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j && input.value.trim() === value) { show(input, j.ok ? '' : j.message); } })
      .catch(function () {});
  });
})();
"#;

/// The account a page is shown to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub login: String,
    pub role: Role,
}

/// What surrounds every page: the language, the account, its navigation and the session's CSRF
/// token for the forms.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub lang: Lang,
    /// The path of the page (for `aria-current` in the navigation).
    pub path: String,
    /// The same page in the other language.
    pub switch_href: String,
    pub account: Option<Account>,
    /// Navigation: (href, translation key).
    pub nav: Vec<(&'static str, &'static str)>,
    /// The pages of a book the account may open: (href suffix after `/books/{book_no}`, key).
    pub book_links: Vec<(&'static str, &'static str)>,
    pub csrf: String,
}

impl Chrome {
    pub(crate) fn t<'a>(&self, k: &'a str) -> &'a str {
        t(self.lang, k)
    }
}

/// The translation key of a role's name.
pub(crate) fn role_key(role: Role) -> &'static str {
    match role {
        Role::EnterpriseOperator => key("role.enterprise_operator"),
        Role::EnterpriseAdmin => key("role.enterprise_admin"),
        Role::CustomsOfficer => key("role.customs_officer"),
        Role::CustomsSupervisor => key("role.customs_supervisor"),
        Role::CommerceOfficer => key("role.commerce_officer"),
        Role::TaxOfficer => key("role.tax_officer"),
        Role::FxOfficer => key("role.fx_officer"),
        Role::InspectionOfficer => key("role.inspection_officer"),
        Role::Bank => key("role.bank"),
        Role::Auditor => key("role.auditor"),
        Role::Admin => key("role.admin"),
    }
}

/// The hidden field that carries the session's CSRF token in a form.
pub(crate) fn csrf_field(c: &Chrome) -> String {
    format!("<input type=\"hidden\" name=\"_csrf\" value=\"{}\">", escape(&c.csrf))
}

/// A whole page around `body` (already HTML).
pub(crate) fn page(c: &Chrome, title: &str, body: &str) -> String {
    let l = c.lang;
    let site = t(l, "site.name");
    let full_title = if title.is_empty() || title == site { site.to_owned() } else { format!("{title} — {site}") };
    let mut nav = String::new();
    for (href, label) in &c.nav {
        let current = if c.path == *href { " aria-current=\"page\"" } else { "" };
        let _ = write!(nav, "<li><a href=\"{href}\"{current}>{}</a></li>", escape(t(l, label)));
    }
    let account = match &c.account {
        Some(a) => format!(
            "<span data-testid=\"account\"><span class=\"login\">{login}</span> <span class=\"role\">{role}</span></span>\n<form class=\"inline\" method=\"post\" action=\"/logout\">{csrf}<button type=\"submit\" data-testid=\"logout\">{logout}</button></form>\n",
            login = escape(&a.login),
            role = escape(t(l, role_key(a.role))),
            csrf = csrf_field(c),
            logout = escape(t(l, "nav.logout")),
        ),
        None => String::new(),
    };
    let nav = if nav.is_empty() { String::new() } else { format!("<nav aria-label=\"{}\"><ul>{nav}</ul></nav>\n", escape(t(l, "nav.label"))) };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body data-loading=\"{loading}\" data-updated=\"{updated}\" data-failed=\"{failed}\">\n<a class=\"skip\" href=\"#main\">{skip}</a>\n<header><div class=\"bar\">\n<a class=\"site\" href=\"/\">{site}</a>\n{nav}<div class=\"account\">\n{account}<a data-testid=\"lang-switch\" href=\"{switch}\" hreflang=\"{other}\" lang=\"{other_html}\">{switch_text}</a>\n</div>\n</div></header>\n<main id=\"main\">\n{body}</main>\n<footer>{api}: <a href=\"/api/v1/books\"><code>/api/v1</code></a> · {openapi}: <a href=\"/api/openapi.json\"><code>/api/openapi.json</code></a> · {format}</footer>\n<p id=\"jm-status\" class=\"sr-only\" role=\"status\" aria-live=\"polite\"></p>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        html_lang = l.html_lang(),
        title = escape(&full_title),
        skip = escape(t(l, "nav.skip")),
        site = escape(site),
        switch = escape(&c.switch_href),
        other = l.other().code(),
        other_html = l.other().html_lang(),
        switch_text = escape(t(l, "lang.switch")),
        api = escape(t(l, "footer.api")),
        openapi = escape(t(l, "footer.openapi")),
        format = escape(t(l, "footer.format")),
        loading = escape(t(l, "ui.loading")),
        updated = escape(t(l, "ui.updated")),
        failed = escape(t(l, "ui.failed")),
    )
}

/// A date of a form as sent: its text, the date when it is one, and whether it was refused (by the
/// API's strict `YYYY-MM-DD` rule, `crate::api::query_date`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DateField {
    /// The form field's name (also its id).
    pub name: &'static str,
    pub raw: String,
    pub value: Option<NaiveDate>,
    pub invalid: bool,
}

/// What ties a refused field to its message: the input's attributes (`aria-invalid`,
/// `aria-describedby`) and the message after it (`role="alert"`); nothing for a field that passed.
fn field_message(id: &str, testid: &str, error: Option<&str>) -> (String, String) {
    match error {
        Some(m) => {
            (format!(" aria-invalid=\"true\" aria-describedby=\"{id}-error\""), format!(" <span id=\"{id}-error\" class=\"error\" role=\"alert\" data-testid=\"{testid}\">{}</span>", escape(m)))
        }
        None => (String::new(), String::new()),
    }
}

/// A refused request shown where its form is: a lead (`lead_key`), the rule and the library's message.
pub(crate) fn refusal(c: &Chrome, lead_key: &str, testid: &str, (rule, message): &(String, String)) -> String {
    format!("<p role=\"alert\" class=\"error\" data-testid=\"{testid}\">{} <code>{}</code> {}</p>\n", escape(c.t(lead_key)), escape(rule), escape(message))
}

/// A labelled date input; a refused value keeps its text and gets its message inline, tied to the
/// input (`aria-invalid`, `aria-describedby`).
pub(crate) fn date_input(c: &Chrome, f: &DateField, label_key: &str) -> String {
    let id = f.name;
    let value = f.value.map(|d| d.to_string()).unwrap_or_else(|| f.raw.clone());
    let message = f.invalid.then(|| fill(c.t("form.bad_date"), &[("value", &f.raw)]));
    let (invalid, message) = field_message(id, "date-error", message.as_deref());
    format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label> <input type=\"date\" id=\"{id}\" name=\"{id}\" value=\"{value}\" data-check=\"date\"{invalid}>{message}</div>",
        label = escape(c.t(label_key)),
        value = escape(&value),
    )
}

/// A labelled input of a two-column form (`.grid-form`): the label, then the input with its rule
/// (`data-check`, checked as it changes) and, when the form came back refused, its message tied to
/// it (`aria-invalid`, `aria-describedby`). `attrs` are further attributes (already HTML).
pub(crate) fn grid_input(c: &Chrome, id: &str, label_key: &str, value: &str, rule: Option<crate::forms::Rule>, error: Option<&str>, attrs: &str) -> String {
    let check = rule.map(|r| format!(" data-check=\"{}\"", r.as_str())).unwrap_or_default();
    let (invalid, message) = field_message(id, "field-error", error);
    format!(
        "<label for=\"{id}\">{label}</label><span><input id=\"{id}\" name=\"{id}\" value=\"{value}\"{check}{attrs}{invalid}>{message}</span>\n",
        label = escape(c.t(label_key)),
        value = escape(value),
    )
}

/// A table header cell.
pub(crate) fn th(c: &Chrome, k: &str, numeric: bool) -> String {
    let class = if numeric { " class=\"num\"" } else { "" };
    format!("<th scope=\"col\"{class}>{}</th>", escape(c.t(k)))
}

/// The header cells of a table: each key translated, numeric columns right-aligned.
pub(crate) fn head_cells(c: &Chrome, columns: &[(&str, bool)]) -> String {
    columns.iter().map(|(k, numeric)| th(c, k, *numeric)).collect()
}

pub(crate) fn td(text: &str) -> String {
    format!("<td>{}</td>", escape(text))
}

/// A cell that does not wrap (dates, numbers of lists and books, codes).
pub(crate) fn td_nw(text: &str) -> String {
    format!("<td class=\"nw\">{}</td>", escape(text))
}

/// A number cell (right-aligned; negative figures marked).
pub(crate) fn td_num(text: &str) -> String {
    let class = if text.starts_with('-') { "num neg" } else { "num" };
    format!("<td class=\"{class}\">{}</td>", escape(text))
}

/// A definition list of facts: (translation key, value).
pub(crate) fn facts(c: &Chrome, rows: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"facts\">\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(c.t(k)), escape(v));
    }
    out.push_str("</dl>\n");
    out
}

/// `GET /login`: the login form (posts to `/login`; no script needed).
pub(crate) fn login(c: &Chrome, error: Option<&str>, next: &str) -> String {
    let error = error.map(|e| format!("<p role=\"alert\">{}</p>\n", escape(e))).unwrap_or_default();
    let body = format!(
        "<h1>{title}</h1>\n{error}<form method=\"post\" action=\"/login\" class=\"panel\" style=\"display:grid;gap:.7rem;max-width:24rem\">\n<input type=\"hidden\" name=\"next\" value=\"{next}\">\n<label for=\"login\">{login}</label>\n<input id=\"login\" name=\"login\" autocomplete=\"username\" required autofocus>\n<label for=\"password\">{password}</label>\n<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\n<button type=\"submit\" class=\"primary\">{submit}</button>\n</form>\n<p class=\"note\">{hint}</p>\n",
        title = escape(c.t("login.title")),
        next = escape(next),
        login = escape(c.t("login.login")),
        password = escape(c.t("login.password")),
        submit = escape(c.t("login.submit")),
        hint = escape(c.t("login.hint")),
    );
    page(c, c.t("login.title"), &body)
}

/// An error page: what went wrong, in the same frame.
pub(crate) fn error(c: &Chrome, heading_key: &str, text_key: &str, rule: &str, message: &str) -> String {
    let body = format!(
        "<h1>{heading}</h1>\n<p>{text}</p>\n<p class=\"note\"><code>{rule}</code> {message}</p>\n<p><a href=\"/\">{back}</a></p>\n",
        heading = escape(c.t(heading_key)),
        text = escape(c.t(text_key)),
        rule = escape(rule),
        message = escape(message),
        back = escape(c.t("error.back")),
    );
    page(c, c.t(heading_key), &body)
}

/// A labelled text input (`label` and `error` already translated); a refused value keeps its text
/// and gets its message inline, tied to the input (`aria-invalid`, `aria-describedby`) as in
/// [`date_input`]. `attrs` are further attributes of the input (already HTML).
pub(crate) fn text_input(id: &str, label: &str, value: &str, error: Option<&str>, attrs: &str) -> String {
    let id = escape(id);
    let (invalid, message) = field_message(&id, "field-error", error);
    format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label> <input type=\"text\" id=\"{id}\" name=\"{id}\" value=\"{value}\"{attrs}{invalid}>{message}</div>",
        label = escape(label),
        value = escape(value),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn chrome(lang: Lang) -> Chrome {
        Chrome {
            lang,
            path: "/".into(),
            switch_href: "/?lang=en".into(),
            account: Some(Account { login: "<op>".into(), role: Role::EnterpriseAdmin }),
            nav: vec![("/", "nav.dashboard")],
            book_links: vec![("", "booknav.book"), ("/lists", "booknav.lists")],
            csrf: "c\"srf".into(),
        }
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("低密度聚乙烯 LDPE"), "低密度聚乙烯 LDPE");
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("C52002600001"), "C52002600001");
        assert_eq!(path_segment("a/b c?#\"<"), "a%2Fb%20c%3F%23%22%3C");
        assert_eq!(path_segment("账"), "%E8%B4%A6");
    }

    #[test]
    fn the_frame_escapes_the_account_and_carries_the_switch() {
        let html = page(&chrome(Lang::Zh), "x", "<p>body</p>");
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains("&lt;op&gt;") && !html.contains("<op>"));
        assert!(html.contains("value=\"c&quot;srf\""));
        assert!(html.contains("data-testid=\"lang-switch\" href=\"/?lang=en\""));
        let html = page(&chrome(Lang::En), "x", "");
        assert!(html.contains("<html lang=\"en\">"));
    }
}
